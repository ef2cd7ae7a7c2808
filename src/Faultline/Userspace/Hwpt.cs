namespace Faultline.Userspace;

/// <summary>
/// A hardware page table (<c>iommufd_hwpt_paging</c> / <c>iommufd_hwpt_nested</c>): paging on an IOAS, or
/// nested on a nest-parent HWPT or on a vIOMMU. With a <see cref="Fault"/> it is fault-capable: its domain's
/// handler is that queue (R40). Attachments, nested children and vIOMMUs hold it (<see cref="IommufdObject.Users"/>).
/// </summary>
public sealed class Hwpt : IommufdObject
{
    internal Hwpt(uint id, HwptAllocFlags flags, Ioas? ioas, Hwpt? parent, Viommu? viommu, bool isAutoDomain) : base(id)
    {
        Flags = flags;
        Ioas = ioas;
        Parent = parent;
        Viommu = viommu;
        IsAutoDomain = isAutoDomain;
    }

    /// <inheritdoc />
    public override IommufdObjectType Type => IsNested ? IommufdObjectType.HwptNested : IommufdObjectType.HwptPaging;
    /// <summary>The <c>flags</c> of its <c>IOMMU_HWPT_ALLOC</c>.</summary>
    public HwptAllocFlags Flags { get; }

    /// <summary>The IOAS of a paging HWPT.</summary>
    public Ioas? Ioas { get; }

    /// <summary>The nest parent of a nested HWPT allocated on an HWPT.</summary>
    public Hwpt? Parent { get; }

    /// <summary>The vIOMMU of a nested HWPT allocated on one.</summary>
    public Viommu? Viommu { get; }

    /// <summary>A nested HWPT (<c>iommufd_hwpt_nested</c>): on a nest parent or a vIOMMU, not on an IOAS.</summary>
    public bool IsNested => Ioas is null;
    /// <summary>Allocated with <see cref="HwptAllocFlags.NestParent"/>: nested HWPTs and vIOMMUs may sit on it.</summary>
    public bool IsNestParent => (Flags & HwptAllocFlags.NestParent) != 0;

    /// <summary>Made by attaching a device to an IOAS; it goes when its last attachment does.</summary>
    public bool IsAutoDomain { get; }

    /// <summary>May be attached to a PASID: allocated with <see cref="HwptAllocFlags.Pasid"/>, or an auto domain.</summary>
    public bool IsPasidCapable => IsAutoDomain || (Flags & HwptAllocFlags.Pasid) != 0;

    /// <summary>The FAULT object whose queue handles this HWPT's faults (R40), or null.</summary>
    public IommufdFault? Fault { get; internal set; }

    /// <summary>Has a <see cref="Fault"/> object: its faults go to that queue (R40).</summary>
    public bool IsFaultCapable => Fault is not null;

    /// <summary>The name its attach handles carry.</summary>
    public string Domain => IsFaultCapable ? $"iommufd-iopf-hwpt:{Id}" : $"iommufd-hwpt:{Id}";
}
