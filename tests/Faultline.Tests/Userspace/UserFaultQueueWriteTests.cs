using Faultline.Faults;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

public sealed class UserFaultQueueWriteTests
{
    private static (UserQueueRig Rig, uint[] Cookies) ReadGroups(int groups, string policy = "linux")
    {
        var rig = new UserQueueRig(policy);
        for (uint g = 0; g < groups; g++) rig.Trigger(grpid: 0x10 + g);
        var (_, records) = rig.Read(groups);
        return (rig, records.Select(r => r.Cookie).ToArray());
    }

    [Theory]
    [InlineData(7, 0L)]
    [InlineData(9, 0L)]
    [InlineData(1, 0L)]
    [InlineData(8, 8L)]
    [InlineData(8, -8L)]
    public void T15_write_needs_position_0_and_a_multiple_of_8(int count, long position)
    {
        var (rig, cookies) = ReadGroups(1);
        var bytes = new byte[count];
        if (count >= 8) UserQueueRig.Responses((cookies[0], 0)).CopyTo(bytes, 0);
        Assert.Equal(FaultQueueErrno.ESPIPE, rig.Queue.Write(bytes, position, now: 0).Error);
        Assert.True(rig.Queue.IsOutstanding(cookies[0]));
        Assert.Empty(rig.Responder.Records);
    }

    [Fact]
    public void T15_empty_write_returns_0()
    {
        var (rig, _) = ReadGroups(1);
        Assert.Equal(FaultQueueResult.Transferred(0), rig.Queue.Write([], 0, now: 0));
    }

    [Theory]
    [InlineData(0u)]  // never allocated (ALLOC1)
    [InlineData(2u)]  // not read yet / never given
    [InlineData(0xFFFF_FFFFu)]
    public void T15_unknown_cookie_is_EINVAL(uint cookie)
    {
        var (rig, _) = ReadGroups(1);
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Write((cookie, 0)).Error);
        Assert.Empty(rig.Responder.Records);
    }

    [Theory]
    [InlineData(2u)]
    [InlineData(3u)]
    [InlineData(0xFu)]
    [InlineData(0x8000_0000u)]
    public void T15_BUG10_codes_other_than_success_and_invalid_are_EINVAL_and_leave_the_cookie(uint code)
    {
        var (rig, cookies) = ReadGroups(1);
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Write((cookies[0], code)).Error);
        Assert.True(rig.Queue.IsOutstanding(cookies[0]));
        Assert.Empty(rig.Responder.Records); // FAILURE never reaches the device (shared PRI)
        Assert.Equal(8, rig.Write((cookies[0], 1)).Bytes);
        Assert.Equal([PageResponseCode.Invalid], rig.Codes);
    }

    [Fact]
    public void T15_batch_ok_bad_ok_returns_8_and_applies_only_the_first()
    {
        var (rig, cookies) = ReadGroups(2);
        var result = rig.Write((cookies[0], 0), (cookies[1], 2), (cookies[1], 0));
        Assert.Equal(8, result.Bytes);
        Assert.Equal([0x10u], rig.AnsweredGroupIds);
        Assert.False(rig.Queue.IsOutstanding(cookies[0]));
        Assert.True(rig.Queue.IsOutstanding(cookies[1]));
    }

    [Fact]
    public void T15_duplicate_cookie_in_one_batch_and_reuse_of_an_answered_cookie_are_EINVAL()
    {
        var (rig, cookies) = ReadGroups(1);
        Assert.Equal(8, rig.Write((cookies[0], 0), (cookies[0], 0)).Bytes);
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Write((cookies[0], 0)).Error);
        Assert.Single(rig.Responder.Records);
    }

    [Fact]
    public void R47_each_response_answers_its_group_with_the_code_and_frees_it()
    {
        var (rig, cookies) = ReadGroups(3);
        Assert.Equal(24, rig.Write((cookies[2], 1), (cookies[0], 0), (cookies[1], 0)).Bytes);
        Assert.Equal([0x12u, 0x10u, 0x11u], rig.AnsweredGroupIds);
        Assert.Equal([PageResponseCode.Invalid, PageResponseCode.Success, PageResponseCode.Success], rig.Codes);
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(0, rig.Device.PendingCount);
        Assert.Equal(0, rig.Queue.Unanswered);
    }

    [Fact]
    public void R47_a_cookie_answers_the_whole_multi_fault_group_once_with_its_last_fault()
    {
        var rig = new UserQueueRig();
        rig.Group(7, 0x1000, 0x2000, 0x3000);
        var (_, records) = rig.Read(3);
        Assert.Equal(8, rig.Write((records[0].Cookie, 0)).Bytes);
        var response = Assert.Single(rig.Responder.Records);
        Assert.Equal(0x3000UL, response.LastFault.Address);
        Assert.Equal(7u, response.Response.GroupId);
    }

    [Fact]
    public void BUG11_write_copy_failure_is_EFAULT_never_a_positive_count()
    {
        var (rig, cookies) = ReadGroups(2);
        var bytes = UserQueueRig.Responses((cookies[0], 0), (cookies[1], 0));
        var failed = rig.Queue.Write(bytes, 0, now: 0, copyFaultAt: 0);
        Assert.Equal(FaultQueueErrno.EFAULT, failed.Error);
        Assert.Equal(-14L, failed.ToSyscallReturn());
        Assert.Empty(rig.Responder.Records);

        var partial = rig.Queue.Write(bytes, 0, now: 0, copyFaultAt: 12); // the first entry copies, the second does not
        Assert.Equal(8, partial.Bytes);
        Assert.Equal([0x10u], rig.AnsweredGroupIds);
    }

    [Fact]
    public void R47_typed_respond_is_the_same_write()
    {
        var rig = new UserQueueRig();
        rig.Trigger(grpid: 3);
        var groups = new List<UserFaultGroup>();
        Assert.Equal(40, rig.Queue.ReadGroups(groups).Bytes);
        var group = Assert.Single(groups);
        Assert.Equal(8, rig.Queue.Respond(group.Cookie, IommufdPageResponseCode.Success, now: 0).Bytes);
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Queue.Respond(group.Cookie, IommufdPageResponseCode.Success, now: 0).Error);
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Queue.Respond(group.Cookie, (IommufdPageResponseCode)2, now: 0).Error);
        Assert.Equal([PageResponseCode.Success], rig.Codes);
    }

    [Fact]
    public void R46_typed_read_groups_splits_records_by_cookie()
    {
        var rig = new UserQueueRig();
        rig.Group(1, 0x1000, 0x2000);
        rig.Group(2, 0x3000);
        rig.Group(3, 0x4000, 0x5000);
        var groups = new List<UserFaultGroup>();
        Assert.Equal(120, rig.Queue.ReadGroups(groups, maxFaults: 4).Bytes); // the third group does not fit
        Assert.Equal([1u, 2u], groups.Select(g => g.Cookie));
        Assert.Equal([2, 1], groups.Select(g => g.Records.Length));
        Assert.Equal(1, rig.Queue.Unread);
    }
}
