using Faultline.Faults;

namespace Faultline.Iommu;

/// <summary>
/// Draining the page requests of one (device, PASID) before it may be reused (R25, R33), as a sans-IO
/// state machine the host moves on after each event a drain may be waiting for.
/// </summary>
public interface IPasidDrain
{
    /// <summary>Moves the drain on as far as the world allows; true once it is done.</summary>
    bool Advance(long now);
    /// <summary>The drain has finished: nothing of the (device, PASID) is left to wait for.</summary>
    bool IsDone { get; }
    /// <summary>The stage the drain waits in, by name (traces, and the R25 report of a teardown that never completed).</summary>
    string StageName { get; }
    /// <summary>Groups the framework flush waited for (its snapshot).</summary>
    int FlushedGroups { get; }
    /// <summary>Flush time spent only on groups of other devices or PASIDs (F5; zero under hardened, POL-8).</summary>
    long UnrelatedWaitNs { get; }
    /// <summary>Hardware drain steps submitted (VT-d's invalidation waits; none elsewhere).</summary>
    int HardwareRounds { get; }
}

/// <summary>Where a <see cref="QueueDrain"/> stands.</summary>
public enum QueueDrainStage
{
    /// <summary>Waiting until the driver has consumed every queue entry of (device, PASID) already written.</summary>
    ScanRing,
    /// <summary>Waiting for the fault queue flush (R23, POL-8).</summary>
    Flush,
    /// <summary>Scan and flush are over, or the device no longer takes faults through this queue.</summary>
    Done,
}

/// <summary>
/// The part of a drain every IOMMU shares: wait until the driver's thread has taken every entry of
/// (device, PASID) out of its hardware queue (R33's scan; SMMUv3 <c>arm_smmu_flush_priq</c>, H-SMMU-13),
/// then flush the framework (R23): under <c>hardened</c> queued work of the PASID is answered INVALID first,
/// and the flush waits only for that (device, PASID) (POL-8). VT-d adds its hardware step after it
/// (<see cref="Vtd.VtdDrain"/>); SMMUv3 PRI and the AMD PPR log have none.
/// </summary>
public sealed class QueueDrain(FaultFramework framework, FaultDevice device, FaultQueue queue, uint pasid, Func<bool> ringHolds) : IPasidDrain
{
    private FaultFlush? _flush;

    /// <summary>The device whose page requests are drained.</summary>
    public FaultDevice Device { get; } = device;
    /// <summary>The PASID drained; 0 stands for the requests without a PASID (the RID).</summary>
    public uint Pasid { get; } = pasid;
    /// <summary>The stage the drain is in.</summary>
    public QueueDrainStage Stage { get; private set; } = QueueDrainStage.ScanRing;
    /// <inheritdoc />
    public string StageName => Stage.ToString();
    /// <inheritdoc />
    public bool IsDone => Stage == QueueDrainStage.Done;

    /// <summary>When the framework flush began (the scan found nothing left), or null before.</summary>
    public long? FlushStartedAt { get; private set; }
    /// <summary>When the flush had nothing left of this (device, PASID) to wait for.</summary>
    public long? OwnGroupsDoneAt { get; private set; }
    /// <summary>When the framework flush completed, or null; stays null when the device had left this queue.</summary>
    public long? FlushDoneAt { get; private set; }
    /// <summary>When the drain finished, or null while it runs.</summary>
    public long? DoneAt { get; private set; }
    /// <summary>Queued groups of the PASID answered INVALID before the flush (hardened).</summary>
    public int CancelledGroups { get; private set; }
    /// <inheritdoc />
    public int FlushedGroups { get; private set; }
    /// <inheritdoc />
    public int HardwareRounds => 0;

    /// <inheritdoc />
    public long UnrelatedWaitNs =>
        FlushDoneAt is { } done && FlushStartedAt is { } start ? done - Math.Max(start, OwnGroupsDoneAt ?? start) : 0;

    /// <inheritdoc />
    public bool Advance(long now)
    {
        if (Stage == QueueDrainStage.ScanRing)
        {
            // Linux does nothing for a device that no longer takes faults through this queue (removed, R4);
            // hardened still waits until the driver has consumed what of the PASID is in the ring (R33).
            if (Device.Queue != queue && framework.Policy.LateRequests == LateRequestPolicy.Handle && ringHolds()) return false;
            if (Device.Queue == queue)
            {
                if (ringHolds()) return false;
                CancelledGroups = framework.CancelQueuedWork(Device, Pasid, now);
                _flush = framework.BeginFlush(Device, Pasid);
                FlushedGroups = _flush.SnapshotCount;
                FlushStartedAt = now;
                Stage = QueueDrainStage.Flush;
            }
            else
            {
                Stage = QueueDrainStage.Done;
            }
        }
        if (Stage == QueueDrainStage.Flush)
        {
            if (OwnGroupsDoneAt is null && Device.WorkPendingAt(Pasid) == 0) OwnGroupsDoneAt = now;
            if (!framework.IsFlushComplete(_flush!)) return false;
            FlushDoneAt = now;
            Stage = QueueDrainStage.Done;
        }
        DoneAt ??= now;
        return true;
    }
}
