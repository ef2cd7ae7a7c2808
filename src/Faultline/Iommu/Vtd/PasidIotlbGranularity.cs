namespace Faultline.Iommu.Vtd;

/// <summary>
/// Granularity of a PASID-based IOTLB invalidation, QW0 bits 5:4 (Linux <c>QI_EIOTLB_GRAN(gran)</c> =
/// gran &lt;&lt; 4). Only two values are defined; QEMU's <c>vtd_process_piotlb_desc</c> rejects 0 and 1.
/// </summary>
public enum PasidIotlbGranularity : byte
{
    /// <summary>Every non-global mapping of (domain, PASID): Linux <c>QI_GRAN_NONG_PASID</c>, QEMU <c>VTD_INV_DESC_PIOTLB_ALL_IN_PASID</c>.</summary>
    PasidSelective = 2,

    /// <summary>2^AM pages from the address: Linux <c>QI_GRAN_PSI_PASID</c>, QEMU <c>VTD_INV_DESC_PIOTLB_PSI_IN_PASID</c>.</summary>
    PageSelectiveWithinPasid = 3,
}
