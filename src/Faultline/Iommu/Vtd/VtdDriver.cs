using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

public sealed class VtdDriverCounters
{
    public long Batches;
    public long Descriptors;
    public long Reported;
    /// <summary>R31 step 2: Stop Markers dropped without a response.</summary>
    public long StopMarkersDropped;
    /// <summary>R31 steps 1 and 3 (H-VTD-12): bad requests answered INVALID (last or private data).</summary>
    public long BadRequestsAnswered;
    /// <summary>R31: bad requests that were not last, dropped.</summary>
    public long BadRequestsDropped;
    public long MalformedDescriptors;
    /// <summary>R32: overflow cleared once the ring was empty.</summary>
    public long OverflowsCleared;
    /// <summary>R32: overflow seen with entries still queued; PRO left set for the next interrupt.</summary>
    public long OverflowsDeferred;
    public long ResponsesSubmitted;
    /// <summary>The invalidation queue was full; the submitter waited for the hardware (qi_submit_sync).</summary>
    public long InvalidationQueueWaits;
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
    private readonly byte[] _descriptor = new byte[PageGroupResponseDescriptor.Size];

    public VtdDriver(VtdIommu iommu, FaultFramework framework, int virtualAddressBits = 48)
    {
        _iommu = iommu;
        _framework = framework;
        VirtualAddressBits = virtualAddressBits;
        Queue = FaultFramework.AllocateQueue($"{iommu.Name}-iopfq");
    }

    public VtdIommu Iommu => _iommu;
    public FaultQueue Queue { get; }
    public VtdDriverCounters Counters { get; } = new();

    /// <summary>Width of canonical addresses (48 with 4-level paging, 57 with 5-level).</summary>
    public int VirtualAddressBits { get; }

    /// <summary>The per-IOMMU sequence number of the <c>prq_report</c> trace event (vtd.md §8).</summary>
    public long ReportSequence { get; private set; }

    /// <summary>
    /// Device probe (R34, <c>iommu_enable_pci_caps</c>): PASID, then ATS, then PRI with
    /// min(Capacity, PRQ depth) credits unless <paramref name="credits"/> says otherwise.
    /// </summary>
    public PciEnableError ProbeDevice(IPciConfigSpace function, long now, uint? credits = null) =>
        PciAts.EnableForPageRequests(function, credits ?? (uint)_iommu.PageRequestQueue.Capacity, now);

    /// <summary>
    /// Enables fault handling (IOPF) for a probed function: its context entry gets PRE = 1 and the
    /// device joins this unit's IOPF queue (R3). Refused (-ENODEV) when PRI is not enabled on the
    /// function (R34) or the unit lacks page-drain support (H-VTD-14, open point 6).
    /// </summary>
    public (FaultStatus Status, FaultDevice? Device, IPasidTable? PasidTable) AddDevice(IPciConfigSpace function, string name)
    {
        var requester = function.Requester;
        if (!_iommu.Config.PageDrainSupported || !_iommu.Config.PageRequestsSupported) return (FaultStatus.NoDevice, null, null);
        if (!function.HasCapability(PriCapability.CapabilityId)
            || (function.ReadConfig(PriCapability.CapabilityId, PriCapability.ControlOffset) & PriCapability.ControlEnable) == 0)
            return (FaultStatus.NoDevice, null, null);
        if (_byRequester.ContainsKey(requester)) return (FaultStatus.Busy, null, null);
        var device = new FaultDevice(name, this);
        var status = FaultFramework.AddDevice(Queue, device);
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
    public int HandlePageRequests()
    {
        Counters.Batches++;
        _iommu.WritePrs(VtdIommu.PrsPendingPageRequest);
        ulong head = _iommu.Pqh, tail = _iommu.Pqt;
        ulong size = (ulong)_iommu.PageRequestQueue.SizeInBytes;
        int handled = 0;
        for (; head != tail; head = (head + PageRequestDescriptor.Size) % size)
        {
            Handle(_iommu.ReadPageRequestQueue(head));
            handled++;
        }
        _iommu.WritePqh(tail);
        Counters.Descriptors += handled;

        if ((_iommu.Prs & VtdIommu.PrsOverflow) != 0)
        {
            // R32, H-VTD-7: clear PRO only once the ring is empty, and drop partials whose last request may be lost.
            if (_iommu.Pqh == _iommu.Pqt)
            {
                _framework.DiscardPartial(Queue);
                _iommu.WritePrs(VtdIommu.PrsOverflow);
                Counters.OverflowsCleared++;
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
    public void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response)
    {
        var requester = _requesterOf[device];
        bool echo = (lastFault.Flags & FaultFlags.PrivateDataValid) != 0 && _framework.Policy.PrivateData == PrivateDataPolicy.Echo;
        var descriptor = new PageGroupResponseDescriptor(
            requester,
            lastFault.HasPasid,
            new Pasid(response.Pasid & Pasid.Mask),
            WireCode(response.Code, _framework.Policy.WireCodes),
            lastFault.IsLast,
            new PrgIndex((ushort)(response.GroupId & PrgIndex.Mask)),
            echo,
            echo ? lastFault.PrivateData0 : 0,
            echo ? lastFault.PrivateData1 : 0);
        Submit(descriptor);
    }

    /// <summary>POL-11: Linux places the enum verbatim, so FAILURE (2) reaches the wire as a reserved code.</summary>
    public static ResponseCode WireCode(PageResponseCode code, WireCodePolicy policy) => policy switch
    {
        WireCodePolicy.EnumVerbatim => (ResponseCode)(byte)code,
        _ => code switch
        {
            PageResponseCode.Success => ResponseCode.Success,
            PageResponseCode.Invalid => ResponseCode.InvalidRequest,
            _ => ResponseCode.ResponseFailure,
        },
    };

    private void Handle(ReadOnlySpan<byte> bytes)
    {
        var decoded = PageRequestDescriptor.Decode(bytes);
        if (!decoded.IsOk)
        {
            Counters.MalformedDescriptors++;
            return;
        }
        var d = decoded.Value;

        // R31 step 1 (H-VTD-12): non-canonical address, privileged request with read or write, execute with read.
        if (!IsCanonical(d.PageAddress) || (d.PrivilegedModeRequested && (d.ReadRequested || d.WriteRequested))
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
        _framework.Report(device, fault);
        Counters.Reported++;
        ReportSequence++;
    }

    /// <summary>R31, H-VTD-9: INVALID only for a last request or one with private data, echoing the private data.</summary>
    private void AnswerBadRequest(in PageRequestDescriptor d)
    {
        if (!d.LastPageInGroup && !d.PrivateDataPresent)
        {
            Counters.BadRequestsDropped++;
            return;
        }
        Counters.BadRequestsAnswered++;
        Submit(new PageGroupResponseDescriptor(d.Requester, d.PasidPresent, d.Pasid, ResponseCode.InvalidRequest,
            d.LastPageInGroup, d.Index, d.PrivateDataPresent, d.PrivateData0, d.PrivateData1));
    }

    private void Submit(in PageGroupResponseDescriptor descriptor)
    {
        descriptor.Encode(_descriptor);
        if (!_iommu.SubmitInvalidation(_descriptor))
        {
            Counters.InvalidationQueueWaits++;
            _iommu.ProcessInvalidationQueue();
            _iommu.SubmitInvalidation(_descriptor);
        }
        Counters.ResponsesSubmitted++;
    }

    private bool IsCanonical(ulong address)
    {
        int shift = VirtualAddressBits - 1;
        ulong upper = address >> shift;
        return upper == 0 || upper == (ulong.MaxValue >> shift);
    }
}
