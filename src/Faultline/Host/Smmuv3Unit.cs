using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>
/// An Arm SMMUv3 and the arm-smmu-v3 driver: PCIe functions through the PRI queue (R38 upstream, the framework
/// under hardened), platform stall masters through the event queue and the shared stall buffer (R36, H-SMMU-9).
/// </summary>
public sealed class Smmuv3Unit : IommuUnit, ISmmuv3Platform
{
    private const int PriThread = 0, EventThread = 1;
    private readonly Dictionary<FaultDevice, RequesterId> _requesters = new();

    internal Smmuv3Unit(HostKernel kernel, IommuSpec spec) : base(kernel, spec, threads: 2)
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
        var config = Smmuv3DriverConfig.For(kernel.Framework.Policy, spec.StallMax);
        if (spec.PriService is { } service) config = config with { PriService = service };
        if (spec.PriSeries is { } series) config = config with { PriSeries = series };
        Driver = new Smmuv3Driver(Hardware, kernel.Framework, config);
        if (kernel.DriverTrace is { } trace)
        {
            Driver.FaultTraced = (device, fault, stall) => trace.FaultReported(this, device.Name, fault, stall, kernel.Now);
            Driver.ResponseTraced = (device, response) => trace.PageResponseSent(this, device.Name, response, kernel.Now);
            Driver.Log = line => trace.Log(this, line, kernel.Now);
        }
    }

    /// <inheritdoc />
    public override string Kind => "smmuv3";
    internal override string IopfRefusal => Driver.Config.PriSeries
        ? "upstream Linux does not service PRI on SMMUv3 (R38)"
        : "upstream Linux never enables PRI in a function behind SMMUv3 (R38: no pci_enable_pri in arm_smmu_probe_device; pri_series off)";
    /// <summary>The SMMU hardware: the PRI, event and command queues, the stream table and the stall buffer.</summary>
    public Smmuv3Iommu Hardware { get; }
    /// <summary>The arm-smmu-v3 driver's fault paths: the PRIQ and EVTQ threads and <c>arm_smmu_page_response</c>.</summary>
    public Smmuv3Driver Driver { get; }
    /// <summary>The shared stall buffer's fill over time (H-SMMU-9).</summary>
    internal OccupancyTimeline StallOccupancy { get; } = new();
    /// <inheritdoc />
    public override IReadOnlyList<FaultQueue> FaultQueues => _faultQueues ??= [Driver.PriFaultQueue, Driver.EventFaultQueue];
    private FaultQueue[]? _faultQueues; // asked on every batch and work item: made once

    /// <inheritdoc />
    public override string ThreadName(int thread) => thread == PriThread ? "priq thread" : "evtq thread";
    /// <inheritdoc />
    public override RingQueue? ThreadQueue(int thread) => thread == PriThread ? Hardware.PriQueue : Hardware.EventQueue;
    private protected override int HandleThread(int thread, long now) => thread == PriThread ? Driver.HandlePageRequests(now) : Driver.HandleEvents(now);

    private protected override void ExecuteCommands(long now)
    {
        Hardware.ProcessCommandQueue(now);
        Driver.RetrySubmissions();
    }

    internal override TranslationCompletion Translate(in TranslationRequest request) => Hardware.Translate(request);
    internal override void OnPageRequest(in PageRequest request, long now) => Hardware.OnPageRequest(request);

    internal override (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, uint? credits, long now)
    {
        var probe = Driver.ProbeDevice(function, now, credits);
        var (status, device, table) = Driver.AddDevice(function, function.Name);
        if (device is not null) _requesters.Add(device, function.Requester);
        // Under Deny the driver set the STE itself; a refused function still gets one for ATS, never over an existing one.
        return (probe, status, device, table ?? (Hardware.HasStream(function.Requester.Value) ? null : Hardware.SetPciStream(function.Requester)));
    }

    internal override (FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddStallMaster(string name, uint streamId, string? owner, int? contextBank, long now) =>
        Driver.AddStallMaster(streamId, name, owner);

    internal override void OnTransaction(in StallTransaction transaction, long now) => Hardware.OnTransaction(transaction, now);

    internal override string UnansweredDiscards =>
        Hardware.Config.DiscardAutoResponse == DiscardAutoResponse.None && Hardware.Counters.PriDiscarded > 0
            ? $" ({Name} discarded PRI requests and answered none of them: H-SMMU-3 switch 'none')"
            : "";

    internal override bool RingHolds(RequesterId requester, uint pasid) => Driver.RingHolds(requester.Value, pasid);
    internal override bool CommandsIdle => Driver.WaitingSubmissions == 0 && Hardware.CommandQueue.IsEmpty;
    internal override RequesterId? RequesterOf(FaultDevice device) => _requesters.TryGetValue(device, out var r) ? r : null;
    internal override bool MasterQueueHolds(uint streamId, uint pasid) => Driver.RingHolds(streamId, pasid);

    internal override void CheckEnd(InvariantLog invariants, long now)
    {
        if (!Hardware.PriQueue.IsEmpty) invariants.Report("R38", now, Name, $"{Hardware.PriQueue.Count} PRI queue entries left unread");
        if (Hardware.StallsInUse > 0 || Hardware.WaitingTransactions > 0)
            invariants.Report("H-SMMU-6", now, Name, $"{Hardware.StallsInUse} transactions still stalled and {Hardware.WaitingTransactions} waiting at the input: every stall must be resumed or terminated");
        base.CheckEnd(invariants, now);
    }

    /// <inheritdoc />
    public override IommuReport Report(long now)
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
                ResolvedInBackground = drv.ResolvedInBackground,
                Occupancy = StallOccupancy.Slices(now, 20),
            },
        };
    }

    // ---- ISmmuv3Platform ----

    void ISmmuv3Platform.RaisePriQueueInterrupt(Smmuv3Iommu smmu) => WakeThread(PriThread);
    void ISmmuv3Platform.RaiseEventQueueInterrupt(Smmuv3Iommu smmu) => WakeThread(EventThread);
    void ISmmuv3Platform.CommandQueued(Smmuv3Iommu smmu) => CommandsQueued();
    void ISmmuv3Platform.SendPrgResponse(Smmuv3Iommu smmu, in PrgResponse response) => SendPrgResponse(response);

    void ISmmuv3Platform.CompleteTransaction(Smmuv3Iommu smmu, in StallTransaction transaction, TransactionOutcome outcome, long now) =>
        CompleteTransaction(transaction, outcome, "H-SMMU-6");

    void ISmmuv3Platform.StallOccupancyChanged(Smmuv3Iommu smmu, int stalled, long now)
    {
        StallOccupancy.Record(now, stalled);
        Kernel.Trace?.Counter(TraceName, "stalls held (STALL_MAX)", now, stalled);
    }
}
