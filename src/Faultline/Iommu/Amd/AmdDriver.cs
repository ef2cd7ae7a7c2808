using System.Buffers.Binary;
using Faultline.Faults;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Iommu.Amd;

/// <summary>What the AMD driver's fault path counted.</summary>
public sealed class AmdDriverCounters
{
    /// <summary>PPR interrupts the thread began to handle (a call that resumes a waiting pass does not count).</summary>
    public long Interrupts { get; internal set; }
    /// <summary>Passes over the PPR log (a pass resumed after a poll counts once).</summary>
    public long Batches { get; internal set; }
    /// <summary>PPR log entries consumed.</summary>
    public long Entries { get; internal set; }
    /// <summary>Page requests reported to the fault framework.</summary>
    public long Reported { get; internal set; }
    /// <summary>H-PCI-20 under <see cref="AmdDriverOptions.DropStopMarkers"/>: Stop Markers consumed without a report.</summary>
    public long StopMarkersDropped { get; internal set; }
    /// <summary>R35: an entry whose type is not a page service request: "Unknown PPR request received", no response.</summary>
    public long UnknownRequests { get; internal set; }
    /// <summary>R35: no PCI device at the entry's DeviceID: dropped, no response.</summary>
    public long UnknownDevices { get; internal set; }
    /// <summary>R35, H-AMD-4: GN = 0 or RVSD set, answered FAILURE.</summary>
    public long InvalidRequests { get; internal set; }
    /// <summary>R35, H-AMD-4: PASID 0 or at least the device's limit: "Invalid PASID", answered FAILURE.</summary>
    public long InvalidPasids { get; internal set; }
    /// <summary>R35: entries with bits no source defines set, handled as Linux does: by their defined fields.</summary>
    public long UndefinedBitsIgnored { get; internal set; }
    /// <summary>H-AMD-3: 1 µs polls of an entry still zero.</summary>
    public long EntryPolls { get; internal set; }
    /// <summary>H-AMD-3: entries taken as they were after <see cref="AmdDriverOptions.PollLimit"/> polls.</summary>
    public long EntryPollTimeouts { get; internal set; }
    /// <summary>H-AMD-2: PPR log restarts.</summary>
    public long LogRestarts { get; internal set; }
    /// <summary>H-AMD-2: overflow seen with PPRLogRun still 1: nothing done.</summary>
    public long RestartsNotNeeded { get; internal set; }
    /// <summary>COMPLETE_PPR_REQUEST commands submitted: framework responses and FAILURE answers.</summary>
    public long ResponsesSubmitted { get; internal set; }
    /// <summary>The command buffer was full; the command waited for room (iommu_queue_command spins).</summary>
    public long CommandBufferWaits { get; internal set; }
}

/// <summary>What a pass over the PPR log ended with.</summary>
public enum PprPoll
{
    /// <summary>Head reached the tail read at the start of the pass.</summary>
    Drained,
    /// <summary>H-AMD-3: the entry at head is still zero; the host calls again after <see cref="AmdDriver.PollInterval"/>.</summary>
    EntryNotWritten,
}

/// <summary>
/// The Linux AMD IOMMU driver's fault path (<c>drivers/iommu/amd/ppr.c</c>, R35): the PPR interrupt
/// thread with its log restart (H-AMD-2), the poll that waits out late entries (H-AMD-3), and the
/// page_response op (R22) that turns a response into COMPLETE_PPR_REQUEST. Devices are found by
/// DeviceID; their faults go to the framework through this IOMMU's IOPF queue.
/// </summary>
public sealed class AmdDriver : IPageResponder
{
    /// <summary>R35: <c>udelay(1)</c> between polls of an entry still zero.</summary>
    public const long PollInterval = 1_000;

    private const uint InterruptMask = AmdIommu.StatusPprInt | AmdIommu.StatusPprOverflow;

    private readonly AmdIommu _iommu;
    private readonly FaultFramework _framework;
    private readonly Dictionary<RequesterId, DeviceData> _byRequester = new();
    private readonly Dictionary<FaultDevice, DeviceData> _byDevice = new();
    private readonly byte[] _entry = new byte[PprLogEntry.Size];
    private readonly byte[] _command = new byte[CompletePprRequestCommand.Size];
    private readonly CommandSubmitter _submitter;

    // A pass interrupted by a zero entry resumes here (H-AMD-3).
    private bool _inPass;
    private ulong _head, _tail;
    private int _polls;
    // The Status snapshot of the interrupt-thread iteration in progress, while its pass waits.
    private uint? _irqStatus;

    /// <summary>The driver of <paramref name="iommu"/>, with its IOPF queue named after it; <paramref name="options"/> default to what the framework's policy implies.</summary>
    public AmdDriver(AmdIommu iommu, FaultFramework framework, AmdDriverOptions? options = null)
    {
        _iommu = iommu;
        _framework = framework;
        Options = options ?? AmdDriverOptions.For(framework.Policy);
        Queue = FaultFramework.AllocateQueue(iommu.Name); // framework.md §1.3: amdvi-<sbdf>
        _submitter = new CommandSubmitter(iommu.SubmitCommand);
    }

    /// <summary>The IOMMU this driver runs.</summary>
    public AmdIommu Iommu => _iommu;
    /// <summary>This IOMMU's IOPF queue (<c>amdvi-&lt;sbdf&gt;</c>), where its devices' faults go.</summary>
    public FaultQueue Queue { get; }
    /// <summary>The host choices the driver runs with.</summary>
    public AmdDriverOptions Options { get; }
    /// <summary>What the driver counted.</summary>
    public AmdDriverCounters Counters { get; } = new();

    /// <summary>The kernel log: each line the PPR path prints (amd.md §5, "AMD-Vi: " prefix left to the host), when a host wants them.</summary>
    public Action<string>? Log { get; set; }
    /// <summary>Each fault reported to the framework (no upstream tracepoint: the proposed <c>iommu:dev_fault</c>), when a host wants them.</summary>
    public Action<FaultDevice, Fault>? FaultTraced { get; set; }
    /// <summary>Each COMPLETE_PPR_REQUEST the driver queued, as the response it carries (the proposed <c>iommu:dev_page_response</c>).</summary>
    public Action<FaultDevice, PageResponse>? ResponseTraced { get; set; }

    /// <summary>
    /// <c>amd_iommu_enable_ppr_log</c>: PPREn, the log base with 2^order entries, head and tail 0, then
    /// PPRIntEn and PPRLogEn (which sets PPRLogRun). False if the hardware lacks PPRSup.
    /// </summary>
    public bool EnablePprLog()
    {
        if ((_iommu.Efr & AmdIommu.EfrPprSup) == 0) return false;
        Enable(AmdIommu.ControlPprEn);
        _iommu.WritePprLogBase((ulong)_iommu.Config.PprLogOrder << AmdIommu.PprLogLengthShift);
        _iommu.WritePprHead(0);
        _iommu.WritePprTail(0);
        Enable(AmdIommu.ControlPprIntEn);
        Enable(AmdIommu.ControlPprLogEn);
        return true;
    }

    /// <summary>The PRI credits upstream asks for every function, whatever the PPR log's size (R35).</summary>
    public const uint PriCredits = 32;

    /// <summary>
    /// Device probe (<c>pdev_enable_caps</c>, R34 order): PASID, then ATS, then PRI with min(Capacity, credits)
    /// outstanding requests, credits defaulting to <see cref="PriCredits"/> (<c>pdev_enable_cap_pri</c> hard-codes
    /// 32). Unlike VT-d it enables PRI on a function without "PRG Response PASID Required": it only reads the bit
    /// (<c>pri_tlp</c>) to set GN on its responses.
    /// </summary>
    public PciEnableError ProbeDevice(IPciConfigSpace function, long now, uint? credits = null) =>
        PciAts.EnableForPageRequests(function, credits ?? PriCredits, now, requirePrgResponsePasid: false);

    /// <summary>
    /// Enables fault handling for a probed function (<c>amd_iommu_iopf_add_device</c>): the device joins
    /// this IOMMU's IOPF queue with its PRI allocation as partial limit (POL-4) and its DTE gets PPR = 1
    /// (H-AMD-1). Its PASID limit is min(IOMMU limit, 2^width of its PASID capability) (H-AMD-6).
    /// Refused (-ENODEV) without PRI enabled on the function or PPRSup in the IOMMU.
    /// </summary>
    public (FaultStatus Status, FaultDevice? Device, IPasidTable? PasidTable) AddDevice(IPciConfigSpace function, string name)
    {
        var requester = function.Requester;
        if ((_iommu.Efr & AmdIommu.EfrPprSup) == 0) return (FaultStatus.NoDevice, null, null);
        if (!function.HasCapability(PriCapability.CapabilityId)
            || (function.ReadConfig(PriCapability.CapabilityId, PriCapability.ControlOffset) & PriCapability.ControlEnable) == 0)
            return (FaultStatus.NoDevice, null, null);
        if (_byRequester.ContainsKey(requester)) return (FaultStatus.Busy, null, null);
        var device = new FaultDevice(name, this);
        uint allocation = function.ReadConfig(PriCapability.CapabilityId, PriCapability.AllocationOffset);
        var status = FaultFramework.AddDevice(Queue, device, (int)Math.Clamp(allocation, 1u, int.MaxValue));
        if (status != FaultStatus.Ok) return (status, null, null);

        uint maxPasids = 0;
        if (function.HasCapability(PasidCapability.CapabilityId))
        {
            int width = (int)((function.ReadConfig(PasidCapability.CapabilityId, PasidCapability.CapabilityOffset) >> 8) & 0x1F);
            maxPasids = Math.Min(_iommu.Config.MaxPasids, 1u << width);
        }
        // pri_tlp: the function wants the PASID on its PRG Responses; Linux sets GN from it.
        bool priTlp = (function.ReadConfig(PriCapability.CapabilityId, PriCapability.StatusOffset) & PriCapability.StatusPrgResponsePasidRequired) != 0;
        var data = new DeviceData(device, requester, maxPasids, priTlp);
        _byRequester.Add(requester, data);
        _byDevice.Add(device, data);
        return (FaultStatus.Ok, device, _iommu.SetDeviceTableEntry(requester, ppr: true));
    }

    /// <summary>The DeviceID <paramref name="device"/> was added with, or null for a device this driver did not add.</summary>
    public RequesterId? RequesterOf(FaultDevice device) => _byDevice.TryGetValue(device, out var d) ? d.Requester : null;

    /// <summary>The PASID limit the driver checks requests against (R35).</summary>
    public uint MaxPasidsOf(FaultDevice device) => _byDevice[device].MaxPasids;

    /// <summary>
    /// The PPR interrupt thread (<c>amd_iommu_handle_irq</c> for the PPR log): while Status shows PPRInt
    /// or PPROverflow, clear both (RW1C), poll the log, restart it if the snapshot showed an overflow,
    /// and read Status back (erratum ERBT1312). A pass waiting on a late entry returns
    /// <see cref="PprPoll.EntryNotWritten"/>; the next call resumes it.
    /// </summary>
    public PprPoll HandleInterrupt(long now)
    {
        if (_irqStatus is not { } status)
        {
            Counters.Interrupts++;
            status = _iommu.Status;
        }
        while ((status & InterruptMask) != 0)
        {
            if (_irqStatus is null)
            {
                _iommu.WriteStatus(InterruptMask);
                _irqStatus = status;
            }
            if (HandlePprLog(now) == PprPoll.EntryNotWritten) return PprPoll.EntryNotWritten;
            _irqStatus = null;
            if ((status & AmdIommu.StatusPprOverflow) != 0) RestartPprLog();
            status = _iommu.Status;
        }
        return PprPoll.Drained;
    }

    /// <summary>
    /// R35 (<c>amd_iommu_poll_ppr_log</c>): from head to the tail read at the start of the pass, wait for
    /// a zero entry to be written (H-AMD-3: one poll per call, the host calling again after
    /// <see cref="PollInterval"/>, up to <see cref="AmdDriverOptions.PollLimit"/>), copy it, zero its
    /// slot unless SNP, publish the new head, and only then handle the copy.
    /// </summary>
    public PprPoll HandlePprLog(long now)
    {
        if (!_inPass)
        {
            Counters.Batches++;
            _head = _iommu.PprHead;
            _tail = _iommu.PprTail;
            _inPass = true;
        }
        ulong size = (ulong)_iommu.PprLog.SizeInBytes;
        while (_head != _tail)
        {
            var raw = _iommu.ReadPprLog(_head);
            if (RequestType(raw) == 0)
            {
                if (_polls < Options.PollLimit)
                {
                    _polls++;
                    Counters.EntryPolls++;
                    return PprPoll.EntryNotWritten;
                }
                Counters.EntryPollTimeouts++; // taken as it is: a zero entry is an unknown request type
            }
            _polls = 0;
            raw.CopyTo(_entry);
            if (!Options.SnpEnabled) _iommu.ZeroPprLogEntry(_head); // erratum 733
            _head = (_head + PprLogEntry.Size) % size;
            _iommu.WritePprHead(_head);
            Counters.Entries++;
            Handle(_entry, now);
        }
        _inPass = false;
        return PprPoll.Drained;
    }

    /// <summary>
    /// H-AMD-2 (<c>amd_iommu_restart_ppr_log</c>): nothing if PPRLogRun is still 1; else clear PPRLogEn
    /// and PPRIntEn, write 1 to PPROverflow, set PPRIntEn, then PPRLogEn. Lost requests are not answered;
    /// partials are discarded only under <see cref="AmdDriverOptions.DiscardPartialsOnRestart"/>.
    /// </summary>
    public void RestartPprLog()
    {
        if ((_iommu.Status & AmdIommu.StatusPprLogRun) != 0)
        {
            Counters.RestartsNotNeeded++;
            return;
        }
        Log?.Invoke("IOMMU PPR log restarting");
        Disable(AmdIommu.ControlPprLogEn);
        Disable(AmdIommu.ControlPprIntEn);
        _iommu.WriteStatus(AmdIommu.StatusPprOverflow);
        Enable(AmdIommu.ControlPprIntEn);
        Enable(AmdIommu.ControlPprLogEn);
        Counters.LogRestarts++;
        if (Options.DiscardPartialsOnRestart) _framework.DiscardPartial(Queue);
    }

    /// <summary>
    /// R22 (<c>amd_iommu_page_response</c>): one COMPLETE_PPR_REQUEST with the response's PASID, tag =
    /// grpid masked to 9 bits, GN from the function's PRG-Response-PASID-Required bit, and the code per
    /// POL-11 (Linux puts the enum value in the status field, so FAILURE goes out as 2).
    /// </summary>
    public void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response, long now) =>
        Complete(_byDevice[device], response.Pasid, response.GroupId, response.Code);

    /// <summary>
    /// Whether an entry of (requester, PASID) lies between head and tail, as the driver can see it in
    /// memory. A slot still zero (H-AMD-3) may hold anything, so it counts.
    /// </summary>
    public bool RingHolds(RequesterId requester, uint pasid) =>
        _iommu.PprLog.AnyPending((requester, pasid), static (raw, key) =>
            RequestType(raw) == 0 // not written yet (H-AMD-3): it may be this PASID's
            || (PprLogEntry.Decode(raw) is { IsOk: true, Value: var e } && e.Concerns(key.requester, key.pasid)));

    /// <summary>Submits the commands that waited for room; the host calls it when the hardware has consumed some.</summary>
    public void RetrySubmissions()
    {
        _submitter.Retry();
    }

    /// <summary>Commands waiting for room in the command buffer.</summary>
    public int WaitingSubmissions => _submitter.Waiting;

    private void Handle(ReadOnlySpan<byte> bytes, long now)
    {
        var decoded = PprLogEntry.Decode(bytes);
        if (!decoded.IsOk)
        {
            // ppr.c takes each field with its PPR_* mask and looks at no other bit (R35): dropping the entry would
            // leave its function waiting for ever.
            Counters.UndefinedBitsIgnored++;
            decoded = PprLogEntry.Decode(bytes, UndefinedBits.Ignore);
        }
        var e = decoded.Value;
        if (!e.IsPageServiceRequest)
        {
            Counters.UnknownRequests++;
            Log?.Invoke("Unknown PPR request received");
            return;
        }
        if (!_byRequester.TryGetValue(e.DeviceId, out var data))
        {
            Counters.UnknownDevices++; // no pci_dev: Linux returns without an answer
            return;
        }
        if (!e.Gn || e.Rvsd)
        {
            Counters.InvalidRequests++;
            Complete(data, e.Pasid.Value, e.PrgIndex.Value, PageResponseCode.Failure); // "Nobody cared, abort"
            return;
        }
        // H-PCI-20: ppr.c reports a Stop Marker as a one-page group, whose answer reaches a function that has
        // nothing outstanding at that index (UPRGI, H-PCI-10). Dropped here as VT-d's R31 step 2 does.
        if (e.IsStopMarker && Options.DropStopMarkers)
        {
            Counters.StopMarkersDropped++;
            return;
        }
        uint pasid = e.Pasid.Value;
        if (pasid == 0 || pasid >= data.MaxPasids)
        {
            Counters.InvalidPasids++;
            Log?.Invoke($"Invalid PASID : 0x{pasid:x}, device : 0x{data.Requester.Value:x}");
            Complete(data, pasid, e.PrgIndex.Value, PageResponseCode.Failure);
            return;
        }

        var flags = FaultFlags.PasidValid | FaultFlags.ResponseNeedsPasid;
        if (e.Last) flags |= FaultFlags.LastPage;
        var perm = FaultPermissions.None;
        if (e.ReadRequested) perm |= FaultPermissions.Read;
        if (e.WriteRequested) perm |= FaultPermissions.Write;
        if (e.ExecuteRequested) perm |= FaultPermissions.Exec;
        if (e.PrivilegedModeRequested) perm |= FaultPermissions.Priv; // PRIV iff U/S clear
        var fault = new Fault(flags, pasid, e.PrgIndex.Value, perm, e.PageAddress);
        FaultTraced?.Invoke(data.Device, fault);
        _framework.Report(data.Device, fault, now);
        Counters.Reported++;
    }

    /// <summary><c>amd_iommu_complete_ppr</c> → <c>build_complete_ppr</c>, queued on the command buffer.</summary>
    private void Complete(DeviceData data, uint pasid, uint tag, PageResponseCode code)
    {
        ResponseTraced?.Invoke(data.Device, new PageResponse(pasid, tag, code));
        CompletePprRequestCommand.ForResponse(data.Requester, new Pasid(pasid & Pasid.Mask), data.PriTlp,
            new PrgIndex((ushort)(tag & PrgIndex.Mask)), PcieWireCode.For(code, _framework.Policy.WireCodes)).Encode(_command);
        Counters.ResponsesSubmitted++;
        if (_submitter.Submit(_command)) Counters.CommandBufferWaits++;
    }

    private void Enable(ulong bit) => _iommu.WriteControl(_iommu.Control | bit);

    private void Disable(ulong bit) => _iommu.WriteControl(_iommu.Control & ~bit);

    /// <summary><c>PPR_REQ_TYPE(raw[0])</c>: 0 until the hardware has written the entry, or after software zeroed it.</summary>
    private static int RequestType(ReadOnlySpan<byte> raw) => (int)(BinaryPrimitives.ReadUInt64LittleEndian(raw) >> 60);

    private sealed record DeviceData(FaultDevice Device, RequesterId Requester, uint MaxPasids, bool PriTlp);
}
