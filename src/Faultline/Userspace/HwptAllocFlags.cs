namespace Faultline.Userspace;

/// <summary><c>iommu_hwpt_alloc.flags</c> (userspace.md §2.4).</summary>
[Flags]
public enum HwptAllocFlags : uint
{
    /// <summary>A plain paging HWPT.</summary>
    None = 0,
    /// <summary><c>IOMMU_HWPT_ALLOC_NEST_PARENT</c>: a paging HWPT nested HWPTs and vIOMMUs may sit on.</summary>
    NestParent = 1u << 0,
    /// <summary><c>IOMMU_HWPT_ALLOC_DIRTY_TRACKING</c>.</summary>
    DirtyTracking = 1u << 1,
    /// <summary><c>IOMMU_HWPT_FAULT_ID_VALID</c>: <c>fault_id</c> names the FAULT object (R40).</summary>
    FaultIdValid = 1u << 2,
    /// <summary><c>IOMMU_HWPT_ALLOC_PASID</c>: the HWPT may be attached to a PASID.</summary>
    Pasid = 1u << 3,
}
