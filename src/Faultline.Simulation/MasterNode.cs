using Faultline.Devices;
using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>
/// A platform master that can stall (<c>dma-can-stall</c>), behind an SMMUv3 or an SMMUv2: each transaction takes
/// <see cref="Timing.LinkNs"/> to the SMMU and its completion as long back (the kernel's output's hop).
/// </summary>
internal sealed class MasterNode : DeviceNode, IStallMasterPort, IStallMasterObserver
{
    private readonly Platform _platform;
    private MasterPort? _port;

    public MasterNode(Platform platform, MasterSpec spec)
    {
        _platform = platform;
        Spec = spec;
        Master = new StallMaster(new StallMasterConfig
        {
            Name = spec.Name,
            StreamId = spec.StreamId,
            MaxOutstanding = spec.MaxOutstanding,
            Retries = spec.Retry?.Times ?? 0,
            RetryDelayNs = spec.Retry?.AfterNs ?? 0,
        }, this, this);
    }

    public override string Name => Spec.Name;
    public MasterSpec Spec { get; }
    public StallMaster Master { get; }
    public override MasterPort Port => _port!;
    public LatencyRecorder AccessLatency { get; } = new();

    internal void SetPort(MasterPort port) => _port = port;

    public override void StartAccess(DmaAccess access, long now) => Master.Start(access, now);

    public void SendTransaction(in StallTransaction transaction) => _platform.Send(DeviceMessage.Of(Port, transaction));

    /// <summary>A retry leaves the master once its delay has passed, then takes its link as any transaction (jitter, order).</summary>
    public void SendTransaction(in StallTransaction transaction, long delayNs) =>
        _platform.Scheduler.After(delayNs, new SimEvent { Kind = SimEventKind.DeviceSend, Message = DeviceMessage.Of(Port, transaction) });

    public void AccessEnded(StallMaster master, in StallAccessResult result)
    {
        if (_platform.Measured(result.StartedAt)) AccessLatency.Add(result.Latency);
        _platform.Trace?.Interval(Port.TraceName, "accesses", result.Access.Write ? "write" : "read", result.StartedAt, result.EndedAt, "access",
            ("pages", result.Access.Pages.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("outcome", result.Outcome.ToString())); // one name per kind (issue 13)
        var ended = result.Outcome switch
        {
            TransactionOutcome.Completed => AccessResult.Completed,
            TransactionOutcome.Aborted => AccessResult.StallAborted,
            _ => AccessResult.StallTerminated,
        };
        _platform.EndAccess(this, result.Access, ended, _platform.Now);
    }
}
