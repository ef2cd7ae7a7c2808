namespace Faultline.Faults;

/// <summary>Where a group is in its life (F12: explicit ownership instead of implicit ordering).</summary>
public enum FaultGroupState
{
    /// <summary>In the pool: not reported yet, or freed (R19); handles to it resolve to nothing.</summary>
    Free,
    /// <summary>Reported, on its device's pending list, owned by the handler until answered.</summary>
    Pending,
    /// <summary>Answered; the handler still has to free it (R19).</summary>
    Responded,
}

/// <summary>
/// A stable reference to a pooled group: slot plus generation. A handle to a group that was
/// freed, or whose slot now holds another group, resolves to nothing (POL-7, R20), in O(1).
/// </summary>
public readonly record struct FaultGroupHandle(int Slot, uint Generation)
{
    /// <inheritdoc />
    public override string ToString() => $"group#{Slot}.{Generation}";
}

/// <summary>
/// The faults of one page request group, last fault at the tail (R13, R14): the
/// kernel's <c>iopf_group</c>. Groups are pooled by the framework and reached through handles.
/// </summary>
public sealed class FaultGroup
{
    private Fault[] _faults = new Fault[4];

    internal FaultGroup(int slot) => Slot = slot;

    internal int Slot { get; }
    internal uint Generation { get; set; }

    // Links in the device's pending list (newest first, as Linux inserts at the head).
    internal FaultGroup? PendingPrev { get; set; }
    internal FaultGroup? PendingNext { get; set; }

    // Its handler queued it as work (R26): only such groups hold a linux flush (R23, flush_workqueue).
    internal bool OnWorkqueue { get; set; }

    /// <summary>The handle naming this group until it is freed (POL-7, R20).</summary>
    public FaultGroupHandle Handle => new(Slot, Generation);
    /// <summary>Pending until answered, Responded until freed, Free once back in the pool.</summary>
    public FaultGroupState State { get; internal set; }
    /// <summary>The device that reported the group.</summary>
    public FaultDevice Device { get; internal set; } = null!;
    /// <summary>The attach handle the group was routed to (R9).</summary>
    public FaultAttachment? Attachment { get; internal set; }
    /// <summary>The fault that closed the group; its PASID and group id address the response.</summary>
    public Fault LastFault { get; private set; }
    /// <summary>When the framework took the group's last fault (the <c>now</c> of that <see cref="FaultFramework.Report"/>).</summary>
    public long ReportedAt { get; internal set; }
    /// <summary>Faults in the group, the last one included.</summary>
    public int Count { get; private set; }

    /// <summary>Arrival order; the last fault is the final element.</summary>
    public ReadOnlySpan<Fault> Faults => _faults.AsSpan(0, Count);

    internal void Add(in Fault fault)
    {
        if (Count == _faults.Length) Array.Resize(ref _faults, _faults.Length * 2);
        _faults[Count++] = fault;
    }

    internal void Complete(in Fault last)
    {
        Add(last);
        LastFault = last;
    }

    internal void Reset()
    {
        Count = 0;
        Attachment = null;
        Device = null!;
        LastFault = default;
        PendingPrev = PendingNext = null;
        OnWorkqueue = false;
        ReportedAt = 0;
        State = FaultGroupState.Free;
        Generation++;
    }
}
