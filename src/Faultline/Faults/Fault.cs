namespace Faultline.Faults;

/// <summary>Flags of a page-request fault, as the Linux core defines them (framework.md §1.1).</summary>
[Flags]
public enum FaultFlags : uint
{
    /// <summary>No flag set.</summary>
    None = 0,
    /// <summary>IOMMU_FAULT_PAGE_REQUEST_PASID_VALID: <see cref="Fault.Pasid"/> holds the request's PASID.</summary>
    PasidValid = 1 << 0,
    /// <summary>IOMMU_FAULT_PAGE_REQUEST_LAST_PAGE: the request closes its group (PCIe L bit).</summary>
    LastPage = 1 << 1,
    /// <summary>IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID: the response must carry the PASID (PRG Response PASID Required).</summary>
    ResponseNeedsPasid = 1 << 2,
    /// <summary>The request carried private data (VT-d PDP) that its response may have to echo (H-VTD-9).
    /// Linux dropped its own flag for this in v6.9; Faultline keeps it so the policy can choose.</summary>
    PrivateDataValid = 1 << 3,
}

/// <summary>Access rights a fault asks for (framework.md §1.1 <c>perm</c>).</summary>
[Flags]
public enum FaultPermissions : uint
{
    /// <summary>No access right.</summary>
    None = 0,
    /// <summary>IOMMU_FAULT_PERM_READ.</summary>
    Read = 1 << 0,
    /// <summary>IOMMU_FAULT_PERM_WRITE.</summary>
    Write = 1 << 1,
    /// <summary>IOMMU_FAULT_PERM_EXEC: an instruction fetch (PCIe Execute Requested).</summary>
    Exec = 1 << 2,
    /// <summary>IOMMU_FAULT_PERM_PRIV: a privileged-mode access (PCIe Privileged Mode Requested).</summary>
    Priv = 1 << 3,
}

/// <summary>
/// One recoverable page-request fault as an IOMMU driver reports it (the kernel's
/// <c>iommu_fault_page_request</c>): PRG index, STAG or PPR tag in <see cref="GroupId"/>.
/// </summary>
public readonly record struct Fault(
    FaultFlags Flags,
    uint Pasid,
    uint GroupId,
    FaultPermissions Permissions,
    ulong Address,
    ulong PrivateData0 = 0,
    ulong PrivateData1 = 0)
{
    /// <summary>The fault closes its group (<see cref="FaultFlags.LastPage"/>).</summary>
    public bool IsLast => (Flags & FaultFlags.LastPage) != 0;
    /// <summary>The fault carries a PASID (<see cref="FaultFlags.PasidValid"/>).</summary>
    public bool HasPasid => (Flags & FaultFlags.PasidValid) != 0;

    /// <summary>The PASID whose attach handle serves this fault (R9): its PASID if it has one, else 0,
    /// the RID (<c>IOMMU_NO_PASID</c>).</summary>
    public uint RoutedPasid => HasPasid ? Pasid : 0;
}
