using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Iommu.Smmuv3;

/// <summary>What the SMMUv3 driver's fault paths counted.</summary>
public sealed class Smmuv3DriverCounters
{
    /// <summary>Runs of the PRIQ thread.</summary>
    public long PriBatches { get; internal set; }
    /// <summary>PRIQ entries the thread consumed.</summary>
    public long PriEntries { get; internal set; }
    /// <summary>R38: requests logged as "unexpected PRI request received" (<see cref="PriService.Deny"/>).</summary>
    public long UnexpectedPriRequests { get; internal set; }
    /// <summary>R38: last requests answered CMD_PRI_RESP Deny.</summary>
    public long DenyResponses { get; internal set; }
    /// <summary>Stop Markers discarded without a response (H-PCI-20).</summary>
    public long StopMarkersDropped { get; internal set; }
    /// <summary>Page requests reported to the fault framework.</summary>
    public long PriReported { get; internal set; }
    /// <summary>Entries or events naming a StreamID the driver has no master for.</summary>
    public long UnknownStreams { get; internal set; }
    /// <summary>PRIQ entries or events that did not decode: consumed and dropped.</summary>
    public long MalformedEntries { get; internal set; }
    /// <summary>R37: "PRIQ overflow detected -- requests lost".</summary>
    public long PriOverflows { get; internal set; }
    /// <summary>Runs of the EVTQ thread.</summary>
    public long EventBatches { get; internal set; }
    /// <summary>Events the EVTQ thread consumed.</summary>
    public long Events { get; internal set; }
    /// <summary>R36: stall events reported to the framework as one-fault groups.</summary>
    public long StallsReported { get; internal set; }
    /// <summary>Events that are not stall faults (or stage-2 ones): printed, not reported (R36).</summary>
    public long EventsPrinted { get; internal set; }
    /// <summary>R37: "EVTQ overflow detected -- events lost".</summary>
    public long EventOverflows { get; internal set; }
    /// <summary>R16, BUG-15: the framework returned non-zero for a report; the driver prints the raw record.</summary>
    public long ReportsPrinted { get; internal set; }
    /// <summary>POL-12: stall events of an owner past its budget, or of a slow owner, terminated at once instead of stalled.</summary>
    public long BudgetTerminated { get; internal set; }
    /// <summary>POL-12: faults of a slow owner terminated without a stall and resolved in the background, so its master's retry finds the page.</summary>
    public long ResolvedInBackground { get; internal set; }
    /// <summary>CMD_RESUMEs submitted for framework responses (R22); budget terminations are in <see cref="BudgetTerminated"/>.</summary>
    public long ResumesSubmitted { get; internal set; }
    /// <summary>CMD_PRI_RESPs submitted for framework responses (R22); Deny answers are in <see cref="DenyResponses"/>.</summary>
    public long PriResponsesSubmitted { get; internal set; }
    /// <summary>R22: a response code the driver has no command value for (-EINVAL): nothing sent.</summary>
    public long ResponsesRefused { get; internal set; }
    /// <summary>CMD_STALL_TERMs submitted when a stall master was torn down (H-SMMU-13).</summary>
    public long StallTermsSubmitted { get; internal set; }
    /// <summary>R22, T25: a response for a device this driver set up neither for stalls nor for PRI (WARN, nothing sent).</summary>
    public long ResponsesWarned { get; internal set; }
    /// <summary>The command queue was full; the command waited for room.</summary>
    public long CommandQueueWaits { get; internal set; }
}

/// <summary>
/// The Linux SMMUv3 driver's fault paths (<c>arm-smmu-v3.c</c>): the PRIQ thread (R38, or the 2020 PRI
/// series), the EVTQ thread for stall masters (R36, R37), and <c>arm_smmu_page_response</c> (R22). PCIe
/// functions are found by StreamID = requester id; platform stall masters by their StreamID. Each
/// path has its own IOPF queue, as Linux's <c>priq.iopf</c> and <c>evtq.iopf</c>.
/// </summary>
public sealed class Smmuv3Driver : IPageResponder
{
    private const uint OverflowFlag = RingQueue.OverflowFlagBit;
    /// <summary>POL-12: group ids from here up are the driver's own for faults resolved without a stall (a STAG is 16 bits).</summary>
    private const uint BackgroundIds = 1u << 16;

    private readonly Smmuv3Iommu _smmu;
    private readonly FaultFramework _framework;
    private readonly Dictionary<uint, Master> _byStream = new();
    private readonly Dictionary<FaultDevice, Master> _masterOf = new();
    private readonly Dictionary<string, Owner> _owners = new();
    private readonly List<Owner> _ownersInOrder = []; // POL-12 looks at owners in the order they came, never in hash order
    private uint _nextBackgroundId;
    private readonly byte[] _command = new byte[Smmuv3Command.Size];
    private readonly CommandSubmitter _submitter;

    /// <summary>The driver of <paramref name="smmu"/>: its two IOPF queues, then interrupts, queues and SMMUEN on, as <c>arm_smmu_device_reset</c>.</summary>
    public Smmuv3Driver(Smmuv3Iommu smmu, FaultFramework framework, Smmuv3DriverConfig config)
    {
        _smmu = smmu;
        _framework = framework;
        Config = config;
        PriFaultQueue = FaultFramework.AllocateQueue($"{smmu.Name}-priq");
        EventFaultQueue = FaultFramework.AllocateQueue($"{smmu.Name}-evtq");
        _submitter = new CommandSubmitter(smmu.SubmitCommand);
        // arm_smmu_device_reset: queues and interrupts on, then SMMUEN.
        smmu.WriteIrqCtrl(Smmuv3Iommu.IrqCtrlGerror | Smmuv3Iommu.IrqCtrlPriQueue | Smmuv3Iommu.IrqCtrlEventQueue);
        smmu.WriteCr0(Smmuv3Iommu.Cr0CommandQueueEnable | Smmuv3Iommu.Cr0EventQueueEnable | Smmuv3Iommu.Cr0PriQueueEnable | Smmuv3Iommu.Cr0SmmuEnable);
    }

    /// <summary>The SMMU this driver runs.</summary>
    public Smmuv3Iommu Iommu => _smmu;
    /// <summary>The driver's options.</summary>
    public Smmuv3DriverConfig Config { get; }
    /// <summary>The IOPF queue of PCIe functions' page requests (<c>&lt;name&gt;-priq</c>, Linux <c>priq.iopf</c>).</summary>
    public FaultQueue PriFaultQueue { get; }
    /// <summary>The IOPF queue of stall masters' faults (<c>&lt;name&gt;-evtq</c>, Linux <c>evtq.iopf</c>).</summary>
    public FaultQueue EventFaultQueue { get; }
    /// <summary>What the driver counted.</summary>
    public Smmuv3DriverCounters Counters { get; } = new();

    /// <summary>The kernel log: each line the driver prints (R37, R38 formats), when a host wants them.</summary>
    public Action<string>? Log { get; set; }
    /// <summary>Each fault reported to the framework, and whether it is a stall (no upstream tracepoint: the proposed <c>iommu:dev_fault</c>), when a host wants them.</summary>
    public Action<FaultDevice, Fault, bool>? FaultTraced { get; set; }
    /// <summary>Each framework response the driver turned into a command (the proposed <c>iommu:dev_page_response</c>), when a host wants them.</summary>
    public Action<FaultDevice, PageResponse>? ResponseTraced { get; set; }

    /// <summary>
    /// Device probe. Under <see cref="Smmuv3DriverConfig.PriSeries"/>: PASID, ATS, then PRI with
    /// <see cref="Smmuv3DriverConfig.PriCredits"/>; unlike VT-d (R34) the series does not refuse a function that
    /// lacks "PRG Response PASID Required": STE.PPAR follows the bit instead. Without it, mainline (R38): PASID
    /// and ATS only, and the function's PRI stays off. <see cref="PciEnableError.None"/>: every step taken succeeded.
    /// </summary>
    public PciEnableError ProbeDevice(IPciConfigSpace function, long now, uint? credits = null) => Config.PriSeries
        ? PciAts.EnableForPageRequests(function, credits ?? Config.PriCredits, now, requirePrgResponsePasid: false)
        : PciAts.EnablePasidAndAts(function, now, requirePageAligned: false); // R38: arm_smmu_enable_pasid at probe, arm_smmu_enable_ats at attach; no pci_enable_pri

    /// <summary>
    /// Sets up the STE of a probed PCIe function (ATS translation through the returned CD table) and, under
    /// <see cref="PriService.Framework"/>, adds it to the PRI IOPF queue with its PRI allocation as the
    /// partial bound (POL-4). Under <see cref="PriService.Deny"/> the STE is set but IOPF is refused
    /// (NoDevice, no device, the table): upstream has no PRI service (R38).
    /// </summary>
    public (FaultStatus Status, FaultDevice? Device, IPasidTable? PasidTable) AddDevice(IPciConfigSpace function, string name)
    {
        var requester = function.Requester;
        if (!_smmu.Config.PriSupported
            || !function.HasCapability(PriCapability.CapabilityId)
            || (function.ReadConfig(PriCapability.CapabilityId, PriCapability.ControlOffset) & PriCapability.ControlEnable) == 0)
            return (FaultStatus.NoDevice, null, null);
        if (_byStream.ContainsKey(requester.Value)) return (FaultStatus.Busy, null, null);
        var table = _smmu.SetPciStream(requester);
        if (Config.PriService == PriService.Deny) return (FaultStatus.NoDevice, null, table);

        var device = new FaultDevice(name, this);
        uint allocation = function.ReadConfig(PriCapability.CapabilityId, PriCapability.AllocationOffset);
        var status = FaultFramework.AddDevice(PriFaultQueue, device, (int)Math.Clamp(allocation, 1u, int.MaxValue));
        if (status != FaultStatus.Ok) return (status, null, null);
        // STE.PPAR: the function wants its PASID back in PRG Responses (the series' prg_resp_needs_ssid).
        bool needsPasid = function.HasCapability(PasidCapability.CapabilityId)
            && (function.ReadConfig(PriCapability.CapabilityId, PriCapability.StatusOffset) & PriCapability.StatusPrgResponsePasidRequired) != 0;
        Register(new Master(device, requester.Value, IsStall: false, needsPasid, Owner: name));
        return (FaultStatus.Ok, device, table);
    }

    /// <summary>
    /// A platform master declared able to stall (<c>dma-can-stall</c>, R37, H-SMMU-10): its CD gets R, A and S
    /// as Linux writes them, and the device joins the event IOPF queue. <paramref name="owner"/> (default: the
    /// name) is whose stall budget its stalls count against (POL-12). NoDevice when the SMMU cannot stall.
    /// </summary>
    public (FaultStatus Status, FaultDevice? Device, IPasidTable? PasidTable) AddStallMaster(
        uint streamId, string name, string? owner = null)
    {
        if (_smmu.Config.StallModel == StallModel.TerminateOnly) return (FaultStatus.NoDevice, null, null);
        if (_byStream.ContainsKey(streamId)) return (FaultStatus.Busy, null, null);
        var device = new FaultDevice(name, this);
        var status = FaultFramework.AddDevice(EventFaultQueue, device);
        if (status != FaultStatus.Ok) return (status, null, null);
        var table = _smmu.SetStallStream(streamId, new StallStreamConfig());
        Register(new Master(device, streamId, IsStall: true, NeedsPasid: false, owner ?? name));
        return (FaultStatus.Ok, device, table);
    }

    /// <summary>The StreamID <paramref name="device"/> was added with, or null for a device this driver did not add.</summary>
    public uint? StreamIdOf(FaultDevice device) => _masterOf.TryGetValue(device, out var m) ? m.StreamId : null;

    /// <summary>Stalls of <paramref name="owner"/> reported and not yet answered (POL-12 bookkeeping).</summary>
    public int OwnerStalls(string owner) => _owners.TryGetValue(owner, out var o) ? o.Stalls : 0;

    /// <summary>POL-12: faults of <paramref name="owner"/> being resolved in the background, without a stall.</summary>
    public int OwnerBackgroundFaults(string owner) => _owners.TryGetValue(owner, out var o) ? o.Background.Count : 0;

    /// <summary>POL-12: whether the last fault of <paramref name="owner"/> took longer than <see cref="Smmuv3DriverConfig.SlowFaultNs"/> to resolve, so it holds no stall.</summary>
    public bool OwnerIsSlow(string owner) => _owners.TryGetValue(owner, out var o) && o.Slow;

    /// <summary>
    /// The PRIQ thread (<c>arm_smmu_priq_thread</c>): handle every entry from CONS to PROD, moving CONS past
    /// each; then, if OVFLG differs from OVACKFLG, log the overflow and acknowledge it by writing CONS with
    /// OVFLG copied. Under <see cref="PriService.Framework"/> an overflow discards every partial group, since
    /// the lost entry may have been a last one (H-SMMU-3); upstream has nothing to discard (R37).
    /// </summary>
    public int HandlePageRequests(long now)
    {
        Counters.PriBatches++;
        int handled = DrainQueue(_smmu.PriQueue, pri: true, now, out bool overflow);
        Counters.PriEntries += handled;
        if (overflow)
        {
            Counters.PriOverflows++;
            Log?.Invoke("PRIQ overflow detected -- requests lost");
            if (Config.PriService == PriService.Framework) _framework.DiscardPartial(PriFaultQueue);
        }
        return handled;
    }

    /// <summary>The EVTQ thread (<c>arm_smmu_evtq_thread</c>, R36, R37): every event from CONS to PROD, then the overflow.</summary>
    public int HandleEvents(long now)
    {
        Counters.EventBatches++;
        TerminateSlowStalls(now);
        int handled = DrainQueue(_smmu.EventQueue, pri: false, now, out bool overflow);
        Counters.Events += handled;
        if (overflow)
        {
            Counters.EventOverflows++;
            Log?.Invoke("EVTQ overflow detected -- events lost");
        }
        return handled;
    }

    /// <summary>
    /// R22 (<c>arm_smmu_page_response</c>). A stall master: CMD_RESUME(StreamID, STAG = group id) with
    /// <see cref="ResumeActionFor"/>. A PCIe function: CMD_PRI_RESP with SSV iff the request had a PASID and
    /// the function needs it back, Resp per POL-11 (<see cref="PriResponseFor"/>). No CMD_SYNC follows (H-SMMU-8).
    /// </summary>
    public void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response, long now)
    {
        if (!_masterOf.TryGetValue(device, out var master))
        {
            // R22, T25: WARN and no-op for a master that can neither stall nor take PRI responses.
            Counters.ResponsesWarned++;
            return;
        }
        if (master.IsStall)
        {
            var owner = _owners[master.Owner];
            if (Take(owner.Background, master.StreamId, response.GroupId) is { } resolved)
            {
                // POL-12: the transaction was terminated already: nothing stalls, nothing to resume.
                if (resolved.GroupId < BackgroundIds) ResponseTraced?.Invoke(device, response); // a stall it terminated late
                owner.Slow = owner.OverBudget && now - resolved.ReportedAt > Config.SlowFaultNs;
            }
            else
            {
                ResponseTraced?.Invoke(device, response);
                new ResumeCommand(master.StreamId, ResumeActionFor(response.Code), (ushort)response.GroupId).Encode(_command);
                Submit();
                Counters.ResumesSubmitted++;
                owner.Stalls--;
                if (Take(owner.Stalled, master.StreamId, response.GroupId) is { } stall)
                    owner.Slow = owner.OverBudget && now - stall.ReportedAt > Config.SlowFaultNs;
            }
            UpdateStallDisable(owner);
            TerminateSlowStalls(now);
            return;
        }
        ResponseTraced?.Invoke(device, response);
        if (PriResponseFor(response.Code, _framework.Policy.WireCodes) is not { } resp)
        {
            Counters.ResponsesRefused++;
            return;
        }
        bool ssv = lastFault.HasPasid && (lastFault.Flags & FaultFlags.ResponseNeedsPasid) != 0;
        new PriResponseCommand(master.StreamId, ssv, ssv ? new Pasid(response.Pasid & Pasid.Mask) : default,
            new PrgIndex((ushort)(response.GroupId & PrgIndex.Mask)), resp).Encode(_command);
        Submit();
        Counters.PriResponsesSubmitted++;
    }

    /// <summary>
    /// H-SMMU-13 for a stall master whose CD is about to be reused: consume every event already queued
    /// (Linux <c>arm_smmu_flush_evtq</c>; here the thread drains the queue at once), then terminate the
    /// stream's leftover stalls with CMD_STALL_TERM.
    /// </summary>
    public void TearDownStallMaster(FaultDevice device, long now)
    {
        var master = _masterOf[device];
        HandleEvents(now);
        new StallTerminateCommand(master.StreamId).Encode(_command);
        Submit();
        Counters.StallTermsSubmitted++;
    }

    /// <summary>
    /// Whether a PRIQ entry or an event of (StreamID, PASID) lies between CONS and PROD. Entries without
    /// SSV count as PASID 0, the RID, as VtdDriver.RingHolds.
    /// </summary>
    public bool RingHolds(uint streamId, uint pasid) =>
        _smmu.PriQueue.AnyPending((streamId, pasid), static (bytes, key) =>
            PriQueueEntry.Decode(bytes) is { IsOk: true, Value: var e } && e.StreamId == key.streamId && (e.SubstreamValid ? e.SubstreamId.Value : 0) == key.pasid)
        || _smmu.EventQueue.AnyPending((streamId, pasid), static (bytes, key) =>
            FaultEvent.Decode(bytes) is { IsOk: true, Value: var e } && e.StreamId == key.streamId && (e.SubstreamValid ? e.SubstreamId.Value : 0) == key.pasid);

    /// <summary>Submits the commands that waited for room; the host calls it when the SMMU has consumed some.</summary>
    public void RetrySubmissions()
    {
        _submitter.Retry();
    }

    /// <summary>Commands waiting for room in the command queue.</summary>
    public int WaitingSubmissions => _submitter.Waiting;

    /// <summary>
    /// R22 for a stalled master (H-SMMU-7): Success → Retry, Invalid or Failure → Abort, any other value →
    /// Terminate (the 2025 refactor). Both policies: this mapping is already per transport (POL-11).
    /// </summary>
    public static ResumeAction ResumeActionFor(PageResponseCode code) => code switch
    {
        PageResponseCode.Success => ResumeAction.Retry,
        PageResponseCode.Invalid or PageResponseCode.Failure => ResumeAction.Abort,
        _ => ResumeAction.Terminate,
    };

    /// <summary>
    /// POL-11 for CMD_PRI_RESP. <see cref="WireCodePolicy.EnumVerbatim"/> (linux): the 2020 PRI series'
    /// <c>CMDQ_PRI_1_RESP_FAILURE</c> 0 / <c>_INVALID</c> 1 / <c>_SUCCESS</c> 2, which the SMMU reads as Deny /
    /// Fail / Success — so FAILURE reaches the function as Invalid Request and INVALID as Response Failure,
    /// which stops its PRI (smmuv3.md §3). <see cref="WireCodePolicy.PerTransport"/>: by meaning, Invalid →
    /// Deny, Failure → Fail, Success → Success. Null for a code with no value (-EINVAL).
    /// </summary>
    public static PriResponse? PriResponseFor(PageResponseCode code, WireCodePolicy policy) => (policy, code) switch
    {
        (_, PageResponseCode.Success) => PriResponse.Success,
        (WireCodePolicy.EnumVerbatim, PageResponseCode.Failure) => (PriResponse)0,
        (WireCodePolicy.EnumVerbatim, PageResponseCode.Invalid) => (PriResponse)1,
        (_, PageResponseCode.Invalid) => PriResponse.Deny,
        (_, PageResponseCode.Failure) => PriResponse.Fail,
        _ => null,
    };

    private void Register(Master master)
    {
        _byStream.Add(master.StreamId, master);
        _masterOf.Add(master.Device, master);
        if (!master.IsStall) return;
        if (!_owners.TryGetValue(master.Owner, out var owner))
        {
            _owners.Add(master.Owner, owner = new Owner());
            _ownersInOrder.Add(owner);
        }
        owner.Streams.Add(master.StreamId);
        UpdateStallDisable(owner);
    }

    /// <summary>
    /// Reads a queue from CONS to PROD, writing CONS past each entry (<c>queue_remove_raw</c>), then syncs
    /// OVACKFLG with OVFLG ("as we believe we're up to speed"). Reports whether they differed.
    /// </summary>
    private int DrainQueue(RingQueue queue, bool pri, long now, out bool overflow)
    {
        uint field = (uint)(queue.Entries << 1) - 1;
        uint prod = pri ? _smmu.PriQueueProducer : _smmu.EventQueueProducer;
        uint cons = pri ? _smmu.PriQueueConsumer : _smmu.EventQueueConsumer;
        int handled = 0;
        while (((prod ^ cons) & field) != 0)
        {
            if (pri) HandlePageRequest(_smmu.ReadPriQueue(cons), now);
            else HandleEvent(_smmu.ReadEventQueue(cons), now);
            cons = (cons & OverflowFlag) | ((cons + 1) & field);
            WriteConsumer(pri, cons);
            handled++;
        }
        overflow = ((prod ^ cons) & OverflowFlag) != 0;
        WriteConsumer(pri, (prod & OverflowFlag) | (cons & field));
        return handled;
    }

    private void WriteConsumer(bool pri, uint value)
    {
        if (pri) _smmu.WritePriQueueConsumer(value);
        else _smmu.WriteEventQueueConsumer(value);
    }

    private void HandlePageRequest(ReadOnlySpan<byte> bytes, long now)
    {
        var decoded = PriQueueEntry.Decode(bytes);
        if (!decoded.IsOk)
        {
            Counters.MalformedEntries++;
            return;
        }
        var e = decoded.Value;
        if (Config.PriService == PriService.Deny)
        {
            // R38, H-SMMU-4: arm_smmu_handle_ppr.
            Counters.UnexpectedPriRequests++;
            if (Log is { } log)
            {
                log("unexpected PRI request received:");
                log($"\tsid 0x{e.StreamId:x8}.0x{(e.SubstreamValid ? e.SubstreamId.Value : 0):x5}: [{e.Index.Value}{(e.Last ? "L" : "")}] " +
                    $"{(e.Privileged ? "" : "un")}privileged {(e.Read ? "R" : "")}{(e.Write ? "W" : "")}{(e.Execute ? "X" : "")} access at iova 0x{e.PageAddress:x16}");
            }
            if (e.Last) Deny(e);
            return;
        }

        // The PRI series: "Discard Stop PASID marker, it isn't used" (H-PCI-20).
        if (e.IsStopMarker)
        {
            Counters.StopMarkersDropped++;
            return;
        }
        if (!_byStream.TryGetValue(e.StreamId, out var master) || master.IsStall)
        {
            // The series WARNs and drops it; a last request is answered Deny here so the function's credit comes back (as R31 step 3).
            Counters.UnknownStreams++;
            if (e.Last) Deny(e);
            return;
        }
        var flags = FaultFlags.None;
        if (e.Last) flags |= FaultFlags.LastPage;
        if (e.SubstreamValid) flags |= FaultFlags.PasidValid;
        if (e.SubstreamValid && master.NeedsPasid) flags |= FaultFlags.ResponseNeedsPasid;
        var perm = FaultPermissions.None;
        if (e.Read) perm |= FaultPermissions.Read;
        if (e.Write) perm |= FaultPermissions.Write;
        if (e.Execute) perm |= FaultPermissions.Exec;
        if (e.Privileged) perm |= FaultPermissions.Priv;
        Counters.PriReported++;
        var fault = new Fault(flags, e.SubstreamValid ? e.SubstreamId.Value : 0, e.Index.Value, perm, e.PageAddress);
        FaultTraced?.Invoke(master.Device, fault, false);
        var status = _framework.Report(master.Device, fault, now);
        // Current core answers the no-handler case itself (R10); answering again would duplicate the response.
        if (status != FaultStatus.Ok) Counters.ReportsPrinted++;
    }

    private void Deny(in PriQueueEntry e)
    {
        PriResponseCommand.Answer(e, ResponseCode.InvalidRequest).Encode(_command);
        Submit();
        Counters.DenyResponses++;
    }

    private void HandleEvent(ReadOnlySpan<byte> bytes, long now)
    {
        var decoded = FaultEvent.Decode(bytes);
        if (!decoded.IsOk)
        {
            Counters.MalformedEntries++;
            return;
        }
        var e = decoded.Value;
        _byStream.TryGetValue(e.StreamId, out var master);
        bool stallMaster = master is { IsStall: true };
        if (e.IsRecoverableFault && !e.Stall && !e.S2 && stallMaster)
        {
            // The SMMU terminated it (STE.S1STALLD). POL-12: a slow owner's fault is still resolved, so the retry finds the page.
            var terminated = _owners[master!.Owner];
            if (terminated.Stalls >= Config.StallBudget) terminated.OverBudget = true;
            if (terminated.Slow && TryResolveInBackground(master, terminated, e, bytes, now)) return;
        }
        // R36: translation / address size / access / permission faults with Stall reach the framework; stage-2 ones only from v6.12.
        bool stage2Printed = e.S2 && !_framework.Policy.ReportStage2Stalls;
        if (!e.IsRecoverableFault || !e.Stall || stage2Printed || !stallMaster)
        {
            if (e.IsRecoverableFault && e.Stall && !stage2Printed) Counters.UnknownStreams++;
            Print(bytes);
            return;
        }

        var owner = _owners[master!.Owner];
        if (Config.StallBudget is { } budget && (owner.Stalls >= budget || owner.Slow))
        {
            // POL-12: the owner already holds its share of the stall buffer, or is slow; this stall ends now.
            if (owner.Stalls >= budget) owner.OverBudget = true;
            new ResumeCommand(e.StreamId, ResumeAction.Terminate, e.StallTag).Encode(_command);
            Submit();
            Counters.BudgetTerminated++;
            if (owner.Slow) TryResolveInBackground(master, owner, e, bytes, now);
            return;
        }
        owner.Stalls++;
        UpdateStallDisable(owner);
        Counters.StallsReported++;
        if (FindsSlowOwners) owner.Stalled.Add(Held.Of(master, e, e.StallTag, now));
        Report(master, e, e.StallTag, bytes, stall: true, now);
    }

    /// <summary>
    /// POL-12: a stall held longer than <see cref="Smmuv3DriverConfig.SlowFaultNs"/> makes its owner slow and ends now
    /// (CMD_RESUME Terminate) while its handler goes on, as if it had been terminated when it faulted. Looked at
    /// whenever the driver runs: on events and on responses.
    /// </summary>
    private void TerminateSlowStalls(long now)
    {
        if (!FindsSlowOwners) return;
        long slow = Config.SlowFaultNs!.Value;
        foreach (var owner in _ownersInOrder)
        {
            if (!owner.OverBudget) continue;
            for (int i = owner.Stalled.Count - 1; i >= 0; i--)
            {
                var held = owner.Stalled[i];
                if (now - held.ReportedAt <= slow) continue;
                owner.Stalled.RemoveAt(i);
                owner.Stalls--;
                owner.Background.Add(held);
                owner.Slow = true;
                new ResumeCommand(held.StreamId, ResumeAction.Terminate, (ushort)held.GroupId).Encode(_command);
                Submit();
                Counters.BudgetTerminated++;
                Counters.ResolvedInBackground++;
            }
            UpdateStallDisable(owner);
        }
    }

    /// <summary>POL-12: slow owners are looked for only where there is a budget to bound what they resolve in the background.</summary>
    private bool FindsSlowOwners => Config.SlowFaultNs is not null && Config.StallBudget is not null;

    private static Held? Take(List<Held> list, uint streamId, uint groupId)
    {
        for (int i = 0; i < list.Count; i++)
        {
            var held = list[i];
            if (held.StreamId != streamId || held.GroupId != groupId) continue;
            list.RemoveAt(i);
            return held;
        }
        return null;
    }

    private static bool HoldsPage(List<Held> list, in Held fault)
    {
        foreach (var held in list)
            if (held.StreamId == fault.StreamId && held.Pasid == fault.Pasid && held.Page == fault.Page) return true;
        return false;
    }

    /// <summary>
    /// POL-12: a slow owner's terminated fault goes to the framework under a group id of the driver's own, above
    /// every STAG, so that its response resumes nothing; it is not traced. Within the owner's budget, once per page; false otherwise.
    /// </summary>
    private bool TryResolveInBackground(Master master, Owner owner, in FaultEvent e, ReadOnlySpan<byte> bytes, long now)
    {
        var held = Held.Of(master, e, BackgroundIds | (_nextBackgroundId & ushort.MaxValue), now);
        if (owner.Stalls + owner.Background.Count >= Config.StallBudget || HoldsPage(owner.Background, held)) return false;
        _nextBackgroundId++;
        owner.Background.Add(held);
        Counters.ResolvedInBackground++;
        Report(master, e, held.GroupId, bytes, stall: false, now);
        return true;
    }

    private void Report(Master master, in FaultEvent e, uint groupId, ReadOnlySpan<byte> bytes, bool stall, long now)
    {
        var perm = e.RnW ? FaultPermissions.Read : FaultPermissions.Write;
        if (e.InD) perm |= FaultPermissions.Exec;
        if (e.PnU) perm |= FaultPermissions.Priv;
        var flags = FaultFlags.LastPage | (e.SubstreamValid ? FaultFlags.PasidValid : FaultFlags.None);
        var fault = new Fault(flags, e.SubstreamValid ? e.SubstreamId.Value : 0, groupId, perm, e.InputAddress);
        // A fault resolved without a stall is neither a page request nor a stall, the only faults the trace shows.
        if (stall) FaultTraced?.Invoke(master.Device, fault, true);
        var status = _framework.Report(master.Device, fault, now);
        if (status != FaultStatus.Ok)
        {
            Counters.ReportsPrinted++; // R16, BUG-15
            Print(bytes);
        }
    }

    /// <summary>"event 0x%02x received:" and the four DWs (rate limiting is not modelled).</summary>
    private void Print(ReadOnlySpan<byte> bytes)
    {
        Counters.EventsPrinted++;
        if (Log is not { } log) return;
        log($"event 0x{bytes[0]:x2} received:");
        for (int i = 0; i < FaultEvent.Size; i += 8)
            log($"\t0x{System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes[i..]):x16}");
    }

    /// <summary>POL-12: STE.S1STALLD on every stream of the owner while it holds its whole budget or is slow.</summary>
    private void UpdateStallDisable(Owner owner)
    {
        if (Config.StallBudget is not { } budget) return;
        bool disable = owner.Stalls >= budget || owner.Slow;
        foreach (uint streamId in owner.Streams)
            if (_smmu.StallDisabled(streamId) != disable) _smmu.SetStallDisabled(streamId, disable);
    }

    private void Submit()
    {
        if (_submitter.Submit(_command)) Counters.CommandQueueWaits++;
    }

    /// <summary>POL-12: a fault of a stall master reported to the framework, and when.</summary>
    private readonly record struct Held(uint StreamId, uint GroupId, uint Pasid, ulong Page, long ReportedAt)
    {
        public static Held Of(Master master, in FaultEvent e, uint groupId, long now) =>
            new(master.StreamId, groupId, e.SubstreamValid ? e.SubstreamId.Value : 0, e.InputAddress >> PageRequest.PageShift, now);
    }

    private sealed record Master(FaultDevice Device, uint StreamId, bool IsStall, bool NeedsPasid, string Owner);

    private sealed class Owner
    {
        public List<uint> Streams { get; } = [];
        public int Stalls { get; set; }
        /// <summary>POL-12: its stalls in the stall buffer, when slow owners are looked for.</summary>
        public List<Held> Stalled { get; } = [];
        /// <summary>POL-12: its faults being resolved after their transaction was terminated.</summary>
        public List<Held> Background { get; } = [];
        /// <summary>POL-12: it asked for more than its budget once (a fault of it was terminated for it); only such an owner can be slow.</summary>
        public bool OverBudget { get; set; }
        /// <summary>POL-12: over budget, and its last fault took longer than <see cref="Smmuv3DriverConfig.SlowFaultNs"/>.</summary>
        public bool Slow { get; set; }
    }
}
