namespace Faultline.Faults;

/// <summary>The Linux response codes (<c>iommu_page_response_code</c>, framework.md §1.2).</summary>
public enum PageResponseCode : uint
{
    /// <summary>Retry the access (PCIe Success).</summary>
    Success = 0,
    /// <summary>Do not retry (PCIe Invalid Request).</summary>
    Invalid = 1,
    /// <summary>General error; the device should stop issuing page requests (PCIe Response Failure).</summary>
    Failure = 2,
}

/// <summary>The kernel-internal response handed to a driver's page_response op (12 bytes in Linux).</summary>
public readonly record struct PageResponse(uint Pasid, uint GroupId, PageResponseCode Code);

/// <summary>
/// The v5.3–v6.8 uAPI <c>iommu_page_response</c> (20 bytes: version, flags, pasid, grpid, code), kept
/// for R21's historical response path.
/// </summary>
public readonly record struct PageResponseMessage(uint Version, uint Flags, uint Pasid, uint GroupId, PageResponseCode Code)
{
    /// <summary>IOMMU_PAGE_RESP_VERSION_1, the only version the uAPI defined.</summary>
    public const uint Version1 = 1;
    /// <summary>IOMMU_PAGE_RESP_PASID_VALID: the message's PASID is meaningful.</summary>
    public const uint PasidValid = 1;
}
