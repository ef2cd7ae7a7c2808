namespace Faultline.Faults;

/// <summary>Allocation sites where a failure can be injected (fail-nth style, T5 / T6).</summary>
public enum AllocationSite
{
    /// <summary>The copy of a non-last fault (R12).</summary>
    Partial,
    /// <summary>The group built on a last fault (R13).</summary>
    Group,
}

/// <summary>
/// The host I/O page fault framework (Linux <c>io-pgfault.c</c>), sans-IO: drivers report faults
/// one at a time in hardware order (R7); partial faults wait for their last one, which completes a
/// group (R12-R14); the group goes to the handler attached at its (device, PASID) (R9, R15); the
/// handler answers once (R18) and frees it (R19). Every reported fault ends in exactly one response
/// to the device, from the handler or from the framework itself (R8).
/// </summary>
public sealed class FaultFramework
{
    private readonly FaultGroupPool _pool;
    private readonly FaultGroup _abortGroup = new(-1); // R13: the on-stack group used when allocation fails
    // Fail-nth injection: allocations counted per site since the start; the ordinals listed fail.
    private readonly long[] _allocations = new long[2];
    private readonly SortedSet<long>[] _failAt = [[], []];
    private int _armed; // ordinals in _failAt, both sites: while 0 the report path skips the sets

    /// <summary>A framework under <paramref name="policy"/>; <paramref name="groupLimit"/> bounds the groups in use, past which allocating a group fails (R13).</summary>
    public FaultFramework(FaultPolicy policy, int? groupLimit = null)
    {
        Policy = policy;
        _pool = new FaultGroupPool(groupLimit);
    }

    /// <summary>The host policy the framework applies.</summary>
    public FaultPolicy Policy { get; }
    /// <summary>What the framework did, counted.</summary>
    public FaultCounters Counters { get; } = new();

    /// <summary>
    /// Called when a group completes under another attachment than the one its first request was routed to
    /// (the group, that first attachment, now): its faults would be resolved in an address space that was not
    /// bound to their (device, PASID) when they arrived. The host reports it as the isolation invariant.
    /// </summary>
    public Action<FaultGroup, FaultAttachment, long>? IsolationBreached { get; set; }

    /// <summary>Groups reported and not yet freed, across every device.</summary>
    public int GroupsInUse => _pool.InUse;

    /// <summary>Makes the next <paramref name="count"/> allocations at <paramref name="site"/> fail.</summary>
    public void FailNextAllocations(AllocationSite site, int count)
    {
        for (int i = 1; i <= count; i++) Arm(site, _allocations[(int)site] + i);
    }

    /// <summary>Makes the <paramref name="ordinal"/>-th allocation at <paramref name="site"/> of the run (1-based) fail.</summary>
    public void FailAllocationAt(AllocationSite site, long ordinal) => Arm(site, ordinal);

    private void Arm(AllocationSite site, long ordinal)
    {
        if (_failAt[(int)site].Add(ordinal)) _armed++;
    }

    /// <summary>
    /// At the start of a PASID's drain: under <see cref="QueuedWorkAtTeardownPolicy.Cancel"/>, groups of
    /// (device, PASID) still waiting for a worker are answered INVALID and freed, so the flush waits only
    /// for work already running. Returns how many were cancelled.
    /// </summary>
    public int CancelQueuedWork(FaultDevice device, uint pasid, long now)
    {
        if (Policy.QueuedWorkAtTeardown != QueuedWorkAtTeardownPolicy.Cancel || device.Queue is not { } queue) return 0;
        var cancelled = queue.RemoveWork(item => _pool.Resolve(item.Group) is { } g && g.Device == device && g.LastFault.RoutedPasid == pasid);
        foreach (var item in cancelled)
        {
            Respond(item.Group, PageResponseCode.Invalid, now);
            Free(item.Group);
        }
        Counters.CancelledAtTeardown += cancelled.Count;
        return cancelled.Count;
    }

    /// <summary>R1: a queue with no devices and an empty worker pool.</summary>
    public static FaultQueue AllocateQueue(string name) => new(name);

    /// <summary>
    /// R3. <paramref name="partialLimit"/> is the function's PRI allocation (Outstanding Page Request
    /// Allocation) when the host knows it: under POL-4 <c>hardened</c> the device never holds more
    /// partial requests than that; null falls back to <see cref="FaultPolicy.DefaultPartialLimit"/>.
    /// A limit below 1 is <see cref="FaultStatus.Invalid"/> (a function with no allocation sends nothing).
    /// </summary>
    public static FaultStatus AddDevice(FaultQueue queue, FaultDevice device, int? partialLimit = null)
    {
        if (partialLimit is < 1) return FaultStatus.Invalid;
        if (device.Responder is null) return FaultStatus.NoDevice;
        if (device.Param is not null) return FaultStatus.Busy;
        device.Param = new FaultDeviceParam(queue, partialLimit);
        queue.Insert(device);
        return FaultStatus.Ok;
    }

    /// <summary>
    /// Detaches whatever is attached at (<paramref name="device"/>, <paramref name="pasid"/>) (R28) and
    /// returns it, or null when nothing was. Under POL-10 <c>hardened</c> the device's partial requests
    /// for that PASID are freed and counted (they can never complete now); under <c>linux</c> they
    /// linger until overflow or removal and may join a later group of a re-attached PASID (F4).
    /// Pending groups are not touched: their handler's owner answers them (R43), then the caller
    /// flushes (R25).
    /// </summary>
    public FaultAttachment? Detach(FaultDevice device, uint pasid)
    {
        var old = device.Detach(pasid);
        if (old is not null && Policy.DetachedPartials == DetachedPartialsPolicy.Purge && device.Param is { } param)
            Counters.PurgedPartials += param.Partials.DropPasid(pasid);
        return old;
    }

    /// <summary>
    /// <c>iopf_queue_flush_dev</c> (R23, POL-8) without blocking: snapshots the groups the flush waits
    /// for: groups whose work is on the device's queue — under <c>linux</c> all of them (all devices, all PASIDs:
    /// F5), under <c>hardened</c> only those of (<paramref name="device"/>, <paramref name="pasid"/>), PASID 0
    /// being the RID. Under either, like <c>flush_workqueue</c>, not the groups an iommufd fault queue holds:
    /// their handler queued no work, and the detach that follows answers them (R43). Poll <see cref="IsFlushComplete"/>. A device on no queue yields a flush whose
    /// <see cref="FaultFlush.Status"/> is <see cref="FaultStatus.NoDevice"/> (Linux: WARN, -ENODEV).
    /// O(pending groups of the device, or of the queue under <c>linux</c>): the report path pays nothing for it.
    /// </summary>
    public FaultFlush BeginFlush(FaultDevice device, uint pasid)
    {
        var scope = Policy.FlushScope;
        if (device.Param is not { } param)
        {
            Counters.FlushesWithoutQueue++;
            return new FaultFlush(this, FaultStatus.NoDevice, scope, device, pasid, []);
        }

        var groups = scope == FlushScopePolicy.Queue
            ? param.Queue.Devices.SelectMany(d => d.Param is { } p ? p.Pending() : []).Where(g => g.OnWorkqueue).Select(g => g.Handle).ToArray()
            : param.PendingAt(pasid).Where(g => g.OnWorkqueue).Select(g => g.Handle).ToArray();
        Counters.Flushes++;
        Counters.FlushedGroups += groups.Length;
        return new FaultFlush(this, FaultStatus.Ok, scope, device, pasid, groups);
    }

    /// <summary>
    /// True once every group in the flush's snapshot has been answered (by its handler, or INVALID by
    /// <see cref="RemoveDevice"/>) or freed. Amortised O(1) per call, O(k) over the flush's life.
    /// A flush that failed (<see cref="FaultFlush.Status"/> not Ok) waits for nothing and is complete.
    /// </summary>
    public bool IsFlushComplete(FaultFlush flush)
    {
        if (flush.Owner != this) throw new ArgumentException("the flush belongs to another framework", nameof(flush));
        return flush.Advance(_pool);
    }

    /// <summary>
    /// R4: frees every partial, answers every pending group INVALID and frees it (the 2025 fix,
    /// BUG-1), then unpublishes the device. Handles to those groups resolve to nothing afterwards.
    /// </summary>
    public FaultStatus RemoveDevice(FaultQueue queue, FaultDevice device, long now)
    {
        var param = device.Param;
        bool historical = Policy.RemovePending == RemovePendingPolicy.RefuseBusy;
        if (param is null) return historical ? FaultStatus.NoDevice : FaultStatus.Invalid; // current Linux WARNs and does nothing
        if (param.Queue != queue) return FaultStatus.Invalid;
        if (historical && param.PendingCount > 0) return FaultStatus.Busy; // R5: flush, then retry
        Counters.RemovedPartials += param.Partials.Clear();
        while (param.PendingHead is { } group)
        {
            SendResponse(group, PageResponseCode.Invalid, now);
            param.UnlinkPending(group);
            group.State = FaultGroupState.Responded; // a later response goes nowhere (R20)
            Counters.RemovedGroups++;
            if (Policy.RemoveDeviceFreesGroups) _pool.Return(group); // else BUG-1: its handle lives on, its memory leaks
        }
        queue.Remove(device);
        device.Param = null;
        return FaultStatus.Ok;
    }

    /// <summary>R2: removes every device still on the queue, then drops the queued work.</summary>
    public void FreeQueue(FaultQueue? queue, long now)
    {
        if (queue is null) return;
        foreach (var device in queue.Devices.ToArray()) RemoveDevice(queue, device, now); // R5 (HIST) may refuse some
        while (queue.TryDequeueWork(out _)) { }
    }

    /// <summary>
    /// R24: frees every partial fault of every device on the queue, after a hardware queue overflow
    /// may have lost the last request of some groups (R32). Returns <see cref="FaultStatus.Invalid"/> for no queue.
    /// </summary>
    public FaultStatus DiscardPartial(FaultQueue? queue)
    {
        if (queue is null) return FaultStatus.Invalid;
        foreach (var device in queue.Devices)
            if (device.Param is { } param) Counters.DiscardedPartials += param.Partials.Clear();
        return FaultStatus.Ok;
    }

    /// <summary>
    /// <c>iommu_report_device_fault</c> (R7-R16). Returns <see cref="FaultStatus.Ok"/> when the fault
    /// was accepted or aborted-and-answered, <see cref="FaultStatus.Invalid"/> for the no-handler path
    /// and <see cref="FaultStatus.NoMemory"/> when a partial copy could not be allocated.
    /// </summary>
    public FaultStatus Report(FaultDevice device, in Fault fault, long now)
    {
        Counters.Reports++;
        var param = device.Param; // R11: a device being removed yields "no param"
        var attachment = device.Route(fault);
        if (attachment?.Handler is null || param is null) return ReportWithoutHandler(device, fault, now);

        var key = GroupKey.Of(fault, Policy.GroupKey);
        if (!fault.IsLast)
        {
            if (AllocationFails(AllocationSite.Partial))
            {
                Counters.PartialAllocationFailures++; // R12, BUG-6: the page is silently missing from its group
                return FaultStatus.NoMemory;
            }
            int evicted = param.Partials.Append(key, fault, PartialLimitOf(param), attachment);
            if (evicted > 0)
            {
                // POL-4, F2: the oldest incomplete group goes whole; its last request, if it ever
                // comes, finds no partials and completes a group of one.
                Counters.EvictedPartialGroups++;
                Counters.EvictedPartials += evicted;
            }
            Counters.Partials++;
            return FaultStatus.Ok;
        }

        var group = AllocationFails(AllocationSite.Group) ? null : _pool.Rent();
        bool aborted = group is null;
        group ??= _abortGroup;
        group.Device = device;
        var firstRoute = param.Partials.MoveTo(key, group);
        group.Complete(fault);
        group.ReportedAt = now;
        group.Attachment = attachment;
        if (firstRoute is not null && firstRoute != attachment)
        {
            // Isolation: the group's first request was routed to another (device, PASID) binding than the one
            // that now resolves the whole group: a PRG index shared across PASIDs (R14, POL-2) or reused after
            // a rebind (R25) merged faults of two address spaces.
            Counters.IsolationBreaches++;
            IsolationBreached?.Invoke(group, firstRoute, now);
        }
        group.State = FaultGroupState.Pending;
        param.LinkPending(group);
        Counters.Groups++;
        Counters.FaultsInGroups += group.Count;

        if (aborted)
        {
            Abort(group, Policy.Abort == AbortPolicy.Failure ? PageResponseCode.Failure : PageResponseCode.Success, now);
            if (Policy.Abort == AbortPolicy.Defer) Counters.Deferrals++;
            _abortGroup.Reset();
        }
        else if (!attachment.Handler.Handle(group, now))
        {
            // R15: "iopf with pasid %d aborted". F7: hardened never sends FAILURE on its own account.
            Abort(group, Policy.Abort == AbortPolicy.Failure ? PageResponseCode.Failure : PageResponseCode.Invalid, now);
            _pool.Return(group);
        }
        return FaultStatus.Ok;
    }

    /// <summary>
    /// <c>iopf_group_response</c> (R18): passes the response to the driver if the group is still
    /// pending. A group already answered, freed or never reported is not answered again (R20); under
    /// POL-7 <c>hardened</c> the caller learns why.
    /// </summary>
    public ResponseStatus Respond(FaultGroupHandle handle, PageResponseCode code, long now)
    {
        var group = _pool.Resolve(handle);
        if (group is { State: FaultGroupState.Pending })
        {
            SendResponse(group, code, now);
            group.Device.Param?.UnlinkPending(group);
            group.State = FaultGroupState.Responded;
            return ResponseStatus.Responded;
        }

        if (Policy.StaleResponse == StaleResponsePolicy.DropSilently)
        {
            Counters.StaleResponsesDropped++;
            return ResponseStatus.Dropped;
        }
        Counters.StaleResponsesRejected++;
        return group is null ? ResponseStatus.Unknown : ResponseStatus.AlreadyAnswered;
    }

    /// <summary>
    /// R21 HIST (v5.3–v6.8 <c>iommu_page_response(dev, msg)</c>), the way a guest or VFIO user answered
    /// before cookies: the message names the group by (PASID, group id); the oldest pending group with
    /// that id is answered if it does not need a PASID, or if the message carries the same one; a PASID
    /// the group does not need is stripped. -ENODEV without a page_response op; -EINVAL without fault
    /// state, for version != 1, unknown flags, nothing pending ("no pending PRQ, drop response") or no
    /// match. O(pending) — the list scan F8 criticises. The handler still frees the group (R19).
    /// </summary>
    public FaultStatus RespondByMessage(FaultDevice device, in PageResponseMessage message, long now)
    {
        if (device.Responder is null) return FaultStatus.NoDevice;
        if (device.Param is not { } param || message.Version != PageResponseMessage.Version1
            || (message.Flags & ~PageResponseMessage.PasidValid) != 0 || param.PendingHead is null)
            return FaultStatus.Invalid;
        bool hasPasid = (message.Flags & PageResponseMessage.PasidValid) != 0;
        FaultGroup? match = null;
        for (var g = param.PendingHead; g is not null; g = g.PendingNext) // newest first: the last match is the oldest
        {
            var last = g.LastFault;
            bool needsPasid = (last.Flags & FaultFlags.ResponseNeedsPasid) != 0;
            if (last.GroupId == message.GroupId && (!needsPasid || (hasPasid && last.Pasid == message.Pasid))) match = g;
        }
        if (match is null) return FaultStatus.Invalid;
        Respond(match.Handle, message.Code, now);
        return FaultStatus.Ok;
    }

    /// <summary>
    /// <c>iopf_free_group</c> (R19): exactly once per group. Freeing a group that was never answered
    /// is counted: its device will never get a response (R8).
    /// </summary>
    public bool Free(FaultGroupHandle handle)
    {
        var group = _pool.Resolve(handle);
        if (group is null) return false;
        if (group.State == FaultGroupState.Pending)
        {
            group.Device.Param?.UnlinkPending(group);
            Counters.FreedUnanswered++;
        }
        _pool.Return(group);
        return true;
    }

    /// <summary>Resolves a handle to its live group, or null.</summary>
    public FaultGroup? Find(FaultGroupHandle handle) => _pool.Resolve(handle);

    private FaultStatus ReportWithoutHandler(FaultDevice device, in Fault fault, long now)
    {
        // R10 / POL-1. F4: answering a non-last request lets the function see two responses for one group.
        if (fault.IsLast && Policy.NoHandler == NoHandlerPolicy.AnswerLastOnly && device.Param is { } param)
        {
            // F4: partials stored while a handler was attached die with their group, instead of
            // joining a later group that reuses the same (PASID, PRG index).
            Counters.OrphanedPartials += param.Partials.Drop(GroupKey.Of(fault, Policy.GroupKey));
        }
        bool voidReport = Policy.NoHandler == NoHandlerPolicy.VoidReport;
        if (voidReport && device.Param is null)
        {
            Counters.NoHandlerDrops++; // BUG-5: the void report returns before anything can answer
            return FaultStatus.Invalid;
        }
        if (fault.IsLast || Policy.NoHandler == NoHandlerPolicy.AnswerEveryRequest)
        {
            if (device.Responder is { } responder)
            {
                var code = voidReport ? PageResponseCode.Failure : PageResponseCode.Invalid; // v6.9–v6.10 aborted the group (R15)
                var response = new PageResponse(fault.Pasid, fault.GroupId, code);
                responder.PageResponse(device, fault, response, now);
                Counters.CountResponse(code);
                Counters.NoHandlerAnswers++;
            }
            else
            {
                Counters.NoHandlerDrops++; // no page_response op: nothing can answer it
            }
        }
        else
        {
            Counters.NoHandlerDrops++;
        }
        return FaultStatus.Invalid;
    }

    private void Abort(FaultGroup group, PageResponseCode code, long now)
    {
        Counters.AbortedGroups++;
        SendResponse(group, code, now);
        group.Device.Param?.UnlinkPending(group);
    }

    private void SendResponse(FaultGroup group, PageResponseCode code, long now)
    {
        var last = group.LastFault;
        var response = new PageResponse(last.Pasid, last.GroupId, code);
        group.Device.Responder!.PageResponse(group.Device, last, response, now);
        Counters.CountResponse(code);
    }

    private int PartialLimitOf(FaultDeviceParam param) =>
        Policy.PartialLimit == PartialLimitPolicy.Unbounded ? int.MaxValue : param.PartialLimit ?? Policy.DefaultPartialLimit;

    private bool AllocationFails(AllocationSite site)
    {
        long ordinal = ++_allocations[(int)site];
        if (_armed == 0 || !_failAt[(int)site].Remove(ordinal)) return false;
        _armed--;
        return true;
    }
}
