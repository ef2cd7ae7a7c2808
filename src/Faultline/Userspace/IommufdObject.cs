namespace Faultline.Userspace;

/// <summary>
/// An object of an <see cref="IommufdContext"/> (<c>struct iommufd_object</c>, framework.md §1.4): an id
/// (never 0), long-term references from other objects and attachments, which make IOMMU_DESTROY fail
/// with EBUSY, and the lookup references of a command in progress, which are 0 between commands.
/// </summary>
public abstract class IommufdObject
{
    private protected IommufdObject(uint id)
    {
        ArgumentOutOfRangeException.ThrowIfZero(id);
        Id = id;
    }

    /// <summary>The object id user space names it by (never 0).</summary>
    public uint Id { get; }
    /// <summary>What kind of object it is (<c>obj->type</c>).</summary>
    public abstract IommufdObjectType Type { get; }

    /// <summary>Long-term references held by other objects, attachments or (for a device) its driver.</summary>
    public virtual int Users => HeldBy;

    /// <summary>Lookup references (<c>iommufd_get_object</c> not yet put). Nonzero between commands is a leak.</summary>
    public int ShortTermUsers { get; internal set; }

    internal int HeldBy { get; set; }

    /// <summary>The type and id, as <c>Hwpt#3</c>.</summary>
    public override string ToString() => $"{Type}#{Id}";
}

/// <summary>An I/O address space (<c>IOMMU_IOAS_ALLOC</c>); paging HWPTs hold it.</summary>
public sealed class Ioas : IommufdObject
{
    internal Ioas(uint id) : base(id)
    {
    }

    /// <inheritdoc />
    public override IommufdObjectType Type => IommufdObjectType.Ioas;
}

/// <summary>
/// The FAULT object (R39): the table entry of a <see cref="UserFaultQueue"/>. Its users are the queue's:
/// one per HWPT allocated with its id (R40) and one for the open fd (R45).
/// </summary>
public sealed class IommufdFault : IommufdObject
{
    internal IommufdFault(UserFaultQueue queue) : base(queue.Id)
    {
        Queue = queue;
    }

    /// <inheritdoc />
    public override IommufdObjectType Type => IommufdObjectType.Fault;
    /// <summary>The queue and file this object stands for.</summary>
    public UserFaultQueue Queue { get; }
    /// <summary>One per HWPT allocated with this fault id (R40), plus one while the fd is open (R45).</summary>
    public override int Users => Queue.HwptReferences + (Queue.FdOpen ? 1 : 0);
}

/// <summary>A vIOMMU (<c>IOMMU_VIOMMU_ALLOC</c>) on a nest-parent HWPT; nested HWPTs and vDEVICEs hold it.</summary>
public sealed class Viommu : IommufdObject
{
    internal Viommu(uint id, Hwpt parent) : base(id)
    {
        Parent = parent;
    }

    /// <inheritdoc />
    public override IommufdObjectType Type => IommufdObjectType.Viommu;
    /// <summary>The nest-parent HWPT the vIOMMU sits on (<c>hwpt_id</c> of <c>IOMMU_VIOMMU_ALLOC</c>).</summary>
    public Hwpt Parent { get; }

    /// <summary>vDEVICEs by virtual id (the guest's RID or stream id for the device).</summary>
    internal SortedDictionary<ulong, Vdevice> VirtIds { get; } = new();
}

/// <summary>
/// A vDEVICE (<c>IOMMU_VDEVICE_ALLOC</c>): the device as the vIOMMU's guest knows it. A device can attach to
/// a nested HWPT of a vIOMMU only once it has one there (R41, S2).
/// </summary>
public sealed class Vdevice : IommufdObject
{
    internal Vdevice(uint id, Viommu viommu, IommufdDevice device, ulong virtId) : base(id)
    {
        Viommu = viommu;
        Device = device;
        VirtId = virtId;
    }

    /// <inheritdoc />
    public override IommufdObjectType Type => IommufdObjectType.Vdevice;
    /// <summary>The vIOMMU the device is known to.</summary>
    public Viommu Viommu { get; }
    /// <summary>The bound device it stands for.</summary>
    public IommufdDevice Device { get; }
    /// <summary><c>virt_id</c>: the device's id in the guest (its virtual RID or stream id).</summary>
    public ulong VirtId { get; }
}
