using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>A VT-d remapping unit and the intel-iommu driver: the PRQ thread (R31, R32), the invalidation queue, the R33 drain.</summary>
public sealed class VtdUnit : IommuUnit, IVtdPlatform
{
    internal VtdUnit(HostKernel kernel, IommuSpec spec) : base(kernel, spec, threads: 1)
    {
        Hardware = new VtdIommu(new VtdConfig
        {
            Name = spec.Name,
            PageRequestQueueOrder = spec.PageRequestQueueOrder,
            DiscardAutoResponse = spec.DiscardAutoResponse ?? DiscardAutoResponse.Success, // H-VTD-5 default
            PageDrainSupported = spec.PageDrainSupported,
        }, this);
        Driver = new VtdDriver(Hardware, kernel.Framework, kernel.Spec.VirtualAddressBits);
        if (kernel.DriverTrace is { } trace)
        {
            Driver.PageRequestTraced = (device, sequence, descriptor) => trace.PageRequestReported(this, device.Name, sequence, descriptor, kernel.Now);
            Driver.InvalidationTraced = descriptor => trace.InvalidationSubmitted(this, descriptor, kernel.Now);
            Driver.Log = line => trace.Log(this, line, kernel.Now);
        }
    }

    /// <inheritdoc />
    public override string Kind => "vtd";
    internal override string IopfRefusal => "no page-drain support (H-VTD-14)";
    /// <summary>The remapping hardware: the page request queue, the invalidation queue, context entries.</summary>
    public VtdIommu Hardware { get; }
    /// <summary>The intel-iommu driver's fault path (<c>prq.c</c>): the PRQ thread and <c>page_response</c>.</summary>
    public VtdDriver Driver { get; }
    /// <inheritdoc />
    public override IReadOnlyList<FaultQueue> FaultQueues => _faultQueues ??= [Driver.Queue];
    private FaultQueue[]? _faultQueues; // asked on every batch and work item: made once

    /// <inheritdoc />
    public override string ThreadName(int thread) => "prq thread";
    /// <inheritdoc />
    public override RingQueue? ThreadQueue(int thread) => Hardware.PageRequestQueue;
    private protected override int HandleThread(int thread, long now) => Driver.HandlePageRequests(now);

    private protected override void ExecuteCommands(long now)
    {
        Hardware.ProcessInvalidationQueue();
        Driver.RetrySubmissions();
    }

    internal override TranslationCompletion Translate(in TranslationRequest request) => Hardware.Translate(request);
    internal override void OnPageRequest(in PageRequest request, long now) => Hardware.OnPageRequest(request);

    internal override void OnInvalidationCompletion(in InvalidationCompletion completion, long now)
    {
        Hardware.OnInvalidationCompletion(completion);
        Driver.RetrySubmissions();
    }

    internal override (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, uint? credits, long now)
    {
        var probe = Driver.ProbeDevice(function, now, credits);
        var (status, device, table) = Driver.AddDevice(function, function.Name);
        return (probe, status, device, table ?? Hardware.SetContext(function.Requester, pageRequestEnable: false));
    }

    internal override string UnansweredDiscards =>
        Hardware.Config.DiscardAutoResponse == DiscardAutoResponse.None && Hardware.Counters.DiscardedFull + Hardware.Counters.DiscardedWhileOverflowed > 0
            ? $" ({Name} discarded page requests and answered none of them: H-VTD-5 switch 'none')"
            : "";

    internal override bool RingHolds(RequesterId requester, uint pasid) => Driver.RingHolds(requester, pasid);
    internal override bool CommandsIdle => Driver.WaitingSubmissions == 0 && Hardware.InvalidationQueue.IsEmpty;
    internal override RequesterId? RequesterOf(FaultDevice device) => Driver.RequesterOf(device);
    // intel_pasid_tear_down_entry then intel_drain_pasid_prq, in intel_iommu_remove_dev_pasid (v6.6-v6.12) and
    // blocking_domain_set_dev_pasid (v6.13-v6.18), both before iommu_detach_device_pasid erases the handle (R43).
    internal override bool DrainsOnDetach => true;
    internal override IPasidDrain BeginDrain(DevicePort port, uint pasid, long now) => Driver.BeginDrain(port.FaultDevice!, pasid, now);

    internal override void CheckEnd(InvariantLog invariants, long now)
    {
        if (!Hardware.PageRequestQueue.IsEmpty) invariants.Report("R31", now, Name, $"{Hardware.PageRequestQueue.Count} page request descriptors left in the queue");
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

    void IVtdPlatform.RaisePageRequestEvent(VtdIommu iommu) => WakeThread(0);
    void IVtdPlatform.InvalidationQueued(VtdIommu iommu) => CommandsQueued();
    void IVtdPlatform.SendInvalidateRequest(VtdIommu iommu, in InvalidateRequest request) => Kernel.SendInvalidateRequest(this, request);

    void IVtdPlatform.InvalidationWaitCompleted(VtdIommu iommu, in InvalidationWaitDescriptor wait)
    {
        Driver.OnInvalidationWaitCompleted(wait);
        Kernel.AdvanceTeardowns();
    }

    void IVtdPlatform.SendPrgResponse(VtdIommu iommu, in PrgResponse response) => SendPrgResponse(response);
}
