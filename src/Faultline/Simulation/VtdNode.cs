using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Simulation;

/// <summary>A VT-d remapping unit: the PRQ thread (R31, R32), the invalidation queue, the R33 drain.</summary>
internal sealed class VtdNode : IommuNode, IVtdPlatform
{
    private readonly DriverThread _prqThread;

    public VtdNode(Platform platform, IommuSpec spec) : base(platform, spec)
    {
        Hardware = new VtdIommu(new VtdConfig
        {
            Name = spec.Name,
            PageRequestQueueOrder = spec.PageRequestQueueOrder,
            DiscardAutoResponse = spec.DiscardAutoResponse ?? DiscardAutoResponse.Success, // H-VTD-5 default
            PageDrainSupported = spec.PageDrainSupported,
        }, this);
        Driver = new VtdDriver(Hardware, platform.Framework, platform.Scenario.Host.VirtualAddressBits);
        _prqThread = new DriverThread(platform, this, "prq thread", Hardware.PageRequestQueue, Driver.HandlePageRequests);
    }

    public override string Kind => "vtd";
    public override string IopfRefusal => "no page-drain support (H-VTD-14)";
    public VtdIommu Hardware { get; }
    public VtdDriver Driver { get; }
    public override IReadOnlyList<FaultQueue> FaultQueues => [Driver.Queue];

    public override TranslationCompletion Translate(in TranslationRequest request) => Hardware.Translate(request);
    public override void OnPageRequest(in PageRequest request) => Hardware.OnPageRequest(request);

    public override void OnInvalidationCompletion(in InvalidationCompletion completion)
    {
        Hardware.OnInvalidationCompletion(completion);
        Driver.RetrySubmissions();
    }

    public override (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, DeviceSpec spec)
    {
        var probe = Driver.ProbeDevice(function, Platform.Now, spec.Credits);
        var (status, device, table) = Driver.AddDevice(function, spec.Name);
        return (probe, status, device, table ?? Hardware.SetContext(spec.Requester, pageRequestEnable: false));
    }

    public override string UnansweredDiscards =>
        Hardware.Config.DiscardAutoResponse == DiscardAutoResponse.None && Hardware.Counters.DiscardedFull + Hardware.Counters.DiscardedWhileOverflowed > 0
            ? $" ({Name} discarded page requests and answered none of them: H-VTD-5 switch 'none')"
            : "";

    public override bool RingHolds(RequesterId requester, uint pasid) => Driver.RingHolds(requester, pasid);
    public override bool CommandsIdle => Driver.WaitingSubmissions == 0 && Hardware.InvalidationQueue.IsEmpty;
    public override RequesterId? RequesterOf(FaultDevice device) => Driver.RequesterOf(device);
    public override IPasidDrain BeginDrain(DeviceNode node, uint pasid, long now) => Driver.BeginDrain(node.FaultDevice!, pasid, now);

    public override void CheckEnd(InvariantLog invariants, long now)
    {
        if (!Hardware.PageRequestQueue.IsEmpty) invariants.Report("R31", now, Name, $"{Hardware.PageRequestQueue.Count} page request descriptors left in the queue");
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
            RingEntries = Hardware.PageRequestQueue.Entries,
            RingHighWater = Hardware.PageRequestQueue.HighWater,
            PageRequestsReceived = hw.PageRequestsReceived,
            Queued = hw.Queued,
            RefusedAtGate = hw.RefusedAtGate,
            DiscardedFull = hw.DiscardedFull,
            DiscardedWhileOverflowed = hw.DiscardedWhileOverflowed,
            AutoResponses = hw.AutoResponses,
            Events = hw.Events,
            DriverBatches = drv.Batches,
            Reported = drv.Reported,
            StopMarkersDropped = drv.StopMarkersDropped,
            BadRequestsAnswered = drv.BadRequestsAnswered,
            BadRequestsDropped = drv.BadRequestsDropped,
            OverflowsCleared = drv.OverflowsCleared,
            PrgResponsesSent = hw.PrgResponsesSent,
        };
    }

    // ---- IVtdPlatform ----

    public void RaisePageRequestEvent(VtdIommu iommu) => _prqThread.Wake();

    public void InvalidationQueued(VtdIommu iommu) => CommandsQueued(() =>
    {
        Hardware.ProcessInvalidationQueue();
        Driver.RetrySubmissions();
    });

    public void SendInvalidateRequest(VtdIommu iommu, in InvalidateRequest request)
    {
        var r = request;
        if (!Functions.TryGetValue(r.Destination, out var target))
        {
            Platform.Invariants.Report("R33", Platform.Now, Name, $"device-TLB invalidation for {r.Destination}, which is behind no port of this IOMMU");
            return;
        }
        Platform.Scheduler.After(Platform.Timing.LinkNs, () => target.Function.OnInvalidateRequest(r, Platform.Now));
    }

    public void InvalidationWaitCompleted(VtdIommu iommu, in InvalidationWaitDescriptor wait)
    {
        Driver.OnInvalidationWaitCompleted(wait);
        Platform.AdvanceTeardowns();
    }

    public void SendPrgResponse(VtdIommu iommu, in PrgResponse response) => Platform.DeliverPrgResponse(this, response);
}
