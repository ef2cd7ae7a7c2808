namespace Faultline.Iommu;

/// <summary>
/// What an IOMMU answers for a last page request its full queue discarded (H-VTD-5, H-SMMU-3, H-AMD-2).
/// [UNVERIFIED] in every architecture; the default follows the RISC-V rule (Success: the function
/// retries once space exists).
/// </summary>
public enum DiscardAutoResponse
{
    /// <summary>A PRG Response with Success: the function gets its credit back and retries once there is room (the default).</summary>
    Success,
    /// <summary>No answer at all (QEMU): the function waits until something else frees its credits.</summary>
    None,
}
