using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Amd;
using Faultline.Pcie;

namespace Faultline.Simulation;

/// <summary>
/// An AMD IOMMU: the PPR log and its interrupt thread (R35, with the H-AMD-3 poll for an entry written
/// after its interrupt), COMPLETE_PPR_REQUEST through the command buffer, the overflow restart (H-AMD-2).
/// </summary>
internal sealed class AmdNode : IommuNode, IAmdPlatform
{
    private readonly DriverThread _pprThread;

    public AmdNode(Platform platform, IommuSpec spec) : base(platform, spec)
    {
        Hardware = new AmdIommu(new AmdConfig
        {
            PprLogOrder = spec.QueueLog2 ?? 9,
            InterruptPrecedesEntryBy = spec.InterruptBeforeEntryNs,
            LostRequestAutoResponse = spec.DiscardAutoResponse == DiscardAutoResponse.Success ? ResponseCode.Success : null, // H-AMD-2 default: none
        }, this);
        Driver = new AmdDriver(Hardware, platform.Framework);
        Driver.EnablePprLog();
        _pprThread = new DriverThread(platform, this, "ppr thread", Hardware.PprLog, HandleInterrupt);
    }

    public override string Kind => "amd";
    public override string IopfRefusal => "the IOMMU does not support PPR (EFR.PPRSup)";
    public AmdIommu Hardware { get; }
    public AmdDriver Driver { get; }
    public override IReadOnlyList<FaultQueue> FaultQueues => [Driver.Queue];

    public override TranslationCompletion Translate(in TranslationRequest request) => Hardware.Translate(request);
    public override void OnPageRequest(in PageRequest request) => Hardware.OnPageRequest(request, Platform.Now);

    public override (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, DeviceSpec spec)
    {
        var probe = Driver.ProbeDevice(function, Platform.Now, spec.Credits);
        var (status, device, table) = Driver.AddDevice(function, spec.Name);
        return (probe, status, device, table ?? Hardware.SetDeviceTableEntry(spec.Requester, ppr: false));
    }

    public override string UnansweredDiscards =>
        Hardware.Config.LostRequestAutoResponse is null && Hardware.Counters.DiscardedFull + Hardware.Counters.DiscardedWhileStopped > 0
            ? $" (page requests lost while {Name}'s PPR log was full or stopped are answered by neither the hardware nor Linux: H-AMD-2)"
            : "";

    public override bool RingHolds(RequesterId requester, uint pasid) => Driver.RingHolds(requester, pasid);
    public override bool CommandsIdle => Driver.WaitingSubmissions == 0 && Hardware.CommandBuffer.IsEmpty;
    public override RequesterId? RequesterOf(FaultDevice device) => Driver.RequesterOf(device);

    public override void CheckEnd(InvariantLog invariants, long now)
    {
        if (!Hardware.PprLog.IsEmpty) invariants.Report("R35", now, Name, $"{Hardware.PprLog.Count} PPR log entries left unread");
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
            RingEntries = Hardware.PprLog.Entries,
            RingHighWater = Hardware.PprLog.HighWater,
            PageRequestsReceived = hw.PageRequestsReceived,
            Queued = hw.Logged,
            RefusedAtGate = hw.RefusedAtGate,
            DiscardedFull = hw.DiscardedFull,
            DiscardedWhileOverflowed = hw.DiscardedWhileStopped,
            AutoResponses = hw.AutoResponses,
            Events = hw.Interrupts,
            DriverBatches = drv.Batches,
            Reported = drv.Reported,
            StopMarkersDropped = 0, // ppr.c does not know Stop Markers: reported as faults
            BadRequestsAnswered = drv.InvalidRequests + drv.InvalidPasids,
            BadRequestsDropped = drv.UnknownRequests + drv.UnknownDevices + drv.MalformedEntries,
            OverflowsCleared = drv.LogRestarts,
            PrgResponsesSent = hw.PrgResponsesSent,
        };
    }

    /// <summary>The PPR interrupt thread; an entry not yet in memory makes it poll again one interval later (R35, H-AMD-3).</summary>
    private int HandleInterrupt()
    {
        long before = Driver.Counters.Entries;
        if (Driver.HandleInterrupt() == PprPoll.EntryNotWritten)
            _pprThread.WakeAt(Platform.Now + AmdDriver.PollInterval);
        return (int)(Driver.Counters.Entries - before);
    }

    // ---- IAmdPlatform ----

    public void RaisePprInterrupt(AmdIommu iommu) => _pprThread.Wake();

    public void SchedulePprLogWrite(AmdIommu iommu, long due) =>
        Platform.Scheduler.At(due, () => Hardware.CompletePprLogWrites(Platform.Now));

    public void CommandQueued(AmdIommu iommu) => CommandsQueued(() =>
    {
        Hardware.ProcessCommandBuffer();
        Driver.RetrySubmissions();
    });

    public void SendPrgResponse(AmdIommu iommu, in PrgResponse response) => Platform.DeliverPrgResponse(this, response);
}
