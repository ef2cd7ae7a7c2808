using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// The hardware side of one VT-d remapping unit in scalable mode: ATS translation through the
/// per-device PASID table, the page request queue (PQH/PQT/PQA, PRS.PPR/PRO, PECTL), and the
/// invalidation queue that carries page group responses back to functions.
/// </summary>
public sealed class VtdIommu
{
    /// <summary>PRS.PPR, bit 0: pending page request.</summary>
    public const uint PrsPendingPageRequest = 1 << 0;
    /// <summary>PRS.PRO, bit 1: page request overflow.</summary>
    public const uint PrsOverflow = 1 << 1;

    private readonly IVtdPlatform _platform;
    private readonly Dictionary<RequesterId, ContextEntry> _contexts = new();
    private readonly byte[] _scratch = new byte[PageRequestDescriptor.Size];

    /// <summary>A unit with an empty PRQ and invalidation queue, no context entries, and events unmasked.</summary>
    public VtdIommu(VtdConfig config, IVtdPlatform platform)
    {
        Config = config;
        _platform = platform;
        PageRequestQueue = new RingQueue(config.PageRequestQueueEntries, PageRequestDescriptor.Size, RingFullRule.ReserveOneSlot, RingOverflowMode.DiscardWhileLatched);
        InvalidationQueue = new RingQueue(config.InvalidationQueueEntries, PageGroupResponseDescriptor.Size, RingFullRule.ReserveOneSlot, RingOverflowMode.Latch);
    }

    /// <summary>The unit's configuration.</summary>
    public VtdConfig Config { get; }
    /// <summary>The unit's name (<see cref="VtdConfig.Name"/>).</summary>
    public string Name => Config.Name;
    /// <summary>What the hardware model counted.</summary>
    public VtdCounters Counters { get; } = new();
    /// <summary>The PRQ: 32-byte page request descriptors, one slot kept free, nothing written while PRO is set (H-VTD-4).</summary>
    public RingQueue PageRequestQueue { get; }
    /// <summary>The invalidation queue: 32-byte descriptors software submits at IQT.</summary>
    public RingQueue InvalidationQueue { get; }

    /// <summary>PRS.PPR: set when a descriptor is queued, cleared by software (RW1C).</summary>
    public bool PendingPageRequest { get; private set; }

    /// <summary>PECTL.IM: events are held while masked.</summary>
    public bool EventMasked { get; private set; }

    /// <summary>PECTL.IP: an event was held while masked.</summary>
    public bool EventPending { get; private set; }

    /// <summary>Sets up the scalable-mode context entry of a function: PRE and its PASID table.</summary>
    public IPasidTable SetContext(RequesterId requester, bool pageRequestEnable)
    {
        var entry = new ContextEntry(pageRequestEnable);
        _contexts[requester] = entry;
        return entry;
    }

    /// <summary>Whether <paramref name="requester"/> has a context entry.</summary>
    public bool HasContext(RequesterId requester) => _contexts.ContainsKey(requester);

    /// <summary>The ATS translation agent (pcie.md §1 step 2).</summary>
    public TranslationCompletion Translate(in TranslationRequest request)
    {
        Counters.TranslationRequests++;
        return _contexts.TryGetValue(request.Requester, out var context) ? context.Translate(request) : TranslationCompletion.Unsupported(request.Tag);
    }

    /// <summary>A Page Request message arrives (H-VTD-1..6).</summary>
    public RingWrite? OnPageRequest(in PageRequest request)
    {
        Counters.PageRequestsReceived++;
        if (!Config.PageRequestsSupported || !_contexts.TryGetValue(request.Requester, out var context) || !context.PageRequestEnable)
        {
            // H-VTD-1: not queued; a fault is recorded. [UNVERIFIED] default: answer a last request Invalid Request.
            Counters.RefusedAtGate++;
            AutoRespond(request, ResponseCode.InvalidRequest);
            return null;
        }

        PageRequestDescriptor.From(request).Encode(_scratch);
        bool quietBefore = !PendingPageRequest && !PageRequestQueue.Overflowed;
        var write = PageRequestQueue.TryProduce(_scratch);
        switch (write)
        {
            case RingWrite.Written:
                Counters.Queued++;
                PendingPageRequest = true;
                break;
            case RingWrite.Full:
                Counters.DiscardedFull++;
                break;
            default:
                Counters.DiscardedWhileOverflowed++;
                break;
        }
        if (write != RingWrite.Written && Config.DiscardAutoResponse == DiscardAutoResponse.Success)
            AutoRespond(request, ResponseCode.Success); // H-VTD-5

        // H-VTD-6: an event only when PPR and PRO were both clear before the new condition.
        if (quietBefore && write != RingWrite.DiscardedWhileOverflowed) RaiseEvent();
        return write;
    }

    /// <summary>PQH: the page request queue head, a byte offset.</summary>
    public ulong Pqh => PageRequestQueue.ByteOffset(PageRequestQueue.Consumer);
    /// <summary>PQT: the page request queue tail, a byte offset.</summary>
    public ulong Pqt => PageRequestQueue.ByteOffset(PageRequestQueue.Producer);

    /// <summary>Software writes PQH; false if the offset is misaligned or outside the valid entries.</summary>
    public bool WritePqh(ulong value) =>
        PageRequestQueue.TryPositionFromByteOffset(value, out uint position) && PageRequestQueue.TryConsumeTo(position);

    /// <summary>Software reads the descriptor at a byte offset between PQH and PQT.</summary>
    public ReadOnlySpan<byte> ReadPageRequestQueue(ulong offset) =>
        PageRequestQueue.TryPositionFromByteOffset(offset, out uint position) && position != PageRequestQueue.Producer
            ? PageRequestQueue.At(position)
            : throw new ArgumentOutOfRangeException(nameof(offset), offset, "no descriptor there");

    /// <summary>PRS: PPR (bit 0) and PRO (bit 1).</summary>
    public uint Prs => (PendingPageRequest ? PrsPendingPageRequest : 0) | (PageRequestQueue.Overflowed ? PrsOverflow : 0);

    /// <summary>PRS is RW1C.</summary>
    public void WritePrs(uint value)
    {
        if ((value & PrsPendingPageRequest) != 0) PendingPageRequest = false;
        if ((value & PrsOverflow) != 0) PageRequestQueue.ClearOverflow();
    }

    /// <summary>PECTL.IM; unmasking delivers an event held in IP (H-VTD-6).</summary>
    public void SetEventMask(bool masked)
    {
        EventMasked = masked;
        if (!masked && EventPending)
        {
            EventPending = false;
            Counters.Events++;
            _platform.RaisePageRequestEvent(this);
        }
    }

    /// <summary>Software submits one descriptor at IQT; false if the invalidation queue is full.</summary>
    public bool SubmitInvalidation(ReadOnlySpan<byte> descriptor)
    {
        if (InvalidationQueue.TryProduce(descriptor) != RingWrite.Written) return false;
        _platform.InvalidationQueued(this);
        return true;
    }

    // Device-TLB invalidations sent and not yet completed, by (function, tag).
    private readonly HashSet<(RequesterId Function, int Tag)> _invalidationsPending = [];

    /// <summary>Device-TLB invalidations sent and not yet completed by their functions.</summary>
    public int DeviceTlbInvalidationsPending => _invalidationsPending.Count;

    /// <summary>
    /// The hardware fetches and executes descriptors from IQH toward IQT, in order. A wait descriptor
    /// does not complete, and nothing after it runs, until every device-TLB invalidation before it has
    /// been completed by its function; so when a drain's final wait writes its status, every page
    /// request the function sent before its Invalidation Completion is in the PRQ (H-PCI-18, H-VTD-13).
    /// </summary>
    public void ProcessInvalidationQueue()
    {
        var queue = InvalidationQueue;
        while (!queue.IsEmpty)
        {
            var bytes = queue.At(queue.Consumer);
            var type = InvalidationDescriptor.TypeOf(bytes);
            if (type.IsOk && type.Value == InvalidationWaitDescriptor.Type && DeviceTlbInvalidationsPending > 0) return;
            Counters.InvalidationDescriptors++;
            Execute(bytes, type.IsOk ? type.Value : (byte)0xFF);
            queue.TryConsumeTo(queue.Consumer + 1);
        }
    }

    /// <summary>
    /// A function completed an ATS invalidation; a wait held behind it may now run. Only a completion
    /// that matches an invalidation sent to that function counts (H-VTD-13): a stray or repeated one
    /// must not release a wait meant for another.
    /// </summary>
    public bool OnInvalidationCompletion(in InvalidationCompletion completion)
    {
        if (!_invalidationsPending.Remove((completion.Requester, completion.Tag)))
        {
            Counters.UnexpectedInvalidationCompletions++;
            return false;
        }
        if (_invalidationsPending.Count == 0) ProcessInvalidationQueue();
        return true;
    }

    private void Execute(ReadOnlySpan<byte> bytes, byte type)
    {
        switch (type)
        {
            case PageGroupResponseDescriptor.Type:
            {
                var decoded = PageGroupResponseDescriptor.Decode(bytes);
                if (!decoded.IsOk)
                {
                    Counters.InvalidationQueueErrors++; // hardware reports IQE instead of executing it
                    return;
                }
                var d = decoded.Value;
                // H-VTD-10: the PASID prefix goes out iff the descriptor says PASID present.
                Send(new PrgResponse(d.Requester, d.Index, d.Code, d.PasidPresent ? d.Pasid : null));
                return;
            }
            case InvalidationWaitDescriptor.Type:
            {
                var decoded = InvalidationWaitDescriptor.Decode(bytes);
                // H-VTD-14: PD is reserved without ECAP.PDS.
                if (!decoded.IsOk || (decoded.Value.PageRequestDrain && !Config.PageDrainSupported))
                {
                    Counters.InvalidationQueueErrors++;
                    return;
                }
                var wait = decoded.Value;
                Counters.WaitDescriptors++;
                if (wait.PageRequestDrain) Counters.PageRequestDrains++; // requests are queued on arrival: nothing is held back
                if (wait.StatusWrite) _platform.InvalidationWaitCompleted(this, wait);
                return;
            }
            case PasidDeviceTlbInvalidationDescriptor.Type:
            {
                var decoded = PasidDeviceTlbInvalidationDescriptor.Decode(bytes);
                if (!decoded.IsOk)
                {
                    Counters.InvalidationQueueErrors++;
                    return;
                }
                var d = decoded.Value;
                InvalidateDeviceTlb(d.SourceId, d.Pasid, d.Address, d.SizeBit);
                return;
            }
            case DeviceTlbInvalidationDescriptor.Type:
            {
                var decoded = DeviceTlbInvalidationDescriptor.Decode(bytes);
                if (!decoded.IsOk)
                {
                    Counters.InvalidationQueueErrors++;
                    return;
                }
                var d = decoded.Value;
                InvalidateDeviceTlb(d.SourceId, null, d.Address, d.SizeBit); // requests without a PASID: the RID
                return;
            }
            default:
                return; // IOTLB, PASID-IOTLB and other invalidations: no IOTLB is modelled (H-VTD-8)
        }
    }

    /// <summary>An ATS Invalidate Request to the function; waits behind it hold until it completes (H-VTD-13).</summary>
    private void InvalidateDeviceTlb(RequesterId function, Pasid? pasid, ulong address, bool sizeBit)
    {
        Counters.DeviceTlbInvalidations++;
        int tag = (int)Counters.DeviceTlbInvalidations;
        _invalidationsPending.Add((function, tag));
        var (start, length) = DeviceTlbRange.Range(address, sizeBit);
        _platform.SendInvalidateRequest(this, new InvalidateRequest(function, pasid, start, length, tag));
    }

    private void AutoRespond(in PageRequest request, ResponseCode code)
    {
        if (!PrgResponse.TryAutoResponse(request, code, out var response)) return;
        Counters.AutoResponses++;
        Send(response);
    }

    private void Send(in PrgResponse response)
    {
        Counters.PrgResponsesSent++;
        _platform.SendPrgResponse(this, response);
    }

    private void RaiseEvent()
    {
        if (EventMasked)
        {
            EventPending = true;
            return;
        }
        Counters.Events++;
        _platform.RaisePageRequestEvent(this);
    }

    private sealed class ContextEntry(bool pageRequestEnable) : PasidTable
    {
        public bool PageRequestEnable { get; } = pageRequestEnable;
    }
}
