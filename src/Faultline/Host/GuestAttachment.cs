using Faultline.Iommu;
using Faultline.Sva;
using Faultline.Userspace;

namespace Faultline.Host;

/// <summary>
/// A function given to a guest (or a userspace driver) through iommufd, as a VMM does it: bound, a fault queue,
/// a fault-capable PASID HWPT on it attached at <see cref="Pasid"/> (R39-R41). The guest is the host's actor; the
/// kernel keeps what the kernel has of it: the queue, its POL-5 timer, and POL-9 after a detach.
/// </summary>
public sealed class GuestAttachment
{
    internal GuestAttachment(int id, string name, FunctionPort port, uint pasid, AddressSpace addressSpace, uint devId, UserFaultQueue queue)
    {
        Id = id;
        Name = name;
        Port = port;
        Pasid = pasid;
        AddressSpace = addressSpace;
        DevId = devId;
        Queue = queue;
    }

    /// <summary>Its place in <see cref="HostKernel.Guests"/>, as <see cref="HostAction.Target"/> names it.</summary>
    public int Id { get; }
    /// <summary>The guest's name.</summary>
    public string Name { get; }
    /// <summary>The function given to the guest.</summary>
    public FunctionPort Port { get; }
    /// <summary>The PASID the fault-capable HWPT is attached at.</summary>
    public uint Pasid { get; }
    /// <summary>The guest's stage-1 address space, the translation at its PASID.</summary>
    public AddressSpace AddressSpace { get; }
    /// <summary>The function's iommufd device id (the records' dev_id).</summary>
    public uint DevId { get; }
    /// <summary>The iommufd fault queue the guest reads faults from and writes responses to.</summary>
    public UserFaultQueue Queue { get; }
    /// <summary>The host detached the function from the guest's HWPT (<see cref="HostKernel.DetachGuest"/>); false
    /// while a detach drains the PASID (VT-d, R43).</summary>
    public bool Detached { get; internal set; }
    /// <summary>A detach is under way or done: the PASID's entry is gone.</summary>
    public bool Detaching => DetachStartedAt is not null;
    /// <summary>When <see cref="HostKernel.DetachGuest"/> began, if it did.</summary>
    public long? DetachStartedAt { get; internal set; }
    /// <summary>The drain a detach waits for before the handle goes (VT-d), while it runs.</summary>
    internal IPasidDrain? DetachDrain { get; set; }
    /// <summary>Credits the POL-9 PRI reset gave back to the device.</summary>
    public long CreditsRecoveredByReset { get; internal set; }
    /// <summary>When the POL-5 timer of the queue is due, if armed.</summary>
    internal long? DeadlineArmedAt { get; set; }
}

/// <summary>The trace a host may keep of what the kernel does (the simulator's Perfetto trace).</summary>
public interface IHostTrace
{
    /// <summary>A span on a thread of a process; spans on one thread nest.</summary>
    void Span(string process, string thread, string name, long startNs, long durationNs, string category, params (string Key, string Value)[] args);
    /// <summary>An interval on a track of a process, which may overlap others on that track.</summary>
    void Interval(string process, string track, string name, long startNs, long endNs, string category, params (string Key, string Value)[] args);
    /// <summary>A moment on a thread of a process.</summary>
    void Instant(string process, string thread, string name, long timeNs, string category, params (string Key, string Value)[] args);
    /// <summary>A moment for the whole trace, such as a broken invariant.</summary>
    void GlobalInstant(string name, long timeNs, string category, params (string Key, string Value)[] args);
    /// <summary>A counter of a process takes a new value, such as a ring's fill.</summary>
    void Counter(string process, string name, long timeNs, long value);
}
