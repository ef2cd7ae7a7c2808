namespace Faultline.Faults;

/// <summary>
/// A flush in progress (<c>iopf_queue_flush_dev</c>, R23, POL-8), sans-IO: <see cref="FaultFramework.BeginFlush"/>
/// snapshots the groups that must be answered, and the host polls <see cref="FaultFramework.IsFlushComplete"/>
/// while it keeps running work. Like <c>flush_workqueue</c>, groups reported after the snapshot do not
/// extend it, and nothing blocks the report or response paths meanwhile (BUG-17).
/// </summary>
public sealed class FaultFlush
{
    private readonly FaultGroupHandle[] _groups;
    private int _answered; // groups before this index are known answered: a handle never becomes pending again

    internal FaultFlush(FaultFramework owner, FaultStatus status, FlushScopePolicy scope, FaultDevice device, uint pasid, FaultGroupHandle[] groups)
    {
        Owner = owner;
        Status = status;
        Scope = scope;
        Device = device;
        Pasid = pasid;
        _groups = groups;
    }

    internal FaultFramework Owner { get; }

    /// <summary><see cref="FaultStatus.Ok"/>, or <see cref="FaultStatus.NoDevice"/> for a device on no queue
    /// (R23: WARN + -ENODEV); such a flush waits for nothing.</summary>
    public FaultStatus Status { get; }

    /// <summary>What the flush waits for (POL-8), as the policy stood when it began.</summary>
    public FlushScopePolicy Scope { get; }
    /// <summary>The device flushed.</summary>
    public FaultDevice Device { get; }

    /// <summary>The PASID flushed; 0 is the RID (<c>IOMMU_NO_PASID</c>).</summary>
    public uint Pasid { get; }

    /// <summary>How many groups the flush waits for, fixed at <see cref="FaultFramework.BeginFlush"/>.</summary>
    public int SnapshotCount => _groups.Length;

    /// <summary>Advances past answered groups; true once all are answered. O(k) over the flush's life.</summary>
    internal bool Advance(FaultGroupPool pool)
    {
        while (_answered < _groups.Length)
        {
            if (pool.Resolve(_groups[_answered]) is { State: FaultGroupState.Pending }) return false;
            _answered++;
        }
        return true;
    }
}
