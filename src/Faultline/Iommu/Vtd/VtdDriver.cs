using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>What the VT-d driver's fault path counted.</summary>
public sealed class VtdDriverCounters
{
    /// <summary>Runs of the page request thread.</summary>
    public long Batches { get; internal set; }
    /// <summary>PRQ descriptors the thread consumed.</summary>
    public long Descriptors { get; internal set; }
    /// <summary>Page requests reported to the fault framework.</summary>
    public long Reported { get; internal set; }
    /// <summary>R31 step 2: Stop Markers dropped without a response.</summary>
    public long StopMarkersDropped { get; internal set; }
    /// <summary>R31 steps 1 and 3 (H-VTD-12): bad requests answered INVALID (last or private data).</summary>
    public long BadRequestsAnswered { get; internal set; }
    /// <summary>R31: bad requests that were not last, dropped.</summary>
    public long BadRequestsDropped { get; internal set; }
    /// <summary>R31: PRQ descriptors with a type other than 1 or reserved bits set, handled as Linux does: by their fields.</summary>
    public long UndefinedBitsIgnored { get; internal set; }
    /// <summary>R32: overflow cleared once the ring was empty.</summary>
    public long OverflowsCleared { get; internal set; }
    /// <summary>R32: overflow seen with entries still queued; PRO left set for the next interrupt.</summary>
    public long OverflowsDeferred { get; internal set; }
    /// <summary>Page group response descriptors submitted: framework responses and bad-request answers.</summary>
    public long ResponsesSubmitted { get; internal set; }
    /// <summary>The invalidation queue was full; the descriptor waited for room (qi_submit_sync spins).</summary>
    public long InvalidationQueueWaits { get; internal set; }
}

/// <summary>
/// The Linux VT-d driver's fault path (<c>drivers/iommu/intel/prq.c</c>): the page request thread
/// (R31, R32) and the page_response op (R22). Devices are found by requester id; their faults go to
/// the framework through this unit's IOPF queue.
/// </summary>
public sealed class VtdDriver : IPageResponder
{
    private readonly VtdIommu _iommu;
    private readonly FaultFramework _framework;
    private readonly Dictionary<RequesterId, FaultDevice> _byRequester = new();
    private readonly Dictionary<FaultDevice, RequesterId> _requesterOf = new();
    private readonly byte[] _descriptor = new byte[InvalidationDescriptor.Size];
    private readonly Dictionary<ulong, VtdDrain> _drains = new();
    private readonly CommandSubmitter _submitter;
    private ulong _nextStatusAddress = 0x1000;

    /// <summary>The driver of <paramref name="iommu"/>, with its own IOPF queue in <paramref name="framework"/>.</summary>
    public VtdDriver(VtdIommu iommu, FaultFramework framework, int virtualAddressBits = 48)
    {
        _iommu = iommu;
        _framework = framework;
        VirtualAddressBits = virtualAddressBits;
        Queue = FaultFramework.AllocateQueue($"{iommu.Name}-iopfq");
        _submitter = new CommandSubmitter(iommu.SubmitInvalidation);
    }

    /// <summary>The unit this driver runs.</summary>
    public VtdIommu Iommu => _iommu;
    /// <summary>This unit's IOPF queue (<c>&lt;name&gt;-iopfq</c>), where its devices' faults go.</summary>
    public FaultQueue Queue { get; }
    /// <summary>What the driver counted.</summary>
    public VtdDriverCounters Counters { get; } = new();

    /// <summary>Width of canonical addresses (48 with 4-level paging, 57 with 5-level).</summary>
    public int VirtualAddressBits { get; }

    /// <summary>The per-IOMMU sequence number of the <c>prq_report</c> trace event (vtd.md §8).</summary>
    public long ReportSequence { get; private set; }

    /// <summary>Tracepoint <c>intel_iommu:prq_report</c>: each descriptor reported, its device and sequence number, when a host wants them.</summary>
    public Action<FaultDevice, long, ReadOnlySpan<byte>>? PageRequestTraced { get; set; }
    /// <summary>Tracepoint <c>intel_iommu:qi_submit</c>: each descriptor written to the invalidation queue, when a host wants them.</summary>
    public Action<ReadOnlySpan<byte>>? InvalidationTraced { get; set; }
    /// <summary>The kernel log: each line the fault path prints (vtd.md §8), when a host wants them.</summary>
    public Action<string>? Log { get; set; }

    /// <summary>
    /// Device probe (R34, <c>iommu_enable_pci_caps</c>): PASID, then ATS, then PRI with
    /// min(Capacity, PRQ depth) credits unless <paramref name="credits"/> says otherwise.
    /// </summary>
    public PciEnableError ProbeDevice(IPciConfigSpace function, long now, uint? credits = null) =>
        PciAts.EnableForPageRequests(function, credits ?? (uint)_iommu.PageRequestQueue.Entries, now); // PRQ_DEPTH, not depth - 1

    /// <summary>
    /// Enables fault handling (IOPF) for a probed function: its context entry gets PRE = 1 and the
    /// device joins this unit's IOPF queue (R3). Refused (-ENODEV) when PRI is not enabled on the
    /// function (R34) or the unit lacks page-drain support (H-VTD-14, open point 6).
    /// </summary>
    public (FaultStatus Status, FaultDevice? Device, IPasidTable? PasidTable) AddDevice(IPciConfigSpace function, string name)
    {
        var requester = function.Requester;
        // H-VTD-14: v6.18 refuses a unit without page-drain support; earlier releases go ahead (BUG-16).
        if ((!_iommu.Config.PageDrainSupported && _framework.Policy.VtdIopfNeedsPageDrain) || !_iommu.Config.PageRequestsSupported)
            return (FaultStatus.NoDevice, null, null);
        if (!function.HasCapability(PriCapability.CapabilityId)
            || (function.ReadConfig(PriCapability.CapabilityId, PriCapability.ControlOffset) & PriCapability.ControlEnable) == 0)
            return (FaultStatus.NoDevice, null, null);
        if (_byRequester.ContainsKey(requester)) return (FaultStatus.Busy, null, null);
        var device = new FaultDevice(name, this);
        // POL-4: partials are bounded by what the function can have outstanding.
        uint allocation = function.ReadConfig(PriCapability.CapabilityId, PriCapability.AllocationOffset);
        var status = FaultFramework.AddDevice(Queue, device, (int)Math.Clamp(allocation, 1u, int.MaxValue));
        if (status != FaultStatus.Ok) return (status, null, null);
        _byRequester.Add(requester, device);
        _requesterOf.Add(device, requester);
        return (FaultStatus.Ok, device, _iommu.SetContext(requester, pageRequestEnable: true));
    }

    /// <summary>
    /// The page request thread (R31, R32): acknowledge PPR before reading PQH/PQT, handle every
    /// descriptor from head to tail, write PQH once for the batch, then deal with an overflow.
    /// Returns how many descriptors it consumed.
    /// </summary>
    public int HandlePageRequests(long now)
    {
        Counters.Batches++;
        _iommu.WritePrs(VtdIommu.PrsPendingPageRequest);
        ulong head = _iommu.Pqh, tail = _iommu.Pqt;
        ulong size = (ulong)_iommu.PageRequestQueue.SizeInBytes;
        int handled = 0;
        for (; head != tail; head = (head + PageRequestDescriptor.Size) % size)
        {
            Handle(_iommu.ReadPageRequestQueue(head), now);
            handled++;
        }
        _iommu.WritePqh(tail);
        Counters.Descriptors += handled;

        if ((_iommu.Prs & VtdIommu.PrsOverflow) != 0)
        {
            Log?.Invoke($"IOMMU: {_iommu.Name}: PRQ overflow detected");
            // R32, H-VTD-7: clear PRO only once the ring is empty, and drop partials whose last request may be lost.
            if (_iommu.Pqh == _iommu.Pqt)
            {
                _framework.DiscardPartial(Queue);
                _iommu.WritePrs(VtdIommu.PrsOverflow);
                Counters.OverflowsCleared++;
                Log?.Invoke($"IOMMU: {_iommu.Name}: PRQ overflow cleared");
            }
            else
            {
                Counters.OverflowsDeferred++;
            }
        }
        return handled;
    }

    /// <summary>
    /// R22: one page group response descriptor on the invalidation queue, code mapped per POL-11,
    /// private data echoed or dropped per policy (H-VTD-9).
    /// </summary>
    public void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response, long now)
    {
        var requester = _requesterOf[device];
        bool echo = (lastFault.Flags & FaultFlags.PrivateDataValid) != 0 && _framework.Policy.PrivateData == PrivateDataPolicy.Echo;
        var descriptor = new PageGroupResponseDescriptor(
            requester,
            lastFault.HasPasid,
            new Pasid(response.Pasid & Pasid.Mask),
            PcieWireCode.For(response.Code, _framework.Policy.WireCodes),
            lastFault.IsLast && _framework.Policy.VtdResponseLpig,
            new PrgIndex((ushort)(response.GroupId & PrgIndex.Mask)),
            echo,
            echo ? lastFault.PrivateData0 : 0,
            echo ? lastFault.PrivateData1 : 0);
        SubmitResponse(descriptor);
    }

    /// <summary>The requester id <paramref name="device"/> was added with, or null for a device this driver did not add.</summary>
    public RequesterId? RequesterOf(FaultDevice device) => _requesterOf.TryGetValue(device, out var r) ? r : null;

    /// <summary>
    /// R33: starts draining (device, PASID). Preconditions as in Linux: the function stopped using the
    /// PASID (H-PCI-19) and its PASID table entry is cleared. PASID 0 drains the RID's requests (BUG-8).
    /// </summary>
    public VtdDrain BeginDrain(FaultDevice device, uint pasid, long now)
    {
        var drain = new VtdDrain(this, _framework, device, _requesterOf[device], pasid, _nextStatusAddress, now);
        _nextStatusAddress += 4;
        return drain;
    }

    /// <summary>
    /// Whether a descriptor of (requester, PASID) lies between PQH and PQT (R33's scan). PASID-less
    /// descriptors count as PASID 0, so draining the RID covers them (the BUG-8 fix).
    /// </summary>
    public bool RingHolds(RequesterId requester, uint pasid) =>
        _iommu.PageRequestQueue.AnyPending((requester, pasid), static (bytes, key) =>
            PageRequestDescriptor.Decode(bytes) is { IsOk: true, Value: var d } && d.Requester == key.requester && (d.PasidPresent ? d.Pasid.Value : 0) == key.pasid);

    /// <summary>The hardware executed a wait with status write: the drain waiting on that slot goes on.</summary>
    public void OnInvalidationWaitCompleted(in InvalidationWaitDescriptor wait)
    {
        if (_drains.Remove(wait.StatusAddress, out var drain)) drain.OnWaitCompleted();
    }

    /// <summary>
    /// The hardware step of R33, as Linux submits it: wait (fence), PASID-IOTLB invalidation of the
    /// PASID, device-TLB invalidation of every address of it (for the RID: domain-selective IOTLB and
    /// non-PASID device-TLB invalidation), and the trailing wait with status write and page-request
    /// drain (PD only where ECAP.PDS is set, H-VTD-14).
    /// </summary>
    internal void SubmitDrainDescriptors(VtdDrain drain)
    {
        const uint QiDone = 2;
        var pasid = new Pasid(drain.Pasid);
        new InvalidationWaitDescriptor(false, false, Fence: true, false, QiDone, 0).Encode(_descriptor);
        Submit();
        if (drain.Pasid == 0)
        {
            // The RID (IOMMU_NO_PASID): domain-selective IOTLB and non-PASID device-TLB invalidation.
            IotlbInvalidationDescriptor.DomainSelective(0).Encode(_descriptor);
            Submit();
            DeviceTlbInvalidationDescriptor.ForRange(drain.Requester, drain.Requester, 0, 0, DeviceTlbRange.MaxSizeOrder).Encode(_descriptor);
        }
        else
        {
            PasidIotlbInvalidationDescriptor.AllInPasid(0, pasid).Encode(_descriptor);
            Submit();
            PasidDeviceTlbInvalidationDescriptor.ForRange(drain.Requester, drain.Requester, pasid, 0, 0, DeviceTlbRange.MaxSizeOrder)
                .Encode(_descriptor);
        }
        Submit();
        new InvalidationWaitDescriptor(false, StatusWrite: true, false,
            _iommu.Config.PageDrainSupported || !_framework.Policy.VtdIopfNeedsPageDrain, QiDone, drain.StatusAddress) // BUG-16: PD regardless
            .Encode(_descriptor);
        Submit();
        _drains[drain.StatusAddress] = drain;
    }

    private void Handle(ReadOnlySpan<byte> bytes, long now)
    {
        var decoded = PageRequestDescriptor.Decode(bytes);
        if (!decoded.IsOk)
        {
            // prq_event_thread reads the fields it uses and checks neither the type nor reserved bits (R31):
            // dropping the descriptor would leave its function waiting for ever.
            Counters.UndefinedBitsIgnored++;
            decoded = PageRequestDescriptor.Decode(bytes, UndefinedBits.Ignore);
        }
        var d = decoded.Value;

        // R31 step 1 (H-VTD-12): non-canonical address, privileged request with read or write, execute with read;
        // up to v6.12 also no PASID.
        if ((!d.PasidPresent && _framework.Policy.VtdPasidlessRequestsAreBad) || !IsCanonical(d.PageAddress) || (d.PrivilegedModeRequested && (d.ReadRequested || d.WriteRequested))
            || (d.ExecuteRequested && d.ReadRequested))
        {
            AnswerBadRequest(d);
            return;
        }
        // R31 step 2, H-PCI-20: a Stop Marker needs no response.
        if (d.IsStopMarker)
        {
            Counters.StopMarkersDropped++;
            return;
        }
        // R31 step 3: unknown requester id is a bad request.
        if (!_byRequester.TryGetValue(d.Requester, out var device))
        {
            AnswerBadRequest(d);
            return;
        }

        var flags = FaultFlags.None;
        if (d.LastPageInGroup) flags |= FaultFlags.LastPage;
        if (d.PasidPresent) flags |= FaultFlags.PasidValid | FaultFlags.ResponseNeedsPasid;
        if (d.PrivateDataPresent) flags |= FaultFlags.PrivateDataValid;
        var perm = FaultPermissions.None;
        if (d.ReadRequested) perm |= FaultPermissions.Read;
        if (d.WriteRequested) perm |= FaultPermissions.Write;
        if (d.ExecuteRequested) perm |= FaultPermissions.Exec;
        if (d.PrivilegedModeRequested) perm |= FaultPermissions.Priv;
        var fault = new Fault(flags, d.PasidPresent ? d.Pasid.Value : 0, d.Index.Value, perm, d.PageAddress,
            d.PrivateDataPresent ? d.PrivateData0 : 0, d.PrivateDataPresent ? d.PrivateData1 : 0);
        _framework.Report(device, fault, now);
        Counters.Reported++;
        PageRequestTraced?.Invoke(device, ReportSequence, bytes); // prq.c traces after the report, seq# post-incremented
        ReportSequence++;
    }

    /// <summary>
    /// R31: INVALID only for a last request (current Linux ignores private data here too). Under the
    /// Echo private-data policy, H-VTD-9: a request with private data is answered as well, echoing it.
    /// </summary>
    private void AnswerBadRequest(in PageRequestDescriptor d)
    {
        bool echo = d.PrivateDataPresent && _framework.Policy.PrivateData == PrivateDataPolicy.Echo;
        if (!d.LastPageInGroup && !echo)
        {
            Counters.BadRequestsDropped++;
            return;
        }
        Counters.BadRequestsAnswered++;
        SubmitResponse(new PageGroupResponseDescriptor(d.Requester, d.PasidPresent, d.Pasid, ResponseCode.InvalidRequest,
            d.LastPageInGroup && _framework.Policy.VtdResponseLpig, d.Index, echo, echo ? d.PrivateData0 : 0, echo ? d.PrivateData1 : 0));
    }

    private void SubmitResponse(in PageGroupResponseDescriptor descriptor)
    {
        descriptor.Encode(_descriptor);
        Submit();
        Counters.ResponsesSubmitted++;
    }

    /// <summary>Puts the descriptor in <c>_descriptor</c> at IQT, waiting in order while the queue is full (qi_submit_sync spins).</summary>
    private void Submit()
    {
        InvalidationTraced?.Invoke(_descriptor);
        if (_submitter.Submit(_descriptor)) Counters.InvalidationQueueWaits++;
    }

    /// <summary>Submits the descriptors that waited for room; the host calls it when the hardware has consumed some.</summary>
    public void RetrySubmissions() => _submitter.Retry();

    /// <summary>Descriptors waiting for room in the invalidation queue.</summary>
    public int WaitingSubmissions => _submitter.Waiting;

    private bool IsCanonical(ulong address)
    {
        int shift = VirtualAddressBits - 1;
        ulong upper = address >> shift;
        return upper == 0 || upper == (ulong.MaxValue >> shift);
    }
}
