using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;

namespace Faultline.Simulation;

/// <summary>
/// An Arm SMMUv3: PCIe functions through the PRI queue (R38 upstream, the framework under hardened),
/// platform stall masters through the event queue and the shared stall buffer (R36, H-SMMU-9).
/// </summary>
internal sealed class Smmuv3Node : IommuNode, ISmmuv3Platform
{
    private readonly DriverThread _priThread;
    private readonly DriverThread _eventThread;
    private readonly Dictionary<FaultDevice, RequesterId> _requesters = new();

    public Smmuv3Node(Platform platform, IommuSpec spec) : base(platform, spec)
    {
        Hardware = new Smmuv3Iommu(new Smmuv3Config
        {
            Name = spec.Name,
            PriQueueShift = spec.QueueLog2 ?? 8,
            EventQueueShift = spec.EventQueueLog2,
            StallMax = spec.StallMax,
            WhenStallBufferFull = spec.StallBufferFull,
            DiscardAutoResponse = spec.DiscardAutoResponse ?? DiscardAutoResponse.Success, // H-SMMU-3 default
        }, this);
        var config = Smmuv3DriverConfig.For(platform.Framework.Policy, spec.StallMax);
        if (spec.PriService is { } service) config = config with { PriService = service };
        Driver = new Smmuv3Driver(Hardware, platform.Framework, config);
        _priThread = new DriverThread(platform, this, "priq thread", Hardware.PriQueue, Driver.HandlePageRequests);
        _eventThread = new DriverThread(platform, this, "evtq thread", Hardware.EventQueue, Driver.HandleEvents);
    }

    public override string Kind => "smmuv3";
    public override string IopfRefusal => "upstream Linux does not service PRI on SMMUv3 (R38)";
    public Smmuv3Iommu Hardware { get; }
    public Smmuv3Driver Driver { get; }
    public OccupancyTimeline StallOccupancy { get; } = new();
    public override IReadOnlyList<FaultQueue> FaultQueues => [Driver.PriFaultQueue, Driver.EventFaultQueue];

    public override TranslationCompletion Translate(in TranslationRequest request) => Hardware.Translate(request);
    public override void OnPageRequest(in PageRequest request) => Hardware.OnPageRequest(request);

    public override (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, DeviceSpec spec)
    {
        var probe = Driver.ProbeDevice(function, Platform.Now, spec.Credits);
        var (status, device, table) = Driver.AddDevice(function, spec.Name);
        if (device is not null) _requesters.Add(device, spec.Requester);
        // Under Deny the driver set the STE itself; a refused function still gets one for ATS, never over an existing one.
        return (probe, status, device, table ?? (Hardware.HasStream(spec.Requester.Value) ? null : Hardware.SetPciStream(spec.Requester)));
    }

    public override (FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddStallMaster(MasterSpec spec) =>
        Driver.AddStallMaster(spec.StreamId, spec.Name, spec.Owner);

    public override void OnTransaction(in StallTransaction transaction, long now) => Hardware.OnTransaction(transaction, now);

    public override string UnansweredDiscards =>
        Hardware.Config.DiscardAutoResponse == DiscardAutoResponse.None && Hardware.Counters.PriDiscarded > 0
            ? $" ({Name} discarded PRI requests and answered none of them: H-SMMU-3 switch 'none')"
            : "";

    public override bool RingHolds(RequesterId requester, uint pasid) => Driver.RingHolds(requester.Value, pasid);
    public override bool CommandsIdle => Driver.WaitingSubmissions == 0 && Hardware.CommandQueue.IsEmpty;

    public override RequesterId? RequesterOf(FaultDevice device) => _requesters.TryGetValue(device, out var r) ? r : null;

    public override bool MasterQueueHolds(uint streamId, uint pasid) => Driver.RingHolds(streamId, pasid);

    public override void CheckEnd(InvariantLog invariants, long now)
    {
        if (!Hardware.PriQueue.IsEmpty) invariants.Report("R38", now, Name, $"{Hardware.PriQueue.Count} PRI queue entries left unread");
        if (Hardware.StallsInUse > 0 || Hardware.WaitingTransactions > 0)
            invariants.Report("H-SMMU-6", now, Name, $"{Hardware.StallsInUse} transactions still stalled and {Hardware.WaitingTransactions} waiting at the input: every stall must be resumed or terminated");
        base.CheckEnd(invariants, now);
    }

    public override IommuReport Report()
    {
        var hw = Hardware.Counters;
        var drv = Driver.Counters;
        return new IommuReport
        {
            Name = Name,
            Kind = Kind,
            RingEntries = Hardware.PriQueue.Entries,
            RingHighWater = Hardware.PriQueue.HighWater,
            PageRequestsReceived = hw.PageRequestsReceived,
            Queued = hw.PriEntries,
            RefusedAtGate = hw.RefusedAtGate,
            DiscardedFull = hw.PriDiscarded,
            DiscardedWhileOverflowed = 0, // SMMUv3 keeps writing once there is room (H-SMMU-3)
            AutoResponses = hw.AutoResponses,
            Events = hw.Events,
            DriverBatches = drv.PriBatches + drv.EventBatches,
            Reported = drv.PriReported + drv.StallsReported,
            StopMarkersDropped = drv.StopMarkersDropped,
            BadRequestsAnswered = drv.DenyResponses,
            BadRequestsDropped = drv.UnknownStreams + drv.MalformedEntries,
            OverflowsCleared = drv.PriOverflows,
            PrgResponsesSent = hw.PrgResponsesSent,
            Stall = new StallReport
            {
                StallMax = Hardware.Config.StallMax,
                WhenFull = Hardware.Config.WhenStallBufferFull == StallBufferFullMode.BackPressure ? "back-pressure" : "abort",
                HighWater = Hardware.StallHighWater,
                Stalls = hw.Stalls,
                ResumedRetry = hw.ResumedRetry,
                ResumedAbort = hw.ResumedAbort,
                ResumedTerminate = hw.ResumedTerminate,
                StallTermTerminated = hw.StallTerminated,
                AbortedAtFull = hw.AbortedAtFull,
                BackPressured = hw.BackPressured,
                EventsLost = hw.EventsLost,
                BudgetTerminated = drv.BudgetTerminated,
                Occupancy = StallOccupancy.Slices(Platform.Now, 20),
            },
        };
    }

    // ---- ISmmuv3Platform ----

    public void RaisePriQueueInterrupt(Smmuv3Iommu smmu) => _priThread.Wake();
    public void RaiseEventQueueInterrupt(Smmuv3Iommu smmu) => _eventThread.Wake();

    public void CommandQueued(Smmuv3Iommu smmu) => CommandsQueued(() =>
    {
        Hardware.ProcessCommandQueue(Platform.Now);
        Driver.RetrySubmissions();
    });

    public void SendPrgResponse(Smmuv3Iommu smmu, in PrgResponse response) => Platform.DeliverPrgResponse(this, response);

    public void CompleteTransaction(Smmuv3Iommu smmu, in StallTransaction transaction, TransactionOutcome outcome, long now)
    {
        if (Masters.TryGetValue(transaction.StreamId, out var master)) master.Complete(transaction, outcome);
        else Platform.Invariants.Report("H-SMMU-6", now, Name, $"transaction of stream 0x{transaction.StreamId:x} ended, but no master has that StreamID");
    }

    public void StallOccupancyChanged(Smmuv3Iommu smmu, int stalled, long now)
    {
        StallOccupancy.Record(now, stalled);
        Platform.Trace?.Counter(TraceName, "stalls held (STALL_MAX)", now, stalled);
    }
}
