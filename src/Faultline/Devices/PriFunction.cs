using System.Buffers;
using Faultline.Pcie;

namespace Faultline.Devices;

/// <summary>
/// A PCIe function with PASID, ATS, an address translation cache and PRI (pcie.md §4, H-PCI-1..17).
/// Sans-IO: the host passes the time and delivers translation completions and PRG Responses;
/// the function sends requests through its <see cref="IUpstreamPort"/>.
/// Each access translates its pages; pages the translation agent refuses go to a backlog, from
/// which page request groups are formed as credits and PRG indexes allow. A virtual function
/// has no PRI capability of its own: it uses its physical function's, credits and all (H-PCI-15),
/// while its PRG indexes stay its own (responses are routed by requester id).
/// </summary>
public sealed class PriFunction : IPciConfigSpace
{
    private const uint NoPasidKey = uint.MaxValue;

    // Slots by PRG index hold a group while it is outstanding (null: the index is free). The array
    // grows by doubling as indexes are used, up to 512, and groups come from a pool that grows to the
    // most ever outstanding: an idle function holds neither (issue 9), a busy one allocates nothing
    // once grown (rule 7), and lookup by index stays O(1).
    private const int FirstSlots = 8;
    private readonly IUpstreamPort _port;
    private OutstandingGroup?[] _groups = [];
    private readonly Stack<OutstandingGroup> _spareGroups = new();
    private readonly Queue<PendingPage> _backlog = new();
    private readonly TranslationTags<PendingPage> _translations = new();
    private readonly AddressTranslationCache _atc;
    // The running accesses, linked through their states (no table to hash into per access, issue 9); walked only
    // when a PASID stops, then taken in access id order (rule 2).
    private AccessState? _newestActive;
    private int _activeCount;
    // Ended accesses' states, for the next accesses: a busy function allocates none per access (issue 9, rule 7).
    private readonly Stack<AccessState> _spareAccesses = new();
    private readonly SortedDictionary<uint, PasidStopState> _stops = new();
    private int _nextTag;
    private int _nextIndex;
    private int _outstandingGroups;
    private readonly PriFunction? _physical;
    // On a PF: itself, then its VFs in creation order; every function drawing on this PRI pool.
    private readonly List<PriFunction> _sharers = [];

    /// <summary>A function sending through <paramref name="port"/>; with <paramref name="physicalFunction"/> it is a VF drawing on that PF's PRI capability (H-PCI-15).</summary>
    public PriFunction(PriFunctionConfig config, IUpstreamPort port, IPriFunctionObserver? observer = null, PriFunction? physicalFunction = null)
    {
        if (config.PagesPerGroup < 1) throw new ArgumentOutOfRangeException(nameof(config), "PagesPerGroup must be at least 1");
        if (physicalFunction?._physical is not null) throw new ArgumentException("a virtual function's parent must be a physical function", nameof(physicalFunction));
        Config = config;
        _port = port;
        Observer = observer;
        _physical = physicalFunction;
        Pri = physicalFunction?.Pri ?? new PriCapability(config.Capacity, config.PrgResponsePasidRequired);
        (physicalFunction ?? this)._sharers.Add(this);
        Pasid = config.PasidSupported ? new PasidCapability(config.ExecuteSupported, config.PrivilegedSupported) : null;
        Ats = new AtsCapability(pageAlignedRequest: config.PageAlignedRequest);
        _atc = new AddressTranslationCache(config.AtcEntries);
    }

    /// <summary>The fixed properties the function was created with.</summary>
    public PriFunctionConfig Config { get; }

    /// <summary>The PRI capability in use: this function's, or its physical function's (H-PCI-15).</summary>
    public PriCapability Pri { get; }
    /// <summary>The PASID extended capability, or null for a function without one.</summary>
    public PasidCapability? Pasid { get; }
    /// <summary>The ATS extended capability.</summary>
    public AtsCapability Ats { get; }
    /// <summary>Whether this is an SR-IOV virtual function, with no PRI capability of its own (H-PCI-15).</summary>
    public bool IsVirtualFunction => _physical is not null;
    /// <inheritdoc />
    public IPciConfigSpace? PhysicalFunction => _physical;
    /// <summary>What the function saw and did, counted.</summary>
    public PriFunctionCounters Counters { get; } = new();
    /// <summary>The host's hooks on what the function does; null for none.</summary>
    public IPriFunctionObserver? Observer { get; set; }
    /// <summary>The function's name, from its config.</summary>
    public string Name => Config.Name;
    /// <inheritdoc />
    public RequesterId Requester => Config.Requester;

    /// <summary>Accesses started and not yet ended.</summary>
    public int ActiveAccesses => _activeCount;

    /// <summary>PASIDs whose stop was requested and has not completed (H-PCI-19).</summary>
    public int StoppingPasids => _stops.Count;

    /// <summary>Translations the ATC holds.</summary>
    public int AtcCount => _atc.Count;

    /// <summary>Page request groups sent and not yet answered, abandoned ones included: PRG indexes in use (H-PCI-5).</summary>
    public int OutstandingGroups => _outstandingGroups;
    /// <summary>Pages ATS refused that wait for a credit and a free PRG index to go out in a group.</summary>
    public int BacklogPages => _backlog.Count;

    /// <summary>Whether a group with PRG index <paramref name="index"/> is outstanding.</summary>
    public bool IsOutstanding(PrgIndex index) => GroupAt(index.Value) is not null;

    /// <summary>The access an outstanding group serves, while that access runs, for hosts that check who a response reaches.</summary>
    public DmaAccess? AccessOfGroup(PrgIndex index) =>
        GroupAt(index.Value) is { Count: > 0 } group && group.Pages[0].Live ? group.Pages[0].Access.Access : null;

    /// <summary>Outstanding groups of a PASID, abandoned ones included.</summary>
    public int OutstandingGroupsOf(Pasid pasid)
    {
        int count = 0;
        foreach (var group in _groups)
            if (group is not null && group.Pasid == pasid.Value) count++;
        return count;
    }

    /// <summary>PRI credits held by outstanding groups of a PASID (a Stop Marker's kept credit, H-PCI-21, belongs to none).</summary>
    public long CreditsHeldBy(Pasid pasid)
    {
        long credits = 0;
        foreach (var group in _groups)
            if (group is not null && group.Pasid == pasid.Value) credits += group.Credits;
        return credits;
    }

    /// <summary>Protocol violations software committed on this function's enables (H-PCI-13, H-PCI-14, H-PCI-16).</summary>
    public int ConfigViolations { get; private set; }

    /// <summary>A VF has no PRI capability of its own (H-PCI-15); PASID only when the function supports it.</summary>
    public bool HasCapability(ushort capabilityId) => capabilityId switch
    {
        PriCapability.CapabilityId => !IsVirtualFunction,
        PasidCapability.CapabilityId => Pasid is not null,
        AtsCapability.CapabilityId => true,
        _ => false,
    };

    /// <inheritdoc />
    public uint ReadConfig(ushort capabilityId, int offset) => capabilityId switch
    {
        PriCapability.CapabilityId when !IsVirtualFunction => Pri.Read(offset),
        PasidCapability.CapabilityId when Pasid is not null => Pasid.Read(offset),
        AtsCapability.CapabilityId => Ats.Read(offset),
        _ => throw new ArgumentException($"{Name} has no capability 0x{capabilityId:x4}", nameof(capabilityId)),
    };

    /// <summary>A configuration write; the function acts on its effects (H-PCI-12 reset, H-PCI-16 order).</summary>
    public ConfigWriteEffect WriteConfig(ushort capabilityId, int offset, uint value, long now)
    {
        var effect = capabilityId switch
        {
            PriCapability.CapabilityId when !IsVirtualFunction => WritePri(offset, value, now),
            PasidCapability.CapabilityId when Pasid is not null => Pasid.Write(offset, value, Ats.Enabled),
            AtsCapability.CapabilityId => Ats.Write(offset, value),
            _ => throw new ArgumentException($"{Name} has no capability 0x{capabilityId:x4}", nameof(capabilityId)),
        };
        if ((effect & ConfigWriteEffect.ProtocolViolation) != 0) ConfigViolations++;
        return effect;
    }

    private ConfigWriteEffect WritePri(int offset, uint value, long now)
    {
        bool wasEnabled = Pri.Enabled;
        var effect = Pri.Write(offset, value);
        // H-PCI-16: PRI is enabled after ATS.
        if (!wasEnabled && Pri.Enabled && !Ats.Enabled) effect |= ConfigWriteEffect.ProtocolViolation;
        // H-PCI-12, H-PCI-15: the reset clears the shared pool, so every function forgets its groups
        // and the work it held for PRI; an enable lets held work go out.
        if ((effect & ConfigWriteEffect.Reset) != 0)
            foreach (var f in _sharers) f.FailPriWaiters(AccessResult.PriReset, now, forget: true);
        if ((effect & ConfigWriteEffect.Enabled) != 0)
            foreach (var f in _sharers) f.SendGroups(now);
        return effect;
    }

    /// <summary>Starts a DMA: pages missing from the ATC are translated through ATS.</summary>
    public void StartAccess(DmaAccess access, long now)
    {
        if (access.Pages < 1) throw new ArgumentOutOfRangeException(nameof(access), "an access covers at least one page");
        Counters.AccessesStarted++;
        var state = Take(access);
        if (!CanIssue(access))
        {
            EndAccess(state, AccessResult.CapabilityDisabled, now);
            return;
        }
        if (_stops.ContainsKey(PasidKey(access)))
        {
            EndAccess(state, AccessResult.PasidStopped, now); // H-PCI-19: no new work for a stopping PASID
            return;
        }
        if (!Config.Ats)
        {
            RequestPagesDirectly(state, now);
            return;
        }
        for (int i = 0; i < access.Pages; i++)
        {
            var page = PageOf(state, i);
            if (AtcGrants(page))
            {
                Counters.AtcHits++;
                PageDone(page, now);
            }
            else
            {
                Translate(page);
            }
        }
    }

    /// <summary>H-PCI-4: why a page that needs PRI cannot have it (no PRI, no allocation, or RF set), or null when it can.</summary>
    private AccessResult? PriRefusal() =>
        Pri.ResponseFailure ? AccessResult.ResponseFailure
        : !Pri.Enabled || Pri.Allocation == 0 ? AccessResult.PriUnavailable
        : null;

    /// <summary><see cref="PriFunctionConfig.Ats"/> off: every page is a page request at once, grouped as PRI allows.</summary>
    private void RequestPagesDirectly(AccessState state, long now)
    {
        if (PriRefusal() is { } refused)
        {
            EndAccess(state, refused, now);
            return;
        }
        for (int i = 0; i < state.Access.Pages; i++) _backlog.Enqueue(PageOf(state, i));
        SendGroups(now);
    }

    /// <summary>The translation agent answered (pcie.md §1 step 2).</summary>
    public void OnTranslationCompletion(in TranslationCompletion completion, long now)
    {
        if (!_translations.Remove(completion.Tag, out var page)) return;
        if (!page.Live)
        {
            // An ended access drops its pages as they come back; a stopping PASID may have waited for them.
            if (_stops.Count > 0) CompleteStops(now);
            return;
        }
        var state = page.Access;
        state.PendingTranslations--;

        var access = state.Access;
        if (completion.Status != TranslationStatus.Success)
        {
            EndAccess(state, AccessResult.TranslationFault, now);
            return;
        }
        if (completion.Grants(access.Write, access.Execute))
        {
            _atc.Insert(PasidKey(access), page.Page, new AtcEntry(completion.Read, completion.Write, completion.Execute));
            PageDone(page, now);
        }
        else if (PriRefusal() is { } refused)
        {
            EndAccess(state, refused, now);
            return;
        }
        else if (page.Attempt > Config.RetryLimit)
        {
            // H-PCI-7: Success does not promise the page is mapped; the loop is bounded here.
            EndAccess(state, AccessResult.RetryLimit, now);
            return;
        }
        else
        {
            state.NeedPri.Add(page);
        }

        // The misses of one translation round go out together, so they can share groups.
        if (state.PendingTranslations > 0 || state.NeedPri.Count == 0 || state.Ended) return;
        foreach (var p in state.NeedPri) _backlog.Enqueue(p);
        state.NeedPri.Clear();
        SendGroups(now);
    }

    /// <summary>A PRG Response arrived for this function (H-PCI-2, H-PCI-7..10).</summary>
    public void OnPrgResponse(in PrgResponse response, long now)
    {
        if (Pri.ResponseFailure)
        {
            Counters.IgnoredResponses++;
            Observer?.PrgResponseReceived(this, response, PrgResponseOutcome.IgnoredAfterFailure, 0, now);
            return;
        }

        var group = GroupAt(response.Index.Value);
        if (group is { Abandoned: true })
        {
            // H-PCI-22 default: after a Stop Marker the function discards the old group's response
            // silently (no UPRGI); its credits and index come back.
            Counters.DiscardedAfterStop++;
            Observer?.PrgResponseReceived(this, response, PrgResponseOutcome.DiscardedAfterStop, now - group.SentAt, now);
            Release(group);
            foreach (var f in Sharers) f.SendGroups(now);
            return;
        }
        if (group is null && IsFailure(response.Code))
        {
            // H-PCI-5: a Response Failure need not carry a meaningful index; it stops PRI regardless.
            CountResponse(response.Code);
            Observer?.PrgResponseReceived(this, response, PrgResponseOutcome.FailureWithoutGroup, 0, now);
            StopPriAfterFailure(now);
            return;
        }
        if (group is null)
        {
            Counters.UnexpectedResponses++;
            Pri.RaiseUnexpectedPrgIndex();
            Observer?.PrgResponseReceived(this, response, PrgResponseOutcome.UnexpectedIndex, 0, now);
            return;
        }

        CountResponse(response.Code);
        Counters.GroupsAnswered++;
        Observer?.PrgResponseReceived(this, response, PrgResponseOutcome.Matched, now - group.SentAt, now);
        // The slot is free from here on (a re-entrant SendGroups may reuse it), so act on a copy.
        int count = group.Count;
        var pages = ArrayPool<PendingPage>.Shared.Rent(count);
        group.Pages.AsSpan(0, count).CopyTo(pages);
        Release(group);
        try
        {
            Act(response.Code, pages.AsSpan(0, count), now);
        }
        finally
        {
            Array.Clear(pages, 0, count);
            ArrayPool<PendingPage>.Shared.Return(pages);
        }
        if (_stops.Count > 0) CompleteStops(now);
        // H-PCI-3, H-PCI-15: the credits went back to a pool other functions may be waiting on.
        foreach (var f in Sharers) f.SendGroups(now);
    }

    /// <summary>H-PCI-7..9: what the function does with the pages of an answered group.</summary>
    private void Act(ResponseCode code, ReadOnlySpan<PendingPage> pages, long now)
    {
        switch (code)
        {
            case ResponseCode.Success:
                foreach (var page in pages)
                {
                    if (!page.Live) continue;
                    if (!Config.Ats)
                    {
                        PageDone(page, now);
                        continue;
                    }
                    Counters.Retries++;
                    Translate(page with { Attempt = page.Attempt + 1 });
                }
                break;
            case ResponseCode.InvalidRequest:
                foreach (var page in pages) ReleasePage(page, AccessResult.InvalidRequest, now);
                break;
            default:
                foreach (var page in pages) ReleasePage(page, AccessResult.ResponseFailure, now);
                StopPriAfterFailure(now);
                break;
        }
    }

    /// <summary>
    /// H-PCI-19: the device driver asks the function to stop using <paramref name="pasid"/>. Work for
    /// it ends at once; the stop completes (<see cref="IPriFunctionObserver.PasidStopCompleted"/>) when
    /// its translation requests have completed and, by <paramref name="mode"/>, every outstanding group
    /// is answered or a Stop Marker has gone out after its last page request. Returns false if a stop
    /// of that PASID is already under way.
    /// </summary>
    public bool StopPasid(Pasid pasid, PasidStopMode mode, long now)
    {
        if (_stops.ContainsKey(pasid.Value)) return false;
        var stop = new PasidStopState(mode);
        _stops.Add(pasid.Value, stop);
        // An ending access's host may start others (taking pooled states): each is ended only while still the one listed.
        var stopping = new List<(AccessState State, int Generation)>();
        for (var a = _newestActive; a is not null; a = a.Older)
            if (PasidKey(a.Access) == pasid.Value) stopping.Add((a, a.Generation));
        foreach (var (state, generation) in stopping.OrderBy(a => a.State.Access.Id))
            if (state.Generation == generation && !state.Ended) EndAccess(state, AccessResult.PasidStopped, now);
        if (mode == PasidStopMode.StopMarker)
        {
            foreach (var group in _groups)
                if (group is not null && group.Pasid == pasid.Value) group.Abandoned = true;
            stop.MarkerPending = true;
            SendStopMarkers(now);
        }
        CompleteStops(now);
        return true;
    }

    /// <summary>An ATS Invalidate Request: drop the covered translations, then complete (posted, H-PCI-18).</summary>
    public void OnInvalidateRequest(in InvalidateRequest request, long now)
    {
        Counters.InvalidateRequests++;
        _atc.Invalidate(request.Pasid is { } p ? p.Value : NoPasidKey, request);
        _port.SendInvalidationCompletion(new InvalidationCompletion(Requester, request.Tag));
    }

    /// <summary>
    /// H-PCI-20, H-PCI-21: a Stop Marker goes out once the PASID has nothing left to send; it takes a
    /// credit only under the switch, and then keeps it (nothing ever answers a Stop Marker).
    /// </summary>
    private void SendStopMarkers(long now)
    {
        bool progressed = false;
        foreach (var (pasid, stop) in _stops)
        {
            if (!stop.MarkerPending) continue;
            if (!Pri.Enabled || Pri.ResponseFailure)
            {
                stop.MarkerPending = false; // no more page requests at all: nothing to mark
                progressed = true;
                continue;
            }
            if (Config.StopMarkerConsumesCredit)
            {
                if (!Pri.CanSendRequest) continue;
                Pri.ConsumeCredit();
            }
            stop.MarkerPending = false;
            var marker = PageRequest.StopMarker(Requester, new Pasid(pasid), default);
            Counters.StopMarkers++;
            _port.SendPageRequest(marker);
            Observer?.PageRequestSent(this, marker, now);
            progressed = true;
        }
        if (progressed) CompleteStops(now);
    }

    private void CompleteStops(long now)
    {
        List<uint>? done = null;
        foreach (var (pasid, stop) in _stops)
        {
            if (stop.MarkerPending || _translations.Any(pasid, static (p, page) => page.Pasid == p)) continue;
            if (stop.Mode == PasidStopMode.WaitForResponses && _groups.Any(g => g is not null && g.Pasid == pasid)) continue;
            (done ??= []).Add(pasid);
        }
        if (done is null) return;
        foreach (var pasid in done)
        {
            _stops.Remove(pasid);
            Observer?.PasidStopCompleted(this, new Pasid(pasid), now);
        }
    }

    /// <summary>H-PCI-2: a response frees the group's index and returns its credits.</summary>
    private void Release(OutstandingGroup group)
    {
        Pri.ReturnCredits((uint)group.Credits);
        Forget(group);
    }

    /// <summary>The group's index is free again; its credits are the caller's business (H-PCI-12 zeroes them).</summary>
    private void Forget(OutstandingGroup group)
    {
        _groups[group.Index] = null;
        group.Abandoned = false;
        group.Clear();
        _spareGroups.Push(group);
        _outstandingGroups--;
    }

    /// <summary>
    /// The group outstanding at a PRG index, or null. Indexes past the slots grown so far are free;
    /// past 9 bits the index fails as the fixed 512-slot array it replaces did.
    /// </summary>
    private OutstandingGroup? GroupAt(int index)
    {
        if (index < _groups.Length) return _groups[index];
        return (uint)index < PrgIndex.Count ? null : throw new IndexOutOfRangeException($"PRG index {index} is past 9 bits");
    }

    /// <summary>Takes a pooled group (or a new one) into the slot of <paramref name="index"/>, growing the slots to reach it.</summary>
    private OutstandingGroup Occupy(int index)
    {
        if (index >= _groups.Length)
        {
            int length = Math.Max(FirstSlots, _groups.Length);
            while (length <= index) length *= 2;
            Array.Resize(ref _groups, Math.Min(length, PrgIndex.Count));
        }
        var group = _spareGroups.Count > 0 ? _spareGroups.Pop() : new OutstandingGroup(Config.PagesPerGroup);
        group.Index = index;
        _groups[index] = group;
        return group;
    }

    /// <summary>
    /// H-PCI-9 (reserved codes default to the same, pcie.md §3.3): RF, no more page requests, later
    /// responses ignored. Every access of every function on this PRI pool still waiting on PRI fails.
    /// </summary>
    private void StopPriAfterFailure(long now)
    {
        Counters.ResponseFailureEvents++;
        Pri.RaiseResponseFailure();
        foreach (var f in Sharers) f.FailPriWaiters(AccessResult.ResponseFailure, now, forget: false);
    }

    private static bool IsFailure(ResponseCode code) => code is not (ResponseCode.Success or ResponseCode.InvalidRequest);

    private List<PriFunction> Sharers => (_physical ?? this)._sharers;

    /// <summary>
    /// Forms and sends groups from the backlog while credits and free indexes allow (H-PCI-1, H-PCI-3,
    /// H-PCI-5): a group takes consecutive pages of one access, at most PagesPerGroup, and closes
    /// (L = 1) at the latest on the request that uses the last free credit.
    /// </summary>
    private void SendGroups(long now)
    {
        if (_stops.Count > 0) SendStopMarkers(now);
        while (_backlog.Count > 0 && Pri.CanSendRequest && _outstandingGroups < PrgIndex.Count)
        {
            var first = _backlog.Peek();
            if (!first.Live)
            {
                _backlog.Dequeue();
                continue;
            }

            int index = NextFreeIndex();
            var group = Occupy(index);
            int limit = (int)Math.Min((uint)Config.PagesPerGroup, Pri.FreeCredits);
            while (group.Count < limit && _backlog.TryPeek(out var next) && next.Access == first.Access && next.Generation == first.Generation)
                group.Pages[group.Count++] = _backlog.Dequeue();

            group.Pasid = first.Pasid;
            group.SentAt = now;
            _outstandingGroups++;
            Counters.Groups++;
            var prefix = first.Access.Access.Prefix;
            // Fault injection: the group's last request never leaves the function.
            bool omitLast = Config.OmitLastEvery > 0 && group.Count > 1 && Counters.Groups % Config.OmitLastEvery == 0;
            if (omitLast) Counters.GroupsWithoutLast++;
            group.Credits = omitLast ? group.Count - 1 : group.Count;
            for (int i = 0; i < group.Credits; i++)
            {
                var page = group.Pages[i];
                var request = new PageRequest(Requester, !first.Access.Access.Write, first.Access.Access.Write,
                    i == group.Count - 1, new PrgIndex((ushort)index), page.Page, prefix);
                Pri.ConsumeCredit();
                Counters.PageRequests++;
                Counters.CreditsHighWater = Math.Max(Counters.CreditsHighWater, Pri.Outstanding);
                _port.SendPageRequest(request);
                Observer?.PageRequestSent(this, request, now);
            }
        }
    }

    /// <summary>ATS must be on; a PASID prefix needs PASID enabled, and Execute / Privileged their enables.</summary>
    private bool CanIssue(DmaAccess access) =>
        Ats.Enabled && (access.Prefix is not { } p
            || (Pasid is { Enabled: true } cap && (!p.ExecuteRequested || cap.ExecuteEnabled) && (!p.PrivilegedMode || cap.PrivilegedEnabled)));

    /// <summary>H-PCI-5: a PRG index is not reused while its group is outstanding.</summary>
    private int NextFreeIndex()
    {
        while (GroupAt(_nextIndex) is not null) _nextIndex = (_nextIndex + 1) & PrgIndex.Mask;
        int index = _nextIndex;
        _nextIndex = (_nextIndex + 1) & PrgIndex.Mask;
        return index;
    }

    private void Translate(PendingPage page)
    {
        int tag = _nextTag++;
        page.Access.PendingTranslations++;
        _translations.Add(tag, page);
        Counters.TranslationRequests++;
        _port.SendTranslationRequest(new TranslationRequest(Requester, page.Access.Access.Prefix, page.Page, page.Access.Access.Write, tag));
    }

    private void PageDone(PendingPage page, long now)
    {
        var state = page.Access;
        if (--state.Remaining == 0) EndAccess(state, AccessResult.Completed, now);
    }

    private void ReleasePage(PendingPage page, AccessResult failure, long now)
    {
        if (page.Live) EndAccess(page.Access, failure, now);
    }

    private void EndAccess(AccessState state, AccessResult result, long now)
    {
        state.Ended = true;
        // Off the running list.
        if (state.Older is { } older) older.Newer = state.Newer;
        if (state.Newer is { } newer) newer.Older = state.Older;
        else _newestActive = state.Older;
        state.Older = state.Newer = null;
        _activeCount--;
        if (result == AccessResult.Completed) Counters.AccessesCompleted++;
        else Counters.AccessesFailed++;
        Observer?.AccessEnded(this, state.Access, result, now);
        // Pooled only once the host has heard: an access it starts from there must not take the state our caller
        // still reads. Its pages left in queues and groups are told apart by their generation (PendingPage.Live).
        state.NeedPri.Clear();
        _spareAccesses.Push(state);
    }

    /// <summary>A state for <paramref name="access"/>: a pooled one under a new generation, or a new one.</summary>
    private AccessState Take(in DmaAccess access)
    {
        var state = _spareAccesses.Count > 0 ? _spareAccesses.Pop() : new AccessState();
        state.Generation++;
        state.Access = access;
        state.Remaining = access.Pages;
        state.PendingTranslations = 0;
        state.Ended = false;
        state.Older = _newestActive;
        if (_newestActive is not null) _newestActive.Newer = state;
        _newestActive = state;
        _activeCount++;
        return state;
    }

    /// <summary>The <paramref name="i"/>th page of the access, on its first attempt.</summary>
    private static PendingPage PageOf(AccessState state, int i) =>
        new(state, state.Generation, (state.Access.Address & PageRequest.PageMask) + ((ulong)i << PageRequest.PageShift), 0, PasidKey(state.Access));

    /// <summary>
    /// Every access with a page waiting for PRI (held, or in an outstanding group) fails. With
    /// <paramref name="forget"/> (a PRI reset, H-PCI-12) the outstanding groups are forgotten too;
    /// without it (Response Failure) they stay outstanding, their responses ignored until reset.
    /// </summary>
    private void FailPriWaiters(AccessResult result, long now, bool forget)
    {
        while (_backlog.TryDequeue(out var page)) ReleasePage(page, result, now);
        // By index, re-reading the slots: releasing pages reaches the observer, which may start accesses.
        for (int index = 0; index < _groups.Length; index++)
        {
            if (_groups[index] is not { } group) continue;
            for (int i = 0; i < group.Count; i++) ReleasePage(group.Pages[i], result, now);
            if (!forget) continue;
            Counters.GroupsForgotten++;
            Forget(group);
        }
        // A waiting PASID stop may have been waiting for the groups just forgotten (H-PCI-19).
        if (forget && _stops.Count > 0) CompleteStops(now);
    }

    private void CountResponse(ResponseCode code)
    {
        switch (code)
        {
            case ResponseCode.Success: Counters.ResponsesSuccess++; break;
            case ResponseCode.InvalidRequest: Counters.ResponsesInvalid++; break;
            case ResponseCode.ResponseFailure: Counters.ResponsesFailure++; break;
            default: Counters.ResponsesReserved++; break;
        }
    }

    private bool AtcGrants(PendingPage page)
    {
        var access = page.Access.Access;
        return _atc.TryGet(PasidKey(access), page.Page, out var entry)
            && (access.Write ? entry.Write : entry.Read) && (!access.Execute || entry.Execute);
    }

    private static uint PasidKey(in DmaAccess access) => access.Prefix is { } p ? p.Pasid.Value : NoPasidKey;

    /// <summary>A page of an access, as made under the access state's <paramref name="Generation"/>, and its PASID key.</summary>
    private readonly record struct PendingPage(AccessState Access, int Generation, ulong Page, int Attempt, uint Pasid)
    {
        /// <summary>Its access still runs: it has not ended, and its state has not been taken for another since.</summary>
        public bool Live => Access.Generation == Generation && !Access.Ended;
    }

    private sealed class PasidStopState(PasidStopMode mode)
    {
        public PasidStopMode Mode { get; } = mode;
        public bool MarkerPending;
    }

    /// <summary>A running access; pooled when it ends (<see cref="Take"/>), each use under a new generation.</summary>
    private sealed class AccessState
    {
        public DmaAccess Access;
        public int Generation;
        public int Remaining;
        public int PendingTranslations;
        /// <summary>Pages of the current translation round that need PRI; kept, empty, across uses.</summary>
        public readonly List<PendingPage> NeedPri = [];
        public bool Ended;
        /// <summary>Its neighbours on the list of running accesses, while it runs.</summary>
        public AccessState? Older, Newer;
    }

    private sealed class OutstandingGroup(int capacity)
    {
        public readonly PendingPage[] Pages = new PendingPage[capacity];
        public int Count;
        /// <summary>Requests of the group actually sent, each holding a credit (H-PCI-2).</summary>
        public int Credits;
        /// <summary>Its PRG index: the slot it occupies while outstanding.</summary>
        public int Index;
        /// <summary>H-PCI-22: a Stop Marker was sent for its PASID; its response is discarded when it comes.</summary>
        public bool Abandoned;
        public uint Pasid;
        public long SentAt;

        public void Clear()
        {
            Array.Clear(Pages, 0, Count);
            Count = 0;
        }
    }
}
