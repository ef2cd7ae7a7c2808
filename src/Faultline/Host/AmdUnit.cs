using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Amd;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>
/// An AMD IOMMU and the amd_iommu driver: the PPR log and its interrupt thread (R35, with the H-AMD-3 poll for
/// an entry written after its interrupt), COMPLETE_PPR_REQUEST through the command buffer, the overflow restart (H-AMD-2).
/// </summary>
public sealed class AmdUnit : IommuUnit, IAmdPlatform
{
    internal AmdUnit(HostKernel kernel, IommuSpec spec) : base(kernel, spec, threads: 1)
    {
        Hardware = new AmdIommu(new AmdConfig
        {
            PprLogOrder = spec.QueueLog2 ?? 9,
            InterruptPrecedesEntryBy = spec.InterruptBeforeEntryNs,
            LostRequestAutoResponse = spec.DiscardAutoResponse == DiscardAutoResponse.Success ? ResponseCode.Success : null, // H-AMD-2 default: none
        }, this);
        Driver = new AmdDriver(Hardware, kernel.Framework);
        if (kernel.DriverTrace is { } trace)
        {
            Driver.FaultTraced = (device, fault) => trace.FaultReported(this, device.Name, fault, stall: false, kernel.Now);
            Driver.ResponseTraced = (device, response) => trace.PageResponseSent(this, device.Name, response, kernel.Now);
            Driver.Log = line => trace.Log(this, line, kernel.Now);
        }
        Driver.EnablePprLog();
    }

    /// <inheritdoc />
    public override string Kind => "amd";
    internal override string IopfRefusal => "the IOMMU does not support PPR (EFR.PPRSup)";
    /// <summary>The IOMMU hardware: the PPR log and the command buffer.</summary>
    public AmdIommu Hardware { get; }
    /// <summary>The amd_iommu driver's fault path (<c>ppr.c</c>): the PPR interrupt thread and COMPLETE_PPR_REQUEST.</summary>
    public AmdDriver Driver { get; }
    /// <inheritdoc />
    public override IReadOnlyList<FaultQueue> FaultQueues => _faultQueues ??= [Driver.Queue];
    private FaultQueue[]? _faultQueues; // asked on every batch and work item: made once

    /// <inheritdoc />
    public override string ThreadName(int thread) => "ppr thread";
    /// <inheritdoc />
    public override RingQueue? ThreadQueue(int thread) => Hardware.PprLog;

    /// <summary>The PPR interrupt thread; an entry not yet in memory makes it poll again one interval later (R35, H-AMD-3).</summary>
    private protected override int HandleThread(int thread, long now)
    {
        long before = Driver.Counters.Entries;
        if (Driver.HandleInterrupt(now) == PprPoll.EntryNotWritten) WakeThread(0, now + AmdDriver.PollInterval);
        return (int)(Driver.Counters.Entries - before);
    }

    private protected override void ExecuteCommands(long now)
    {
        Hardware.ProcessCommandBuffer();
        Driver.RetrySubmissions();
    }

    internal override void CompleteLogWrites(long now) => Hardware.CompletePprLogWrites(now);

    internal override TranslationCompletion Translate(in TranslationRequest request) => Hardware.Translate(request);
    internal override void OnPageRequest(in PageRequest request, long now) => Hardware.OnPageRequest(request, now);

    internal override (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, uint? credits, long now)
    {
        var probe = Driver.ProbeDevice(function, now, credits);
        var (status, device, table) = Driver.AddDevice(function, function.Name);
        return (probe, status, device, table ?? Hardware.SetDeviceTableEntry(function.Requester, ppr: false));
    }

    internal override string UnansweredDiscards =>
        Hardware.Config.LostRequestAutoResponse is null && Hardware.Counters.DiscardedFull + Hardware.Counters.DiscardedWhileStopped > 0
            ? $" (page requests lost while {Name}'s PPR log was full or stopped are answered by neither the hardware nor Linux: H-AMD-2)"
            : "";

    internal override bool RingHolds(RequesterId requester, uint pasid) => Driver.RingHolds(requester, pasid);
    internal override bool HardwareHolds(DevicePort port, uint pasid) =>
        port is FunctionPort function ? Hardware.LogHolds(function.Requester, pasid) : base.HardwareHolds(port, pasid);
    internal override bool CommandsIdle => Driver.WaitingSubmissions == 0 && Hardware.CommandBuffer.IsEmpty;
    internal override long RequestLossEvents => Driver.Counters.LogRestarts;
    internal override RequesterId? RequesterOf(FaultDevice device) => Driver.RequesterOf(device);

    internal override void CheckEnd(InvariantLog invariants, long now)
    {
        if (!Hardware.PprLog.IsEmpty) invariants.Report("R35", now, Name, $"{Hardware.PprLog.Count} PPR log entries left unread");
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
            StopMarkersDropped = drv.StopMarkersDropped, // ppr.c does not know them: 0 under linux (H-PCI-20)
            BadRequestsAnswered = drv.InvalidRequests + drv.InvalidPasids,
            BadRequestsDropped = drv.UnknownRequests + drv.UnknownDevices,
            OverflowsCleared = drv.LogRestarts,
            PrgResponsesSent = hw.PrgResponsesSent,
        };
    }

    // ---- IAmdPlatform ----

    void IAmdPlatform.RaisePprInterrupt(AmdIommu iommu) => WakeThread(0);

    void IAmdPlatform.SchedulePprLogWrite(AmdIommu iommu, long due) =>
        Kernel.Emit(new HostAction { Kind = HostActionKind.CompleteLogWrites, Unit = Index, At = due });

    void IAmdPlatform.CommandQueued(AmdIommu iommu) => CommandsQueued();
    void IAmdPlatform.SendPrgResponse(AmdIommu iommu, in PrgResponse response) => SendPrgResponse(response);
}
