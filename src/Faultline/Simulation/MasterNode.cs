using Faultline.Devices;

namespace Faultline.Simulation;

/// <summary>
/// A platform master that can stall (<c>dma-can-stall</c>), behind an SMMUv3 or an SMMUv2: each transaction takes
/// <see cref="Timing.LinkNs"/> to the SMMU and its completion as long back.
/// </summary>
internal sealed class MasterNode : DeviceNode, IStallMasterPort, IStallMasterObserver
{
    private readonly Platform _platform;

    public MasterNode(Platform platform, MasterSpec spec, IommuNode iommu) : base(iommu)
    {
        _platform = platform;
        Spec = spec;
        Master = new StallMaster(new StallMasterConfig { Name = spec.Name, StreamId = spec.StreamId, MaxOutstanding = spec.MaxOutstanding }, this, this);
    }

    public override string Name => Spec.Name;
    public override string TraceName => $"{Name} (stall master 0x{Spec.StreamId:x} behind {Iommu.Name})";
    public MasterSpec Spec { get; }
    public StallMaster Master { get; }
    public LatencyRecorder AccessLatency { get; } = new();

    public override void StartAccess(DmaAccess access, long now) => Master.Start(access, now);

    public override bool QueueHolds(uint pasid) => Iommu.MasterQueueHolds(Spec.StreamId, pasid);

    public void SendTransaction(in StallTransaction transaction)
    {
        var t = transaction;
        _platform.Scheduler.After(_platform.Timing.LinkNs, () => Iommu.OnTransaction(t, _platform.Now));
    }

    /// <summary>The SMMU ended a transaction; the master learns it one link time later.</summary>
    public void Complete(in StallTransaction transaction, TransactionOutcome outcome)
    {
        var t = transaction;
        _platform.Scheduler.After(_platform.Timing.LinkNs, () => Master.OnTransactionCompleted(t, outcome, _platform.Now));
    }

    public void AccessEnded(StallMaster master, in StallAccessResult result)
    {
        AccessLatency.Add(result.Latency);
        _platform.Trace?.Interval(TraceName, "accesses", $"{(result.Access.Write ? "write" : "read")} {result.Access.Pages} pages", result.StartedAt, result.EndedAt, "access",
            ("outcome", result.Outcome.ToString()));
        var ended = result.Outcome switch
        {
            TransactionOutcome.Completed => AccessResult.Completed,
            TransactionOutcome.Aborted => AccessResult.StallAborted,
            _ => AccessResult.StallTerminated,
        };
        _platform.EndAccess(this, result.Access, ended, _platform.Now);
    }
}
