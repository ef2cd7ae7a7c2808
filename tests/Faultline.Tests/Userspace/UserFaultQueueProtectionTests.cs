using Faultline.Faults;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

/// <summary>The host protections of a userspace fault queue: POL-5 deadlines, POL-7 rejections and cookie reuse.</summary>
public sealed class UserFaultQueueProtectionTests
{
    private static readonly FaultPolicy ShortDeadline = FaultPolicy.Hardened with { ResponseDeadlineNs = 1_000 };

    [Fact]
    public void POL_5_linux_holds_an_unanswered_group_forever()
    {
        var rig = new UserQueueRig("linux");
        rig.Trigger(grpid: 1);
        rig.Now = 10_000_000_000_000;
        Assert.Null(rig.Queue.NextDeadline);
        Assert.Equal(0, rig.Queue.Expire(rig.Now));
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(1, rig.Queue.Unread);
    }

    [Fact]
    public void POL_5_hardened_answers_invalid_at_the_deadline_read_or_not()
    {
        var rig = new UserQueueRig(ShortDeadline) { Now = 100 };
        rig.Trigger(grpid: 1);          // delivered at 100, read
        var (_, records) = rig.Read(1);
        rig.Now = 600;
        rig.Trigger(grpid: 2);          // delivered at 600, never read
        Assert.Equal(1_100, rig.Queue.NextDeadline);

        Assert.Equal(0, rig.Queue.Expire(1_099));
        Assert.Equal(1, rig.Queue.Expire(1_100));
        Assert.Equal([1u], rig.AnsweredGroupIds);
        Assert.Equal(1_600, rig.Queue.NextDeadline);
        Assert.Equal(1, rig.Queue.Expire(5_000));
        Assert.Equal([1u, 2u], rig.AnsweredGroupIds);
        Assert.Equal([PageResponseCode.Invalid, PageResponseCode.Invalid], rig.Codes);
        Assert.Equal(2, rig.Queue.Counters.Expired);
        Assert.Null(rig.Queue.NextDeadline);
        Assert.Equal(0, rig.Framework.GroupsInUse);

        // The late answer is rejected as expired and reaches nobody (POL-5, POL-7).
        var late = rig.Write((records[0].Cookie, 0));
        Assert.Equal(FaultQueueErrno.ETIMEDOUT, late.Error);
        Assert.Equal(1, rig.Queue.Counters.Rejected(ResponseRejection.Expired));
        Assert.Equal(2, rig.Responder.Records.Count);
    }

    [Fact]
    public void POL_5_a_group_answered_in_time_is_not_expired_later()
    {
        var rig = new UserQueueRig(ShortDeadline);
        rig.Trigger(grpid: 1);
        var (_, records) = rig.Read(1);
        rig.Write((records[0].Cookie, 0));
        Assert.Null(rig.Queue.NextDeadline);
        Assert.Equal(0, rig.Queue.Expire(1_000_000));
        Assert.Equal([PageResponseCode.Success], rig.Codes);
    }

    [Theory]
    [InlineData("linux", FaultQueueErrno.EINVAL)]
    [InlineData("hardened", FaultQueueErrno.EALREADY)]
    public void POL_7_a_duplicate_answer_is_rejected_and_hardened_says_why(string policy, FaultQueueErrno expected)
    {
        var rig = new UserQueueRig(policy);
        rig.Trigger(grpid: 1);
        var (_, records) = rig.Read(1);
        Assert.Equal(8, rig.Write((records[0].Cookie, 0)).Bytes);
        Assert.Equal(expected, rig.Write((records[0].Cookie, 0)).Error);
        Assert.Equal(1, rig.Queue.Counters.Rejected(ResponseRejection.AlreadyAnswered));
        Assert.Single(rig.Responder.Records);
    }

    [Theory]
    [InlineData("linux", FaultQueueErrno.EINVAL)]
    [InlineData("hardened", FaultQueueErrno.ESTALE)]
    public void POL_7_R43_an_answer_after_detach_is_rejected_as_answered_by_the_host(string policy, FaultQueueErrno expected)
    {
        var rig = new UserQueueRig(policy);
        var handle = rig.AttachPasid(3);
        rig.Trigger(pasid: 3, grpid: 1);
        var (_, records) = rig.Read(1);
        rig.Device.Detach(3);
        Assert.Equal(1, rig.Queue.AutoRespond(handle, now: 0));
        Assert.Equal(expected, rig.Write((records[0].Cookie, 0)).Error);
        Assert.Equal(1, rig.Queue.Counters.Rejected(ResponseRejection.AnsweredByHost));
        Assert.Equal([PageResponseCode.Invalid], rig.Codes);
    }

    [Fact]
    public void POL_7_unknown_cookies_and_bad_codes_are_counted_by_reason()
    {
        var rig = new UserQueueRig("hardened");
        rig.Trigger(grpid: 1);
        var (_, records) = rig.Read(1);
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Write((0xBAD, 0)).Error);
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Write((records[0].Cookie, 2)).Error);
        Assert.Equal(1, rig.Queue.Counters.Rejected(ResponseRejection.UnknownCookie));
        Assert.Equal(1, rig.Queue.Counters.Rejected(ResponseRejection.BadCode));
        Assert.Equal(2, rig.Queue.Counters.RejectedTotal);
        Assert.True(rig.Queue.IsOutstanding(records[0].Cookie));
    }

    [Fact]
    public void POL_7_linux_reuses_the_lowest_cookie_so_a_duplicate_answers_a_group_never_read_by_its_sender()
    {
        var rig = new UserQueueRig("linux");
        rig.Trigger(grpid: 1);
        var (_, first) = rig.Read(1);
        rig.Write((first[0].Cookie, 0));
        rig.Trigger(grpid: 2);
        var (_, second) = rig.Read(1);
        Assert.Equal(first[0].Cookie, second[0].Cookie); // R46: lowest free id
        Assert.Equal(8, rig.Write((first[0].Cookie, 1)).Bytes); // the duplicate lands on group 2
        Assert.Equal([1u, 2u], rig.AnsweredGroupIds);
        Assert.Equal([PageResponseCode.Success, PageResponseCode.Invalid], rig.Codes);
    }

    [Fact]
    public void POL_7_hardened_cookies_are_cyclic_so_the_same_duplicate_is_rejected()
    {
        var rig = new UserQueueRig("hardened");
        rig.Trigger(grpid: 1);
        var (_, first) = rig.Read(1);
        rig.Write((first[0].Cookie, 0));
        rig.Trigger(grpid: 2);
        var (_, second) = rig.Read(1);
        Assert.Equal(first[0].Cookie + 1, second[0].Cookie);
        Assert.Equal(FaultQueueErrno.EALREADY, rig.Write((first[0].Cookie, 1)).Error);
        Assert.True(rig.Queue.IsOutstanding(second[0].Cookie));
        Assert.Equal([1u], rig.AnsweredGroupIds);
    }

    [Fact]
    public void R46_cyclic_cookies_wrap_past_the_limit_and_skip_outstanding_ones()
    {
        var rig = new UserQueueRig(FaultPolicy.Hardened, maxCookie: 3);
        for (uint g = 1; g <= 3; g++) rig.Trigger(grpid: g);
        var (_, records) = rig.Read(3);
        Assert.Equal([1u, 2u, 3u], records.Select(r => r.Cookie));
        rig.Write((2, 0));
        rig.Trigger(grpid: 4);
        Assert.Equal(2u, rig.Read(1).Records[0].Cookie); // 1 and 3 still outstanding: 2 is the only free one
        rig.Trigger(grpid: 5);
        Assert.Equal(FaultQueueErrno.EBUSY, rig.Read(1).Result.Error);
    }

    [Fact]
    public void R42_the_reader_is_woken_when_the_deliver_list_turns_non_empty()
    {
        var rig = new UserQueueRig();
        int wakeups = 0;
        rig.Queue.Readable = _ => wakeups++;
        rig.Trigger(grpid: 1);
        rig.Trigger(grpid: 2);
        Assert.Equal(1, wakeups);
        rig.Read(2);
        rig.Trigger(grpid: 3);
        Assert.Equal(2, wakeups);
    }

    [Fact]
    public void POL_5_POL_6_groups_freed_with_their_device_neither_expire_nor_count_toward_the_depth()
    {
        var rig = new UserQueueRig(ShortDeadline, depthShare: 2);
        rig.Trigger(grpid: 1);
        rig.Trigger(grpid: 2);
        rig.Read(1);                                                   // one read, one unread
        Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.FaultQueue, rig.Device, now: 0)); // R4 answers both
        Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(rig.FaultQueue, rig.Device));
        rig.Trigger(grpid: 3);                                         // the queue still holds two stale entries
        Assert.Equal(0, rig.Queue.Counters.LostEvents);                 // depth 2 counts live groups only
        Assert.Equal(1, rig.Queue.Unread);

        rig.Now = 1_000_000;
        Assert.Equal(1, rig.Queue.Expire(rig.Now));                   // only group 3
        Assert.Equal(1, rig.Queue.Counters.Expired);
        Assert.Equal(2, rig.Queue.Counters.StaleGroups);
    }
}
