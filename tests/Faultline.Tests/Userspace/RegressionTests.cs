using Faultline.Faults;
using Faultline.Userspace;
using static Faultline.Tests.Userspace.IommufdRig;

namespace Faultline.Tests.Userspace;

/// <summary>
/// The iommufd regressions of scenarios.md §2 (S5–S7, S13–S16) through <see cref="IommufdContext"/>: a fault
/// triggered on the device (R51), delivered through a fault-capable HWPT, read and answered through the file.
/// S17 (BUG-14) is <see cref="FaultCapableAttachTests"/>.
/// </summary>
public sealed class RegressionTests
{
    private static (IommufdRig Rig, uint FaultId, UserFaultQueue Queue, uint Iopf) Attached(string policy = "linux")
    {
        var rig = new IommufdRig(policy);
        var (faultId, queue) = rig.Fault();
        uint iopf = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid, faultId);
        Ok(rig.Context.Attach(rig.DevId, 0, iopf, now: 0, out _));
        return (rig, faultId, queue, iopf);
    }

    [Fact]
    public void BUG_2_R42_a_delivery_while_a_read_is_stuck_in_a_faulting_copy_is_not_blocked_and_lands_at_the_tail()
    {
        var (rig, _, queue, _) = Attached();
        int wakeups = 0;
        queue.Readable = _ => wakeups++;
        Ok(rig.Context.TriggerIopf(rig.DevId, 0, now: 0, grpid: 1));
        Ok(rig.Context.TriggerIopf(rig.DevId, 0, now: 0, grpid: 2));

        // The reader copies group 1, then its buffer page-faults on group 2 (the slow copy of S5).
        var buffer = new byte[2 * PageFaultRecord.Size];
        Assert.Equal(40, queue.Read(buffer, 0, copyFaultAt: PageFaultRecord.Size).Bytes);

        // Meanwhile the IRQ thread delivers: nothing waits for the reader, nothing is answered or refused.
        Ok(rig.Context.TriggerIopf(rig.DevId, 0, now: 0, grpid: 3));
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(0, queue.Counters.Refused);
        Assert.Equal(2, queue.Unread);
        Assert.Equal(1, wakeups); // the list never went empty: one wake-up, at the first delivery

        var (_, records) = Read(queue, 3);
        Assert.Equal([2u, 3u], records.Select(r => r.GroupId)); // the pushed-back group first, the new one at the tail
    }

    [Fact]
    public void BUG_3_R43_R44_teardown_through_the_context_leaves_no_read_but_unanswered_group()
    {
        // R44's own loop over read-but-unanswered groups: UserFaultQueueLifecycleTests.BUG3_… . Through the
        // context the object can only go after its HWPTs, which go only once detached — so R43 has answered
        // every group, read or not, before R44 runs, and none is answered twice.
        var (rig, faultId, queue, iopf) = Attached();
        var ctx = rig.Context;
        for (uint g = 1; g <= 3; g++) Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: g));
        Read(queue, 2); // 1 and 2 read, 3 unread
        Assert.True(queue.Close());
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(faultId, now: 0));

        Ok(ctx.Detach(rig.DevId, 0, now: 0));
        Ok(ctx.Destroy(iopf, now: 0));
        Ok(ctx.Destroy(faultId, now: 0));

        Assert.Equal([3u, 1u, 2u], rig.AnsweredGroupIds);
        Assert.All(rig.Codes, c => Assert.Equal(PageResponseCode.Invalid, c));
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(0, rig.Device.PendingCount);
        Assert.Equal(0, queue.Unread + queue.Unanswered);
    }

    [Fact]
    public void BUG_4_R49_records_read_over_a_dirty_buffer_have_zero_reserved_bytes_and_length_and_are_40_bytes()
    {
        var (rig, _, queue, _) = Attached();
        Ok(rig.Context.Attach(rig.DevId, 2048, rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid, queue.Id), now: 0, out _));
        Ok(rig.Context.TriggerIopf(rig.DevId, 0, now: 0));
        Ok(rig.Context.TriggerIopf(rig.DevId, 2048, now: 0));
        var buffer = new byte[3 * 40];
        buffer.AsSpan().Fill(0xAA); // a stack leak would show through

        Assert.Equal(80, queue.Read(buffer, 0).Bytes);

        Assert.Equal(40, PageFaultRecord.Size);
        for (int r = 0; r < 2; r++)
        {
            Assert.Equal(new byte[4], buffer[(r * 40 + 20)..(r * 40 + 24)]); // __reserved
            Assert.Equal(new byte[4], buffer[(r * 40 + 32)..(r * 40 + 36)]); // length
        }
        Assert.All(buffer[80..], b => Assert.Equal(0xAA, b)); // nothing written past the records
    }

    [Theory]
    [InlineData(2u)] // IOMMUFD_PAGE_RESP_FAILURE of v6.11
    [InlineData(3u)]
    [InlineData(uint.MaxValue)]
    public void BUG_10_R47_a_code_other_than_success_or_invalid_is_EINVAL_and_nothing_reaches_the_device(uint code)
    {
        var (rig, _, queue, _) = Attached();
        Ok(rig.Context.TriggerIopf(rig.DevId, 0, now: 0));
        var (_, records) = Read(queue, 1);

        Assert.Equal(FaultQueueErrno.EINVAL, Write(queue, (records[0].Cookie, code)).Error);
        Assert.Empty(rig.Responder.Records); // no FAILURE can stop the shared PRI (H-PCI-15)
        Assert.Equal(1, rig.Device.PendingCount);
        Assert.True(queue.IsOutstanding(records[0].Cookie));

        Assert.Equal(8, Write(queue, (records[0].Cookie, 0)).Bytes);
        Assert.Equal([PageResponseCode.Success], rig.Codes);
    }

    [Theory]
    [InlineData(0)] // nothing of the record is readable
    [InlineData(4)] // the cookie copies, the code does not
    public void BUG_11_R47_a_write_whose_copy_fails_returns_EFAULT_never_a_positive_count(int copyFaultAt)
    {
        var (rig, _, queue, _) = Attached();
        Ok(rig.Context.TriggerIopf(rig.DevId, 0, now: 0));
        var (_, records) = Read(queue, 1);

        var result = queue.Write(UserQueueRig.Responses((records[0].Cookie, 0)), 0, now: 0, copyFaultAt);

        Assert.Equal(-14L, result.ToSyscallReturn());
        Assert.Empty(rig.Responder.Records);
        Assert.True(queue.IsOutstanding(records[0].Cookie));
    }

    [Theory]
    [InlineData("ioas")]
    [InlineData("parent")]
    [InlineData("viommu")]
    public void BUG_12_R40_fail_nth_on_hwpt_alloc_with_fault_id_valid_balances_every_reference(string on)
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent);
        Ok(ctx.AllocViommu(rig.DevId, parent, out uint viommu));
        uint ptId = on switch { "ioas" => rig.IoasId, "parent" => parent, _ => viommu };
        var flags = HwptAllocFlags.FaultIdValid;
        var ids = ctx.Ids();
        int[] users = [.. ids.Select(id => ctx.Find(id)!.Users)];
        var failures = new List<FaultQueueErrno>();

        for (int n = 1; ; n++)
        {
            ctx.FailNth(n);
            var rc = ctx.AllocHwpt(rig.DevId, ptId, flags, faultId, out uint hwpt);
            if (ctx.FailNthPending)
            {
                ctx.FailNth(0);
                Ok(rc);
                Assert.Equal(ids.Max() + 1, hwpt); // the ids of the aborted attempts came back
                Assert.Equal(1, queue.HwptReferences);
                break;
            }
            failures.Add(rc);
            Assert.Equal(0u, hwpt);
            Assert.Equal(ids, ctx.Ids());
            Assert.Equal(users, ids.Select(id => ctx.Find(id)!.Users)); // no reference taken twice or put twice
            Assert.Equal(0, queue.HwptReferences);
            Assert.All(ids, id => Assert.Equal(0, ctx.Find(id)!.ShortTermUsers));
        }

        // The object, its domain, then the copy of out_hwpt_id after the fault reference was taken.
        Assert.Equal([FaultQueueErrno.ENOMEM, FaultQueueErrno.ENOMEM, FaultQueueErrno.EFAULT], failures);
        Assert.True(queue.Close());
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(faultId, now: 0)); // the one reference the HWPT holds
    }

    [Fact]
    public void BUG_13_R29_replace_on_a_device_that_is_not_attached_is_EINVAL_and_answers_nothing()
    {
        var (rig, _, queue, iopf) = Attached("hardened");
        var ctx = rig.Context;
        var (_, idle) = rig.Bind("mock1", Devices.Rig.Enabled(4).Function); // bound, attached nowhere
        uint s2 = rig.Hwpt(rig.IoasId, HwptAllocFlags.Pasid);
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 1));
        var (_, read) = Read(queue, 1);
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 2));
        int? depth = queue.Depth;

        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Replace(idle, 0, iopf, now: 0, out _));
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Replace(idle, 0, s2, now: 0, out _));
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Replace(rig.DevId, 9, s2, now: 0, out _)); // the RID is attached, PASID 9 is not

        Assert.Empty(rig.Responder.Records);
        Assert.Equal(0, queue.Counters.AutoResponses);
        Assert.Equal((1, 1), (queue.Unread, queue.Unanswered));
        Assert.True(queue.IsOutstanding(read[0].Cookie));
        Assert.Null(ctx.AttachedHwpt(idle, 0));
        Assert.Null(rig.Device.AttachmentAt(9));
        Assert.Equal(depth, queue.Depth); // no handle made for the refused replace
        Assert.Equal(iopf, ctx.AttachedHwpt(rig.DevId, 0));
    }
}
