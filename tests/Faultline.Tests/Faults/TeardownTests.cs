using Faultline.Faults;

namespace Faultline.Tests.Faults;

/// <summary>
/// Flush and teardown: R6 (removal order), R23 (flush, POL-8), R25 (PASID teardown order),
/// POL-4 (bounded partials), POL-10 (partials of a detached PASID), BUG-9 (report racing removal)
/// and BUG-17 (a flush never blocks the report path).
/// </summary>
public class TeardownTests
{
    /// <summary>A rig whose handler queues its groups as work (SVA, R26), plus a second device on the same queue.</summary>
    private static (FaultRig Rig, FaultDevice Other) TwoDevicesOnOneQueue(string policy)
    {
        var rig = new FaultRig(policy) { Handler = { QueueWork = true } };
        var other = rig.NewDevice("dev1", rig.Queue);
        Assert.Equal(FaultStatus.Ok, other.Attach(0, rig.Rid));
        return (rig, other);
    }

    /// <summary>The host's workers: run every queued item whose group still exists, answering SUCCESS.</summary>
    private static void RunQueuedWork(FaultRig rig)
    {
        while (rig.Queue.TryDequeueWork(out var item))
            if (rig.Framework.Find(item.Group) is not null) rig.Answer(item.Group); // removed with its device (R4) otherwise
    }

    // ---- R23 / POL-8 ----

    [Theory]
    [InlineData("linux", 3, true)]
    [InlineData("hardened", 1, false)]
    public void R23_T12_POL8_linux_flush_of_one_device_waits_for_queued_work_of_another_device_hardened_does_not(
        string policy, int snapshot, bool waitsForOther)
    {
        var (rig, other) = TwoDevicesOnOneQueue(policy);
        rig.Report(Pri.Last(1, 0x1000));
        rig.Report(other, Pri.Last(2, 0x2000), Pri.Last(3, 0x3000));
        Assert.Equal(3, rig.Queue.QueuedWork);

        var flush = rig.Framework.BeginFlush(rig.Device, 0);

        Assert.Equal(FaultStatus.Ok, flush.Status);
        Assert.Equal(snapshot, flush.SnapshotCount);
        Assert.False(rig.Framework.IsFlushComplete(flush));
        rig.Answer(rig.HandlesOf(rig.Device)[0]);
        Assert.Equal(!waitsForOther, rig.Framework.IsFlushComplete(flush));
        foreach (var handle in rig.HandlesOf(other)) rig.Answer(handle);
        Assert.True(rig.Framework.IsFlushComplete(flush));
        Assert.Equal(1, rig.Framework.Counters.Flushes);
        Assert.Equal(snapshot, rig.Framework.Counters.FlushedGroups);
    }

    [Theory]
    [InlineData("linux", 3, 3)]
    [InlineData("hardened", 2, 1)]
    public void R23_POL8_hardened_flush_of_a_pasid_waits_only_for_that_pasid_linux_for_every_pasid(
        string policy, int pasidSnapshot, int ridSnapshot)
    {
        var rig = new FaultRig(policy) { Handler = { QueueWork = true } };
        rig.Device.Attach(3, rig.Rid);
        rig.Report(Pri.Last(1, 0x1000, pasid: 3), Pri.Last(2, 0x2000), Pri.Last(4, 0x4000, pasid: 3));
        var (pasid3a, rid, pasid3b) = (rig.Handler.Groups[0].Handle, rig.Handler.Groups[1].Handle, rig.Handler.Groups[2].Handle);
        Assert.Equal(2, rig.Device.PendingCountAt(3));
        Assert.Equal(1, rig.Device.PendingCountAt(0));

        var ofPasid = rig.Framework.BeginFlush(rig.Device, 3);
        var ofRid = rig.Framework.BeginFlush(rig.Device, 0);

        Assert.Equal(pasidSnapshot, ofPasid.SnapshotCount);
        Assert.Equal(ridSnapshot, ofRid.SnapshotCount);
        rig.Answer(pasid3b);
        rig.Answer(pasid3a);
        Assert.Equal(policy == "hardened", rig.Framework.IsFlushComplete(ofPasid));
        Assert.False(rig.Framework.IsFlushComplete(ofRid));
        rig.Answer(rid);
        Assert.True(rig.Framework.IsFlushComplete(ofPasid));
        Assert.True(rig.Framework.IsFlushComplete(ofRid));
        Assert.Equal(0, rig.Device.PendingCountAt(3));
    }

    /// <summary>
    /// <c>iopf_queue_flush_dev</c> is <c>flush_workqueue</c>: it waits for queued work only. An iommufd fault queue's
    /// handler (<c>iommufd_fault_iopf_handler</c>) queues none, so the groups a guest holds do not hold a linux flush of
    /// the queue, nor under hardened the flush of the guest's own PASID (POL-8): iommufd's detach answers them (R43).
    /// </summary>
    [Theory]
    [InlineData("linux", 1)]
    [InlineData("hardened", 1)]
    public void R23_POL_8_groups_an_iommufd_fault_queue_holds_hold_no_flush(string policy, int snapshot)
    {
        var (rig, other) = TwoDevicesOnOneQueue(policy);
        var guest = new RecordingHandler(); // holds its groups without queueing work, as iommufd does
        Assert.Equal(FaultStatus.Ok, other.Attach(5, new FaultAttachment("iommufd", guest)));
        rig.Report(Pri.Last(1, 0x1000));
        rig.Report(other, Pri.Last(2, 0x2000, pasid: 5), Pri.Last(3, 0x3000, pasid: 5));
        Assert.Equal(2, other.PendingCountAt(5));

        var flush = rig.Framework.BeginFlush(rig.Device, 0);

        Assert.Equal(snapshot, flush.SnapshotCount); // linux: its own queued group only, not the guest's two
        rig.Answer(rig.HandlesOf(rig.Device)[0]);
        Assert.True(rig.Framework.IsFlushComplete(flush));
        Assert.Equal(2, other.PendingCountAt(5));
        var ofGuest = rig.Framework.BeginFlush(other, 5);
        Assert.Equal(0, ofGuest.SnapshotCount);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R23_groups_reported_after_begin_flush_do_not_extend_it(string policy)
    {
        var rig = new FaultRig(policy) { Handler = { QueueWork = true } };
        rig.Report(Pri.Last(1, 0x1000));
        var before = rig.LastGroup.Handle;

        var flush = rig.Framework.BeginFlush(rig.Device, 0);
        rig.Report(Pri.Last(2, 0x2000));
        Assert.Equal(1, flush.SnapshotCount);
        rig.Answer(before);

        Assert.True(rig.Framework.IsFlushComplete(flush));
        Assert.Equal(1, rig.Device.PendingCount); // the later group is still pending
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R23_flush_of_a_device_on_no_queue_is_no_device_and_waits_for_nothing(string policy)
    {
        var rig = new FaultRig(policy);
        var stranger = rig.NewDevice("stranger", queue: null);
        rig.Report(Pri.Last(1, 0x1000));
        rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0);

        foreach (var device in new[] { stranger, rig.Device })
        {
            var flush = rig.Framework.BeginFlush(device, 0);
            Assert.Equal(FaultStatus.NoDevice, flush.Status);
            Assert.Equal("-ENODEV", flush.Status.Errno());
            Assert.Equal(0, flush.SnapshotCount);
            Assert.True(rig.Framework.IsFlushComplete(flush));
        }
        Assert.Equal(2, rig.Framework.Counters.FlushesWithoutQueue);
        Assert.Equal(0, rig.Framework.Counters.Flushes);
    }

    [Fact]
    public void R23_flush_with_nothing_pending_is_complete_at_once()
    {
        var rig = new FaultRig("linux");
        rig.Report(Pri.Partial(1, 0x1000)); // partials are not work: a flush does not wait for them

        var flush = rig.Framework.BeginFlush(rig.Device, 0);

        Assert.Equal(FaultStatus.Ok, flush.Status);
        Assert.Equal(0, flush.SnapshotCount);
        Assert.True(rig.Framework.IsFlushComplete(flush));
    }

    [Fact]
    public void R23_a_flush_token_of_another_framework_is_refused()
    {
        var flush = new FaultRig().Framework.BeginFlush(new FaultRig().Device, 0);

        Assert.Throws<ArgumentException>(() => new FaultRig().Framework.IsFlushComplete(flush));
    }

    // ---- BUG-17 ----

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void BUG17_S20_an_outstanding_flush_never_blocks_reports_or_responses_and_completes_once_its_snapshot_is_answered(string policy)
    {
        var (rig, other) = TwoDevicesOnOneQueue(policy);
        rig.Report(Pri.Partial(1, 0x1000), Pri.Last(1, 0x2000));
        var snapshotted = rig.LastGroup.Handle;
        var flush = rig.Framework.BeginFlush(rig.Device, 0);

        // While the flush is outstanding: partials, last requests and the no-handler path all proceed on
        // the flushed device and its neighbour, and handlers answer as usual.
        var statuses = rig.Report(Pri.Partial(2, 0x3000), Pri.Last(2, 0x4000), Pri.Last(9, 0x5000, pasid: 7));
        statuses = [.. statuses, .. rig.Report(other, Pri.Last(3, 0x6000))];
        Assert.Equal([FaultStatus.Ok, FaultStatus.Ok, FaultStatus.Invalid, FaultStatus.Ok], statuses);
        Assert.Equal(3, rig.Handler.Groups.Count);
        Assert.Equal([0x3000ul, 0x4000], rig.Handler.Groups[1].Addresses);
        rig.Answer(rig.Handler.Groups[1].Handle);
        rig.Answer(rig.Handler.Groups[2].Handle);
        Assert.False(rig.Framework.IsFlushComplete(flush));

        rig.Answer(snapshotted);

        Assert.True(rig.Framework.IsFlushComplete(flush));
        Assert.Equal(4, rig.Responder.Records.Count); // three answers and the no-handler INVALID
        Assert.Equal(0, rig.Framework.GroupsInUse);
    }

    // ---- POL-10 ----

    [Theory]
    [InlineData("linux", new ulong[] { 0x1000, 0x3000 }, 0)]
    [InlineData("hardened", new ulong[] { 0x3000 }, 1)]
    public void POL10_F4_linux_stale_partial_of_a_detached_pasid_joins_a_group_after_reattach_hardened_purges_it(
        string policy, ulong[] expected, int purged)
    {
        var rig = new FaultRig(policy);
        rig.Device.Attach(3, rig.Rid);
        rig.Device.Attach(4, rig.Rid);
        rig.Report(Pri.Partial(5, 0x1000, pasid: 3), Pri.Partial(6, 0x2000, pasid: 4));

        Assert.Same(rig.Rid, rig.Framework.Detach(rig.Device, 3));

        Assert.Null(rig.Device.AttachmentAt(3));
        Assert.Equal(purged, rig.Framework.Counters.PurgedPartials);
        Assert.Equal(2 - purged, rig.Device.PartialCount);
        Assert.Empty(rig.Responder.Records); // partials are never answered on their own
        rig.Device.Attach(3, rig.Rid);
        rig.Report(Pri.Last(5, 0x3000, pasid: 3));
        Assert.Equal(expected, rig.LastGroup.Addresses);
        rig.Report(Pri.Last(6, 0x4000, pasid: 4)); // the other PASID's group is whole under both
        Assert.Equal([0x2000ul, 0x4000], rig.LastGroup.Addresses);
        Assert.Equal(0, rig.Device.PartialCount);
    }

    [Fact]
    public void POL10_purge_under_a_prg_index_only_key_takes_only_that_pasids_faults_out_of_a_merged_chain()
    {
        var policy = FaultPolicy.Linux with { DetachedPartials = DetachedPartialsPolicy.Purge };
        var rig = new FaultRig(policy);
        rig.Device.Attach(1, rig.Rid);
        rig.Device.Attach(2, rig.Rid);
        rig.Report(Pri.Partial(4, 0x1000, pasid: 1), Pri.Partial(4, 0x2000, pasid: 2), Pri.Partial(4, 0x3000, pasid: 1));

        rig.Framework.Detach(rig.Device, 1);

        Assert.Equal(2, rig.Framework.Counters.PurgedPartials);
        Assert.Equal(1, rig.Device.PartialCount);
        rig.Report(Pri.Partial(4, 0x5000, pasid: 2), Pri.Last(4, 0x6000, pasid: 2)); // the chain's tail was relinked
        Assert.Equal([0x2000ul, 0x5000, 0x6000], rig.LastGroup.Addresses);
    }

    [Fact]
    public void POL10_detaching_the_rid_purges_pasid_less_partials_and_detaching_nothing_purges_nothing()
    {
        var rig = new FaultRig("hardened");
        rig.Device.Attach(3, rig.Rid);
        rig.Report(Pri.Partial(1, 0x1000), Pri.Partial(1, 0x2000, pasid: 3), Pri.Partial(2, 0x3000));

        Assert.Null(rig.Framework.Detach(rig.Device, 9));
        Assert.Equal(3, rig.Device.PartialCount);
        Assert.Same(rig.Rid, rig.Framework.Detach(rig.Device, 0));

        Assert.Equal(2, rig.Framework.Counters.PurgedPartials);
        Assert.Equal(1, rig.Device.PartialCount);
        rig.Report(Pri.Last(1, 0x4000, pasid: 3));
        Assert.Equal([0x2000ul, 0x4000], rig.LastGroup.Addresses);
    }

    // ---- POL-4 ----

    [Theory]
    [InlineData("linux", 4, 0, new ulong[] { 0x1000, 0x3000, 0x8000 })]
    [InlineData("hardened", 2, 1, new ulong[] { 0x8000 })]
    public void POL4_F2_hardened_drops_the_oldest_incomplete_group_whole_at_the_pri_allocation_linux_is_unbounded(
        string policy, int heldAfterFourth, int evictedGroups, ulong[] firstGroup)
    {
        var rig = new FaultRig(policy, partialLimit: 3);
        rig.Report(Pri.Partial(1, 0x1000), Pri.Partial(2, 0x2000), Pri.Partial(1, 0x3000));
        Assert.Equal(3, rig.Device.PartialCount);

        rig.Report(Pri.Partial(3, 0x4000));

        Assert.Equal(heldAfterFourth, rig.Device.PartialCount);
        Assert.Equal(evictedGroups, rig.Framework.Counters.EvictedPartialGroups);
        Assert.Equal(2 * evictedGroups, rig.Framework.Counters.EvictedPartials);
        Assert.Empty(rig.Responder.Records);
        // Later groups are untouched: group 2 (older than 3, but not the oldest) and group 3 stay whole.
        rig.Report(Pri.Partial(2, 0x5000), Pri.Last(2, 0x6000));
        Assert.Equal([0x2000ul, 0x5000, 0x6000], rig.LastGroup.Addresses);
        rig.Report(Pri.Last(3, 0x7000));
        Assert.Equal([0x4000ul, 0x7000], rig.LastGroup.Addresses);
        // The dropped group's last request still completes a group (of what is left) and is answered by its handler.
        rig.Report(Pri.Last(1, 0x8000));
        Assert.Equal(firstGroup, rig.LastGroup.Addresses);
        Assert.Equal(evictedGroups, rig.Framework.Counters.EvictedPartialGroups);
        Assert.Equal(0, rig.Device.PartialCount);
    }

    [Fact]
    public void POL4_the_arriving_request_is_kept_even_when_its_own_group_is_the_oldest()
    {
        var rig = new FaultRig("hardened", partialLimit: 2);

        rig.Report(Pri.Partial(1, 0x1000), Pri.Partial(1, 0x2000), Pri.Partial(1, 0x3000));

        Assert.Equal(1, rig.Device.PartialCount);
        Assert.Equal(2, rig.Framework.Counters.EvictedPartials);
        rig.Report(Pri.Last(1, 0x4000));
        Assert.Equal([0x3000ul, 0x4000], rig.LastGroup.Addresses);
    }

    [Theory]
    [InlineData(PartialLimitPolicy.PriAllocation, 2, 1)]
    [InlineData(PartialLimitPolicy.Unbounded, 3, 0)]
    public void POL4_without_a_host_allocation_the_policy_default_bounds_the_device_unless_the_switch_is_unbounded(
        PartialLimitPolicy limit, int held, int evicted)
    {
        var rig = new FaultRig(FaultPolicy.Hardened with { PartialLimit = limit, DefaultPartialLimit = 2 });

        rig.Report(Pri.Partial(1, 0x1000), Pri.Partial(2, 0x2000), Pri.Partial(3, 0x3000));

        Assert.Equal(held, rig.Device.PartialCount);
        Assert.Equal(held, rig.Device.PartialGroupCount);
        Assert.Equal(evicted, rig.Framework.Counters.EvictedPartialGroups);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void POL4_add_device_with_an_allocation_below_one_is_invalid(int limit)
    {
        var queue = FaultFramework.AllocateQueue("q");
        var device = new FaultDevice("d", new RecordingResponder());

        Assert.Equal(FaultStatus.Invalid, FaultFramework.AddDevice(queue, device, limit));
        Assert.Null(device.Queue);
        Assert.Empty(queue.Devices);
    }

    [Fact]
    public void POL4_F1_append_evict_and_extract_allocate_nothing_in_the_steady_state()
    {
        var store = new PartialFaultStore();
        var group = new FaultGroup(0);
        void Cycle()
        {
            for (uint i = 0; i < 64; i++) store.Append(new GroupKey(i % 8), Pri.Partial(i % 8, i * Pri.Page), limit: 16);
            for (uint k = 0; k < 8; k++)
            {
                store.MoveTo(new GroupKey(k), group);
                group.Reset();
            }
        }
        Cycle(); // warm up: arrays and dictionary reach their size

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) Cycle();

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(0, store.Count);
    }

    // ---- R25 ----

    [Theory]
    [InlineData("linux", 2)]
    [InlineData("hardened", 1)]
    public void R25_teardown_detach_then_flush_then_remove_leaves_nothing_of_that_pasid(string policy, int partialsAfterFlush)
    {
        var rig = new FaultRig(policy) { Handler = { QueueWork = true } };
        var sva = new FaultAttachment("sva", rig.Handler);
        rig.Device.Attach(3, sva);
        rig.Report(Pri.Last(1, 0x1000, pasid: 3), Pri.Partial(2, 0x2000, pasid: 3)); // group 2's last never comes: the PASID stopped
        rig.Report(Pri.Last(7, 0x7000), Pri.Partial(8, 0x8000));

        // 1. The IOMMU driver detaches the PASID (after the device's PASID stop and its HW queue drain).
        Assert.Same(sva, rig.Framework.Detach(rig.Device, 3));
        // 2. Flush, while the host's workers keep running queued work.
        var flush = rig.Framework.BeginFlush(rig.Device, 3);
        Assert.False(rig.Framework.IsFlushComplete(flush));
        RunQueuedWork(rig);
        Assert.True(rig.Framework.IsFlushComplete(flush));
        Assert.Equal(0, rig.Device.PendingCountAt(3));
        Assert.Equal(partialsAfterFlush, rig.Device.PartialCount); // linux: the PASID's partial lingers (F4)
        // 3. Remove the device (last fault-capable domain gone, R6).
        Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));

        Assert.Equal(0, rig.Device.PendingCountAt(3));
        Assert.Equal(0, rig.Device.PartialCount);
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(partialsAfterFlush, rig.Framework.Counters.RemovedPartials);
        Assert.Equal(0, rig.Framework.Counters.RemovedGroups);
        var ofPasid = rig.Responder.Records.Where(r => r.LastFault.Pasid == 3).ToArray();
        Assert.Equal(new PageResponse(3, 1, PageResponseCode.Success), Assert.Single(ofPasid).Response);
    }

    // ---- R6 ----

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R6_remove_device_answers_outstanding_groups_invalid_once_then_the_device_is_gone_from_the_queue(string policy)
    {
        var (rig, other) = TwoDevicesOnOneQueue(policy);
        rig.Report(Pri.Last(1, 0x1000), Pri.Last(2, 0x2000));
        rig.Report(other, Pri.Last(9, 0x9000));
        var flushOfOther = rig.Framework.BeginFlush(other, 0);

        Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));

        Assert.Equal(
            [new PageResponse(0, 2, PageResponseCode.Invalid), new PageResponse(0, 1, PageResponseCode.Invalid)],
            rig.Responder.For(rig.Device).Select(r => r.Response));
        Assert.Equal([other], rig.Queue.Devices);
        Assert.Null(rig.Device.Queue);
        Assert.Equal(FaultStatus.NoDevice, rig.Framework.BeginFlush(rig.Device, 0).Status);
        Assert.False(rig.Framework.IsFlushComplete(flushOfOther)); // the other device's group is still pending

        // The removed device's work items are still queued; the host finds their groups gone and skips them.
        Assert.Equal(3, rig.Queue.QueuedWork);
        RunQueuedWork(rig);

        Assert.True(rig.Framework.IsFlushComplete(flushOfOther));
        Assert.Equal(2, rig.Responder.For(rig.Device).Length);
        Assert.Equal(PageResponseCode.Success, Assert.Single(rig.Responder.For(other)).Response.Code);
        Assert.Equal(FaultStatus.Invalid, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0)); // a second removal is a no-op
        Assert.Equal(2, rig.Responder.For(rig.Device).Length);
    }

    // ---- BUG-9 ----

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void BUG9_S12_report_after_remove_takes_the_no_handler_path_and_a_group_reported_before_outlives_the_registration(string policy)
    {
        var rig = new FaultRig(policy);
        rig.Report(Pri.Last(1, 0x1000), Pri.Last(2, 0x2000), Pri.Partial(4, 0x4000));
        var answered = rig.Handler.Groups[0].Handle;
        var unanswered = rig.Handler.Groups[1].Handle;
        Assert.Equal(ResponseStatus.Responded, rig.Framework.Respond(answered, PageResponseCode.Success, now: 0)); // not freed yet

        rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0);

        // The answered group is still the handler's until it frees it (§1.4); the unanswered one was answered and freed (R4).
        Assert.Equal(FaultGroupState.Responded, rig.Framework.Find(answered)!.State);
        Assert.Null(rig.Framework.Find(unanswered));
        // A report arriving after removal sees no param: R10, INVALID, no handler call, no stale partial joins.
        Assert.Equal(FaultStatus.Invalid, rig.Framework.Report(rig.Device, Pri.Last(4, 0x5000), now: 0));
        Assert.Equal(2, rig.Handler.Groups.Count);
        Assert.Equal(new PageResponse(0, 4, PageResponseCode.Invalid), rig.Responder.Records[^1].Response);
        Assert.Equal(Pri.Last(4, 0x5000), rig.Responder.Records[^1].LastFault);

        Assert.True(rig.Framework.Free(answered));
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.NotEqual(ResponseStatus.Responded, rig.Framework.Respond(answered, PageResponseCode.Success, now: 0));
        Assert.Equal(3, rig.Responder.Records.Count); // SUCCESS for 1, INVALID for 2 at removal, INVALID for 4
        Assert.Equal(0, rig.Framework.Counters.FreedUnanswered);
    }
}
