using Faultline.Faults;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

public sealed class UserFaultQueueLifecycleTests
{
    private const PollEvents Readable = PollEvents.EPOLLIN | PollEvents.EPOLLRDNORM;

    [Fact]
    public void R39_allocation_with_flags_is_EOPNOTSUPP()
    {
        var framework = new FaultFramework(FaultPolicy.Linux);
        Assert.Equal(FaultQueueErrno.EOPNOTSUPP, UserFaultQueue.Allocate(framework, 1, 3, out var none));
        Assert.Null(none);
        Assert.Equal(FaultQueueErrno.None, UserFaultQueue.Allocate(framework, 0, 3, out var queue));
        Assert.True(queue!.FdOpen);
        Assert.Equal(3u, queue.Id);
    }

    [Fact]
    public void R42_delivery_appends_at_the_tail_without_answering_and_without_a_bound_under_linux()
    {
        var rig = new UserQueueRig();
        for (uint g = 0; g < 5000; g++) Assert.Equal(FaultStatus.Ok, rig.Trigger(grpid: g % 512, addr: g * 0x1000UL));
        Assert.Equal(5000, rig.Queue.Unread);
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(0, rig.Queue.Counters.Refused);
        var (_, records) = rig.Read(3);
        Assert.Equal([0UL, 0x1000, 0x2000], records.Select(r => r.Address)); // oldest first
    }

    [Fact]
    public void POL_6_hardened_depth_answers_success_past_the_bound_and_counts_a_lost_event()
    {
        var rig = new UserQueueRig("hardened", depthShare: 2);
        Assert.Equal(2, rig.Queue.Depth);
        rig.Trigger(grpid: 1);
        rig.Trigger(grpid: 2);
        rig.Read(1); // one unread + one unanswered still count
        rig.Trigger(grpid: 3);
        Assert.Equal([PageResponseCode.Success], rig.Codes); // retry later, not a failure of the access
        Assert.Equal([3u], rig.AnsweredGroupIds);
        Assert.Equal(1, rig.Queue.Counters.LostEvents);
        Assert.Equal(0, rig.Queue.Counters.Refused);
        Assert.Equal(2, rig.Framework.GroupsInUse); // the lost group was freed at once
    }

    [Fact]
    public void POL_6_linux_has_no_depth_whatever_the_shares()
    {
        var rig = new UserQueueRig("linux", depthShare: 2);
        Assert.Null(rig.Queue.Depth);
        for (uint g = 0; g < 10; g++) rig.Trigger(grpid: g);
        Assert.Equal(10, rig.Queue.Unread);
        Assert.Equal(0, rig.Queue.Counters.LostEvents);
    }

    [Fact]
    public void POL_6_a_detached_handle_takes_its_share_out_of_the_depth()
    {
        var rig = new UserQueueRig("hardened", depthShare: 3);
        var second = rig.Queue.CreateAttachment(0x77, depthShare: 5);
        Assert.Equal(8, rig.Queue.Depth);
        rig.Queue.AutoRespond(second, now: 0);
        Assert.Equal(3, rig.Queue.Depth);
    }

    [Fact]
    public void T19_R48_poll_is_always_writable_and_readable_iff_unread_groups_exist()
    {
        var rig = new UserQueueRig();
        Assert.Equal(PollEvents.EPOLLOUT, rig.Queue.Poll());
        rig.Trigger(grpid: 1);
        Assert.Equal(PollEvents.EPOLLOUT | Readable, rig.Queue.Poll());
        var (_, records) = rig.Read(1);
        Assert.Equal(PollEvents.EPOLLOUT, rig.Queue.Poll()); // read-but-unanswered does not count
        Assert.Equal(1, rig.Queue.Unanswered);
        rig.Trigger(grpid: 2);
        Assert.Equal(PollEvents.EPOLLOUT | Readable, rig.Queue.Poll());
        rig.Write((records[0].Cookie, 0));
        Assert.Equal(PollEvents.EPOLLOUT | Readable, rig.Queue.Poll());
        rig.Read(1);
        Assert.Equal(PollEvents.EPOLLOUT, rig.Queue.Poll());
    }

    [Fact]
    public void T16_R43_detach_answers_unread_and_read_unanswered_groups_of_that_handle_only()
    {
        var rig = new UserQueueRig();
        var pasid9 = rig.AttachPasid(9, devId: 0x55);
        rig.Trigger(pasid: 0, grpid: 1);
        rig.Trigger(pasid: 9, grpid: 2);
        rig.Trigger(pasid: 9, grpid: 3);
        var (_, read) = rig.Read(2); // grpid 1 (RID) and 2 (PASID 9) read; 3 unread
        rig.Trigger(pasid: 0, grpid: 4);

        Assert.Same(pasid9, rig.Framework.Detach(rig.Device, 9));
        Assert.Equal(2, rig.Queue.AutoRespond(pasid9, now: 0));

        Assert.Equal([3u, 2u], rig.AnsweredGroupIds); // deliver list first, then the response table
        Assert.All(rig.Codes, c => Assert.Equal(PageResponseCode.Invalid, c));
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Write((read[1].Cookie, 0)).Error); // its cookie is gone
        Assert.True(rig.Queue.IsOutstanding(read[0].Cookie)); // the RID's group is untouched
        Assert.Equal(1, rig.Queue.Unread);
        Assert.Null(rig.Queue.DevIdOf(pasid9));
        Assert.Equal(8, rig.Write((read[0].Cookie, 0)).Bytes);
        Assert.Equal([4u], rig.Read(1).Records.Select(r => r.GroupId));
        Assert.Equal(1, rig.Framework.GroupsInUse); // only grpid 4, read and unanswered: nothing leaked
        Assert.Equal(1, rig.Queue.Unanswered);
    }

    [Fact]
    public void T17_failed_replace_answers_nothing_successful_replace_answers_the_old_handle()
    {
        var rig = new UserQueueRig();
        rig.Trigger(grpid: 1);
        var (_, read) = rig.Read(1);
        rig.Trigger(grpid: 2);

        // Replace failure: the new handle cannot be installed, the old stays; no auto-response.
        var other = rig.Queue.CreateAttachment(UserQueueRig.DevId, "other-hwpt");
        Assert.Equal(FaultStatus.Busy, rig.Device.Attach(0, other));
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(1, rig.Queue.Unread);
        Assert.True(rig.Queue.IsOutstanding(read[0].Cookie));

        // Replace success: old handle out, new in, then the old handle's faults are answered.
        var old = rig.Framework.Detach(rig.Device, 0)!;
        Assert.Equal(FaultStatus.Ok, rig.Device.Attach(0, other));
        Assert.Equal(2, rig.Queue.AutoRespond(old, now: 0));
        Assert.Equal([2u, 1u], rig.AnsweredGroupIds);
        rig.Trigger(grpid: 3);
        Assert.Equal([3u], rig.Read(1).Records.Select(r => r.GroupId)); // new faults go through the new handle
    }

    [Fact]
    public void T18_R45_close_while_an_hwpt_holds_the_object_answers_nothing()
    {
        var rig = new UserQueueRig();
        rig.Trigger(grpid: 1);
        rig.Read(1);
        rig.Trigger(grpid: 2);
        Assert.True(rig.Queue.Close());
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(FaultQueueErrno.EBUSY, rig.Queue.Destroy(now: 0));
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(FaultQueueErrno.EBADF, rig.Read(1).Result.Error);
        Assert.Equal(FaultQueueErrno.EBADF, rig.Write((1, 0)).Error);
        Assert.Equal(2, rig.Device.PendingCount); // the device still waits: only R43/R44 answer
        rig.Trigger(grpid: 3); // the HWPT still delivers
        Assert.Equal(2, rig.Queue.Unread);
    }

    [Fact]
    public void T18_BUG3_R44_destroy_after_hwpt_and_close_answers_unread_and_read_unanswered_groups()
    {
        var rig = new UserQueueRig();
        rig.Group(1, 0x1000, 0x2000);
        rig.Trigger(grpid: 2);
        rig.Read(3); // both read, unanswered
        rig.Trigger(grpid: 3);
        rig.Trigger(grpid: 4);

        Assert.Same(rig.Rid, rig.Framework.Detach(rig.Device, 0));
        Assert.Equal(4, rig.Queue.AutoRespond(rig.Rid, now: 0)); // R43 alone would already answer them ...
        Assert.True(rig.Queue.ReleaseHwptReference());
        Assert.True(rig.Queue.Close());
        Assert.Equal(FaultQueueErrno.None, rig.Queue.Destroy(now: 0));
        Assert.Equal(4, rig.Responder.Records.Count); // ... and destroy answers none twice
    }

    [Fact]
    public void BUG3_destroy_answers_read_but_unanswered_groups_too()
    {
        var rig = new UserQueueRig();
        rig.Trigger(grpid: 1);
        rig.Trigger(grpid: 2);
        rig.Read(1); // grpid 1 in the response table, grpid 2 in the deliver list
        rig.Trigger(grpid: 3);
        rig.Queue.ReleaseHwptReference();
        rig.Queue.Close();

        Assert.Equal(FaultQueueErrno.None, rig.Queue.Destroy(now: 0));
        Assert.Equal([2u, 3u, 1u], rig.AnsweredGroupIds); // deliver list, then the response table
        Assert.All(rig.Codes, c => Assert.Equal(PageResponseCode.Invalid, c));
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(0, rig.Device.PendingCount);
        Assert.Equal(0, rig.Queue.Unanswered + rig.Queue.Unread);
        Assert.Equal(FaultQueueErrno.ENOENT, rig.Queue.Destroy(now: 0));
        Assert.Equal(FaultQueueErrno.ENOENT, rig.Queue.AddHwptReference());
    }

    [Fact]
    public void R44_destroy_order_fault_object_first_is_EBUSY_and_answers_nothing()
    {
        var rig = new UserQueueRig();
        rig.Trigger(grpid: 1);
        Assert.Equal(FaultQueueErrno.EBUSY, rig.Queue.Destroy(now: 0)); // fd open and HWPT reference
        rig.Queue.Close();
        Assert.Equal(FaultQueueErrno.EBUSY, rig.Queue.Destroy(now: 0)); // HWPT reference
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(FaultQueueErrno.None, rig.Queue.AddHwptReference()); // a second HWPT
        rig.Queue.ReleaseHwptReference();
        Assert.Equal(FaultQueueErrno.EBUSY, rig.Queue.Destroy(now: 0));
        rig.Queue.ReleaseHwptReference();
        Assert.False(rig.Queue.ReleaseHwptReference());
        Assert.Equal(FaultQueueErrno.None, rig.Queue.Destroy(now: 0));
        Assert.Equal([PageResponseCode.Invalid], rig.Codes);
    }

    [Fact]
    public void R44_after_destroy_a_group_still_routed_to_the_queue_is_refused_and_answered_by_the_framework()
    {
        var rig = new UserQueueRig();
        rig.Queue.ReleaseHwptReference();
        rig.Queue.Close();
        rig.Queue.Destroy(now: 0);
        rig.Trigger(grpid: 1);
        Assert.Single(rig.Responder.Records); // R15 abort: FAILURE under linux
        Assert.Equal(PageResponseCode.Failure, rig.Codes[0]);
        Assert.Equal(1, rig.Queue.Counters.Refused);
    }

    [Fact]
    public void R43_remove_device_before_detach_leaves_stale_handles_that_the_queue_skips()
    {
        var rig = new UserQueueRig();
        rig.Trigger(grpid: 1);
        rig.Trigger(grpid: 2);
        rig.Read(1);
        Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.FaultQueue, rig.Device, now: 0)); // R4 answers both
        Assert.Equal(2, rig.Responder.Records.Count);
        Assert.Equal(0, rig.Read(1).Result.Bytes);
        Assert.Equal(1, rig.Queue.AutoRespond(rig.Rid, now: 0)); // the read one: its cookie goes, nothing is sent twice
        Assert.Equal(2, rig.Responder.Records.Count);
        Assert.Equal(2, rig.Queue.Counters.StaleGroups);
    }

    [Theory]
    [InlineData(1u)]  // S1 alloc_hwpt_nested, S2: test_cmd_trigger_iopf uses pasid 1
    [InlineData(0u)]  // RID
    public void S1_round_trip_trigger_read_write_reaches_the_device_with_success(uint pasid)
    {
        var rig = new UserQueueRig();
        if (pasid != 0) rig.AttachPasid(pasid);
        Assert.Equal(FaultStatus.Ok, rig.Trigger(pasid));
        var buffer = new byte[40];
        var read = rig.Queue.Read(buffer, 0);
        Assert.True(read.ToSyscallReturn() > 0);
        var record = PageFaultRecord.Decode(buffer).Value;
        Assert.Equal(pasid != 0, record.HasPasid);
        Assert.True(record.IsLast);
        Assert.Equal((2u, PageFaultPermissions.Read | PageFaultPermissions.Write, 0xdeadbeafUL), (record.GroupId, record.Perm, record.Address));
        var write = rig.Write((record.Cookie, 0));
        Assert.True(write.ToSyscallReturn() > 0);
        var response = Assert.Single(rig.Responder.Records);
        Assert.Equal(new PageResponse(pasid, 2, PageResponseCode.Success), response.Response);
        Assert.Equal(0, rig.Framework.GroupsInUse);
    }

    [Fact]
    public void S1_destroy_order_of_the_selftest_succeeds_and_leaves_nothing_pending()
    {
        var rig = new UserQueueRig();
        rig.AttachPasid(1);
        rig.Trigger(1);
        var (_, records) = rig.Read(1);
        rig.Write((records[0].Cookie, 0));
        // replace back to the parent: detach the iopf handle, auto-respond (nothing pending)
        var old = rig.Framework.Detach(rig.Device, 1)!;
        Assert.Equal(0, rig.Queue.AutoRespond(old, now: 0));
        rig.Queue.ReleaseHwptReference(); // destroy the iopf HWPT
        Assert.True(rig.Queue.Close());   // close the fault fd
        Assert.Equal(FaultQueueErrno.None, rig.Queue.Destroy(now: 0));
        Assert.Single(rig.Responder.Records);
    }

    [Fact]
    public void S3_round_trip_with_pasid_2048_sets_pasid_valid_and_replace_answers_nothing_pending()
    {
        var rig = new UserQueueRig();
        var iopf = rig.AttachPasid(2048);
        rig.Trigger(2048);
        var (result, records) = rig.Read(1);
        Assert.True(result.Bytes > 0);
        Assert.Equal(PageFaultFlags.PasidValid | PageFaultFlags.LastPage, records[0].Flags);
        Assert.Equal(2048u, records[0].Pasid);
        Assert.True(rig.Write((records[0].Cookie, 0)).Bytes > 0);
        Assert.Equal(new PageResponse(2048, 2, PageResponseCode.Success), rig.Responder.Records[0].Response);

        Assert.Same(iopf, rig.Framework.Detach(rig.Device, 2048)); // replace with an S2 HWPT
        Assert.Equal(FaultStatus.Ok, rig.Device.Attach(2048, new FaultAttachment("s2", null)));
        Assert.Equal(0, rig.Queue.AutoRespond(iopf, now: 0));
        Assert.Single(rig.Responder.Records);
    }
}
