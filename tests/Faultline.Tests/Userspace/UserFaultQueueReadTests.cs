using Faultline.Faults;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

public sealed class UserFaultQueueReadTests
{
    [Theory]
    [InlineData(0, 0L, false)]
    [InlineData(39, 0L, true)]
    [InlineData(41, 0L, true)]
    [InlineData(1, 0L, true)]
    [InlineData(40, 1L, true)]
    [InlineData(40, 40L, true)]
    [InlineData(40, -1L, true)]
    [InlineData(80, 0L, false)]
    public void T14_read_needs_position_0_and_a_multiple_of_40(int count, long position, bool espipe)
    {
        var rig = new UserQueueRig();
        rig.Trigger();
        var result = rig.Queue.Read(new byte[count], position);
        if (espipe)
        {
            Assert.Equal(FaultQueueErrno.ESPIPE, result.Error);
            Assert.Equal(1, rig.Queue.Unread); // nothing consumed
        }
        else
        {
            Assert.False(result.IsError);
        }
    }

    [Fact]
    public void T14_read_of_an_empty_queue_returns_0()
    {
        var rig = new UserQueueRig();
        var (result, _) = rig.Read(4);
        Assert.Equal(FaultQueueResult.Transferred(0), result);
        Assert.Equal(0L, result.ToSyscallReturn());
    }

    [Fact]
    public void T14_F9_buffer_smaller_than_the_first_group_returns_0_and_keeps_the_group()
    {
        var rig = new UserQueueRig();
        rig.Group(5, 0x1000, 0x2000, 0x3000);
        var (result, _) = rig.Read(2);
        Assert.Equal(0, result.Bytes);
        Assert.False(result.IsError);
        Assert.Equal(1, rig.Queue.Unread);
        Assert.Equal(0, rig.Queue.Unanswered);
        Assert.Equal(PollEvents.EPOLLIN | PollEvents.EPOLLRDNORM | PollEvents.EPOLLOUT, rig.Queue.Poll());
        Assert.Equal(120, rig.Read(3).Result.Bytes);
    }

    [Fact]
    public void T14_R46_multi_fault_group_is_read_whole_in_group_order_with_one_cookie()
    {
        var rig = new UserQueueRig();
        rig.Group(5, 0x1000, 0x2000, 0x3000);
        var (result, records) = rig.Read(8);
        Assert.Equal(120, result.Bytes);
        Assert.Equal([0x1000UL, 0x2000, 0x3000], records.Select(r => r.Address));
        Assert.Single(records.Select(r => r.Cookie).Distinct());
        Assert.Equal([false, false, true], records.Select(r => r.IsLast));
        Assert.All(records, r => Assert.Equal(5u, r.GroupId));
    }

    [Fact]
    public void T14_groups_are_never_split_across_reads()
    {
        var rig = new UserQueueRig();
        rig.Group(1, 0x1000);
        rig.Group(2, 0x2000, 0x3000);
        rig.Group(3, 0x4000);
        var first = rig.Read(2);  // group 1 fits; group 2 (80 bytes) does not fit in the 40 left
        Assert.Equal(40, first.Result.Bytes);
        Assert.Equal([1u], first.Records.Select(r => r.GroupId));
        var second = rig.Read(3); // group 2 (80 bytes) then group 3 (40) fill 120 exactly
        Assert.Equal([2u, 2u, 3u], second.Records.Select(r => r.GroupId));
    }

    [Fact]
    public void T14_R50_cookies_are_unique_among_outstanding_groups_and_lowest_free_first()
    {
        var rig = new UserQueueRig();
        for (uint g = 0; g < 4; g++) rig.Trigger(grpid: g);
        var (_, records) = rig.Read(4);
        Assert.Equal([1u, 2u, 3u, 4u], records.Select(r => r.Cookie));

        Assert.Equal(16, rig.Write((2, 0), (3, 0)).Bytes);
        rig.Trigger(grpid: 10);
        rig.Trigger(grpid: 11);
        rig.Trigger(grpid: 12);
        var (_, again) = rig.Read(3);
        Assert.Equal([2u, 3u, 5u], again.Select(r => r.Cookie)); // reused after answer, lowest free first
        Assert.Equal([1u, 2u, 3u, 4u, 5u], rig.Queue.OutstandingCookies());
    }

    [Fact]
    public void R50_cookie_never_0_and_exhausting_the_range_fails_with_EBUSY_keeping_the_group()
    {
        var rig = new UserQueueRig(maxCookie: 2);
        for (uint g = 0; g < 3; g++) rig.Trigger(grpid: g);
        var (result, records) = rig.Read(3);
        Assert.Equal([1u, 2u], records.Select(r => r.Cookie)); // the third group found no cookie: bytes of the first two
        Assert.Equal(80, result.Bytes);
        Assert.Equal(1, rig.Queue.Unread);
        Assert.Equal(FaultQueueErrno.EBUSY, rig.Read(1).Result.Error);
        Assert.Equal(8, rig.Write((1, 0)).Bytes);
        Assert.Equal([1u], rig.Read(1).Records.Select(r => r.Cookie));
    }

    [Fact]
    public void R46_cookie_allocation_failure_returns_ENOMEM_and_keeps_the_group_first()
    {
        var rig = new UserQueueRig();
        rig.Trigger(grpid: 1);
        rig.Trigger(grpid: 2);
        rig.Queue.FailNextCookieAllocations(1);
        Assert.Equal(FaultQueueErrno.ENOMEM, rig.Read(2).Result.Error);
        Assert.Equal(2, rig.Queue.Unread);
        Assert.Equal([1u, 2u], rig.Read(2).Records.Select(r => r.GroupId));
    }

    [Fact]
    public void R46_copy_failure_on_the_first_record_returns_EFAULT_and_loses_nothing()
    {
        var rig = new UserQueueRig();
        rig.Trigger(grpid: 4);
        var result = rig.Queue.Read(new byte[40], 0, copyFaultAt: 0);
        Assert.Equal(FaultQueueErrno.EFAULT, result.Error);
        Assert.Equal(-14L, result.ToSyscallReturn());
        Assert.Equal(1, rig.Queue.Unread);
        Assert.Equal(0, rig.Queue.Unanswered);
        var (_, records) = rig.Read(1);
        Assert.Equal(1u, records[0].Cookie); // the erased cookie is free again
    }

    [Fact]
    public void R46_OBS_mid_group_copy_failure_counts_the_copied_records_of_a_group_whose_cookie_was_erased()
    {
        var rig = new UserQueueRig();
        rig.Group(1, 0x1000);
        rig.Group(2, 0x2000, 0x3000, 0x4000);
        var buffer = new byte[160];
        var result = rig.Queue.Read(buffer, 0, copyFaultAt: 100); // group 1 (0..40), group 2: 40..80 ok, 80..120 faults
        Assert.Equal(80, result.Bytes);
        var records = UserQueueRig.Decode(buffer, result);
        Assert.Equal(2u, records[1].GroupId);
        Assert.False(rig.Queue.IsOutstanding(records[1].Cookie)); // user space holds a record whose cookie is gone
        Assert.Equal(FaultQueueErrno.EINVAL, rig.Write((records[1].Cookie, 0)).Error);
        Assert.Equal(1, rig.Queue.Unread); // group 2 is first again, whole
        Assert.Equal([2u, 2u, 2u], rig.Read(3).Records.Select(r => r.GroupId));
    }

    [Fact]
    public void R49_T20_BUG4_record_content_copies_the_fault_and_zeroes_reserved_and_length()
    {
        var rig = new UserQueueRig();
        rig.AttachPasid(0x800, devId: 0x42);
        Assert.Equal(FaultStatus.Ok, rig.Trigger(pasid: 0x800, grpid: 0x1AB, FaultPermissions.Write | FaultPermissions.Exec | FaultPermissions.Priv,
            addr: 0x7FFF_DEAD_B000, extra: FaultFlags.ResponseNeedsPasid));
        var buffer = Enumerable.Repeat((byte)0xEE, 40).ToArray();
        var result = rig.Queue.Read(buffer, 0);
        Assert.Equal(40, result.Bytes);
        Assert.Equal([0, 0, 0, 0], buffer[20..24]);
        Assert.Equal([0, 0, 0, 0], buffer[32..36]);
        var record = PageFaultRecord.Decode(buffer).Value;
        Assert.Equal(new PageFaultRecord(PageFaultFlags.PasidValid | PageFaultFlags.LastPage | PageFaultFlags.ResponseNeedsPasid,
            0x42, 0x800, 0x1AB, PageFaultPermissions.Write | PageFaultPermissions.Exec | PageFaultPermissions.Priv, 0x7FFF_DEAD_B000, 0, 1), record);
    }

    [Fact]
    public void R49_F11_linux_leaks_the_internal_needs_pasid_bit_and_hardened_masks_it()
    {
        foreach (var (policy, expected) in new[] { ("linux", 7u), ("hardened", 3u) })
        {
            var rig = new UserQueueRig(policy);
            rig.AttachPasid(1);
            rig.Framework.Report(rig.Device, new Fault(FaultFlags.PasidValid | FaultFlags.LastPage | FaultFlags.ResponseNeedsPasid | FaultFlags.PrivateDataValid,
                1, 2, FaultPermissions.Read, 0x1000, 0xAA, 0xBB), now: 0);
            var (_, records) = rig.Read(1);
            Assert.Equal(expected, (uint)records[0].Flags); // Faultline's own bit 3 never leaves, Linux has no such bit
        }
    }

    [Fact]
    public void R49_dev_id_is_the_one_of_the_attach_handle_that_delivered_the_group()
    {
        var rig = new UserQueueRig();
        rig.AttachPasid(5, devId: 0x1234);
        rig.Trigger(pasid: 5, grpid: 1);
        rig.Trigger(pasid: 0, grpid: 2);
        var (_, records) = rig.Read(2);
        Assert.Equal([0x1234u, UserQueueRig.DevId], records.Select(r => r.DevId));
        Assert.Equal([true, false], records.Select(r => r.HasPasid));
    }

    [Fact]
    public void R46_read_and_write_never_throw_over_random_inputs()
    {
        var random = new Random(0x5EED);
        var rig = new UserQueueRig();
        for (int i = 0; i < 3000; i++)
        {
            switch (random.Next(4))
            {
                case 0:
                    rig.Trigger(grpid: (uint)random.Next(512), addr: (ulong)random.Next() << 12);
                    break;
                case 1:
                {
                    var buffer = new byte[random.Next(0, 200)];
                    int? faultAt = random.Next(4) == 0 ? random.Next(0, 200) : null;
                    var result = rig.Queue.Read(buffer, random.Next(8) == 0 ? random.Next(-2, 50) : 0, faultAt);
                    Assert.True(result.IsError || result.Bytes % 40 == 0);
                    Assert.True(result.Bytes <= buffer.Length);
                    break;
                }
                default:
                {
                    var buffer = new byte[random.Next(0, 40)];
                    random.NextBytes(buffer);
                    for (int k = 4; k + 4 <= buffer.Length; k += 8) buffer[k] = (byte)random.Next(3); // codes mostly 0..2
                    for (int k = 0; k + 4 <= buffer.Length; k += 8) if (random.Next(2) == 0) buffer.AsSpan(k + 1, 3).Clear(); // small cookies
                    var result = rig.Queue.Write(buffer, 0, now: 0, random.Next(6) == 0 ? random.Next(0, 40) : null);
                    Assert.True(result.IsError || result.Bytes % 8 == 0);
                    break;
                }
            }
        }
        // Nothing lost: every reported group is answered exactly once or still held by the queue.
        Assert.Equal(rig.Framework.GroupsInUse, rig.Queue.Unread + rig.Queue.Unanswered);
        rig.Queue.Close();
        rig.Queue.ReleaseHwptReference();
        Assert.Equal(FaultQueueErrno.None, rig.Queue.Destroy(now: 0));
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(rig.Framework.Counters.Groups, rig.Responder.Records.Count);
    }
}
