using Faultline.Faults;
using Faultline.Userspace;
using static Faultline.Tests.Userspace.IommufdRig;

namespace Faultline.Tests.Userspace;

public sealed class IommufdContextTests
{
    [Fact]
    public void R39_ids_are_never_0_allocated_in_order_and_the_lowest_free_is_reused()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        Assert.Equal((1u, 2u), (rig.IoasId, rig.DevId));
        Assert.Equal(FaultQueueErrno.EOPNOTSUPP, ctx.AllocFaultQueue(1, out uint none));
        Assert.Equal(0u, none);
        var (fault, queue) = rig.Fault();
        Assert.Equal(3u, fault);
        Assert.Equal(3u, queue.Id); // out_fault_id is the queue's id, as records and POL reports know it
        Assert.True(queue.FdOpen);
        Ok(ctx.AllocIoas(out uint ioas2));
        Assert.Equal(4u, ioas2);
        Ok(ctx.Destroy(rig.IoasId, now: 0));
        Ok(ctx.AllocIoas(out uint reused));
        Assert.Equal(1u, reused);
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.Destroy(99, now: 0));
        Assert.Equal([1u, 2u, 3u, 4u], ctx.Ids());
    }

    [Theory]
    // paging on the IOAS
    [InlineData("ioas", 0x0u, "none", FaultQueueErrno.None)]
    [InlineData("ioas", 0x4u, "fault", FaultQueueErrno.None)]           // a paging HWPT may be fault-capable
    [InlineData("ioas", 0xcu, "fault", FaultQueueErrno.None)]           // ... and PASID-capable
    [InlineData("ioas", 0x5u, "fault", FaultQueueErrno.EOPNOTSUPP)]     // NEST_PARENT | FAULT_ID_VALID
    [InlineData("ioas", 0x10u, "none", FaultQueueErrno.EOPNOTSUPP)]     // unknown bit 4
    [InlineData("ioas", 0x80000004u, "fault", FaultQueueErrno.EOPNOTSUPP)]
    [InlineData("ioas", 0x4u, "missing", FaultQueueErrno.ENOENT)]
    [InlineData("ioas", 0x4u, "ioas", FaultQueueErrno.ENOENT)]          // an id that is not a FAULT object
    [InlineData("ioas", 0x4u, "destroyed", FaultQueueErrno.ENOENT)]
    // nested on a nest parent
    [InlineData("parent", 0x4u, "fault", FaultQueueErrno.None)]
    [InlineData("parent", 0xcu, "fault", FaultQueueErrno.None)]
    [InlineData("parent", 0x1u, "none", FaultQueueErrno.EOPNOTSUPP)]    // a nested HWPT takes only FAULT_ID_VALID and PASID
    [InlineData("parent", 0x6u, "fault", FaultQueueErrno.EOPNOTSUPP)]
    [InlineData("parent", 0x4u, "missing", FaultQueueErrno.ENOENT)]
    [InlineData("plain", 0x4u, "fault", FaultQueueErrno.EINVAL)]        // the parent is no nest parent
    [InlineData("auto", 0x0u, "none", FaultQueueErrno.EINVAL)]          // nor is an auto domain
    [InlineData("nested", 0x0u, "none", FaultQueueErrno.EINVAL)]        // a nested HWPT is no parent
    // nested on a vIOMMU
    [InlineData("viommu", 0x4u, "fault", FaultQueueErrno.None)]
    [InlineData("viommu", 0x80000004u, "fault", FaultQueueErrno.EOPNOTSUPP)]
    [InlineData("viommu", 0x4u, "missing", FaultQueueErrno.ENOENT)]
    // the page-table id itself
    [InlineData("missing", 0x4u, "fault", FaultQueueErrno.EINVAL)]      // Linux maps a failed pt_id lookup to EINVAL
    [InlineData("fault", 0x0u, "none", FaultQueueErrno.EINVAL)]
    public void R40_hwpt_alloc_errno_table(string pt, uint flags, string fault, FaultQueueErrno expected)
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent);
        Ok(ctx.AllocViommu(rig.DevId, parent, out uint viommu));
        uint ptId = pt switch
        {
            "ioas" => rig.IoasId,
            "parent" => parent,
            "plain" => rig.Hwpt(rig.IoasId, HwptAllocFlags.None),
            "auto" => rig.MockDomain(),
            "nested" => rig.Hwpt(parent, HwptAllocFlags.None),
            "viommu" => viommu,
            "fault" => faultId,
            _ => 1000,
        };
        uint fid = fault switch
        {
            "fault" => faultId,
            "ioas" => rig.IoasId,
            "missing" => uint.MaxValue,
            _ => 0,
        };
        if (fault == "destroyed")
        {
            queue.Close();
            Ok(ctx.Destroy(faultId, now: 0));
            fid = faultId;
        }
        var ids = ctx.Ids();

        var rc = ctx.AllocHwpt(rig.DevId, ptId, (HwptAllocFlags)flags, fid, out uint hwpt);

        Assert.Equal(expected, rc);
        bool referenced = rc == FaultQueueErrno.None && fault == "fault";
        Assert.Equal(referenced ? 1 : 0, queue.HwptReferences);
        Assert.All(ids.Select(ctx.Find), o => Assert.Equal(0, o!.ShortTermUsers));
        if (rc == FaultQueueErrno.None)
        {
            Assert.Equal(referenced, ctx.FindHwpt(hwpt)!.IsFaultCapable);
            Assert.Equal([.. ids, hwpt], ctx.Ids());
        }
        else
        {
            Assert.Equal(0u, hwpt);
            Assert.Equal(ids, ctx.Ids()); // nothing half-made stays, and its id is free again
        }
    }

    [Fact]
    public void R40_one_fault_object_backs_many_hwpts_and_devices_and_cannot_go_while_any_references_it()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        var (dev2, devId2) = rig.Bind("mock1", Devices.Rig.Enabled(4).Function);
        var (faultId, queue) = rig.Fault();
        uint a = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid, faultId);
        uint b = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid, faultId);
        Assert.Equal(2, queue.HwptReferences);
        Ok(ctx.Attach(rig.DevId, 0, a, now: 0, out _));
        Ok(ctx.Attach(devId2, 0, b, now: 0, out _));

        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 1));
        Ok(ctx.TriggerIopf(devId2, 0, now: 0, grpid: 2));
        var (_, records) = Read(queue, 2);
        Assert.Equal([rig.DevId, devId2], records.Select(r => r.DevId)); // R49: records carry dev_id

        Assert.True(queue.Close());
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(a, now: 0)); // attached
        Ok(ctx.Detach(rig.DevId, 0, now: 0));
        Ok(ctx.Destroy(a, now: 0));
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(faultId, now: 0)); // HWPT b still references it
        Ok(ctx.Detach(devId2, 0, now: 0));
        Ok(ctx.Destroy(b, now: 0));
        Ok(ctx.Destroy(faultId, now: 0));
        Assert.Equal([1u, 2u], rig.AnsweredGroupIds); // each by its own detach (R43), none twice
        Assert.All(rig.Codes, c => Assert.Equal(PageResponseCode.Invalid, c));
        Assert.Equal(0, dev2.PendingCount + rig.Device.PendingCount);
    }

    [Fact]
    public void R40_destroy_rules_for_ioas_parent_viommu_vdevice_and_device()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent);
        Ok(ctx.AllocViommu(rig.DevId, parent, out uint viommu));
        Ok(ctx.AllocVdevice(viommu, rig.DevId, 0x99, out uint vdevice));
        Assert.Equal(FaultQueueErrno.EEXIST, ctx.AllocVdevice(viommu, rig.DevId, 0x98, out _)); // one per device

        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(rig.IoasId, now: 0)); // the parent sits on it
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(parent, now: 0));     // the vIOMMU sits on it
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(viommu, now: 0));     // the vDEVICE holds it
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(rig.DevId, now: 0));  // its driver holds it
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Unbind(rig.DevId));   // the vDEVICE holds it
        Ok(ctx.Destroy(vdevice, now: 0));
        Assert.Null(ctx.FindDevice(rig.DevId)!.Vdevice);
        Ok(ctx.Destroy(viommu, now: 0));
        Ok(ctx.Destroy(parent, now: 0));
        Ok(ctx.Destroy(rig.IoasId, now: 0));
        Ok(ctx.Unbind(rig.DevId));
        Assert.Empty(ctx.Ids());
    }

    [Fact]
    public void R28_attach_twice_is_EBUSY_to_the_same_hwpt_and_EINVAL_to_another()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        uint a = rig.Hwpt(rig.IoasId, HwptAllocFlags.None);
        uint b = rig.Hwpt(rig.IoasId, HwptAllocFlags.None);
        Ok(ctx.Attach(rig.DevId, 0, a, now: 0, out _));
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Attach(rig.DevId, 0, a, now: 0, out _));
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Attach(rig.DevId, 0, b, now: 0, out _));
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Detach(rig.DevId, 5, now: 0));
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.Attach(rig.DevId, 0, 77, now: 0, out _));
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Attach(rig.DevId, 0, rig.DevId, now: 0, out _)); // a device is no page table
        Assert.Equal(a, ctx.AttachedHwpt(rig.DevId, 0));
    }

    [Fact]
    public void R29_attaching_to_an_ioas_shares_one_auto_domain_which_goes_with_its_last_attachment()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        var (_, devId2) = rig.Bind("mock1", Devices.Rig.Enabled(4).Function);
        uint auto = rig.MockDomain();
        Ok(ctx.Attach(devId2, 0, rig.IoasId, now: 0, out uint shared));
        Assert.Equal(auto, shared);
        Assert.True(ctx.FindHwpt(auto)!.IsAutoDomain);
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(auto, now: 0));
        Ok(ctx.Detach(rig.DevId, 0, now: 0));
        Assert.NotNull(ctx.Find(auto));
        Ok(ctx.Detach(devId2, 0, now: 0));
        Assert.Null(ctx.Find(auto));
        Ok(ctx.Destroy(rig.IoasId, now: 0)); // nothing holds the IOAS any more
    }

    [Fact]
    public void R51_trigger_reports_one_last_page_fault_pasid_valid_iff_pasid_is_not_0()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint iopf = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid, faultId);
        Ok(ctx.Attach(rig.DevId, 0, iopf, now: 0, out _));
        Ok(ctx.Attach(rig.DevId, 7, iopf, now: 0, out _));
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0));
        Ok(ctx.TriggerIopf(rig.DevId, 7, now: 0, grpid: 5, perm: FaultPermissions.Read, addr: 0x4000));
        var (_, records) = Read(queue, 2);
        Assert.Equal(new PageFaultRecord(PageFaultFlags.LastPage, rig.DevId, 0, 2,
            PageFaultPermissions.Read | PageFaultPermissions.Write, 0xdeadbeaf, 0, records[0].Cookie), records[0]);
        Assert.Equal(new PageFaultRecord(PageFaultFlags.LastPage | PageFaultFlags.PasidValid, rig.DevId, 7, 5,
            PageFaultPermissions.Read, 0x4000, 0, records[1].Cookie), records[1]);
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.TriggerIopf(99, 0, now: 0));

        // With no fault-capable HWPT the result is ignored: the framework answers it INVALID (R10), the op returns 0.
        Ok(ctx.Detach(rig.DevId, 7, now: 0));
        Ok(ctx.TriggerIopf(rig.DevId, 7, now: 0, grpid: 9));
        Assert.Equal(new PageResponse(7, 9, PageResponseCode.Invalid), rig.Responder.Records[^1].Response);
    }

    [Fact]
    public void R41_the_context_refuses_a_fault_capable_hwpt_on_a_vf_whose_pf_has_pri_on_attach_and_replace()
    {
        // The check itself (BUG-14, T21): FaultCapableAttachTests. Here: the context applies it, and only to fault-capable HWPTs.
        var pf = Devices.Rig.Enabled(4);
        var rig = new IommufdRig(function: pf.VirtualFunction().Function);
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint iopf = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid, faultId);
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Attach(rig.DevId, 0, iopf, now: 0, out _));
        uint auto = rig.MockDomain(); // a plain domain is fine
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Replace(rig.DevId, 0, iopf, now: 0, out _));
        Assert.Equal(auto, ctx.AttachedHwpt(rig.DevId, 0));
        Assert.Null(rig.Device.AttachmentAt(0)!.Handler);
        Assert.Equal(0, queue.Counters.AutoResponses);
    }

    [Fact]
    public void POL_6_a_fault_capable_attachment_brings_the_functions_pri_allocation_as_its_depth_share()
    {
        var rig = new IommufdRig("hardened");
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint iopf = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid, faultId);
        Ok(ctx.Attach(rig.DevId, 0, iopf, now: 0, out _));
        Ok(ctx.Attach(rig.DevId, 3, iopf, now: 0, out _));
        Assert.Equal(8, queue.Depth); // 4 credits per handle
        Ok(ctx.Detach(rig.DevId, 3, now: 0));
        Assert.Equal(4, queue.Depth);
    }

    [Fact]
    public void T16_R43_detach_through_the_context_answers_unread_and_read_unanswered_groups_of_that_pasid_only()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint iopf = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid, faultId);
        Ok(ctx.Attach(rig.DevId, 0, iopf, now: 0, out _));
        Ok(ctx.Attach(rig.DevId, 9, iopf, now: 0, out _));
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 1));
        Ok(ctx.TriggerIopf(rig.DevId, 9, now: 0, grpid: 2));
        Ok(ctx.TriggerIopf(rig.DevId, 9, now: 0, grpid: 3));
        var (_, read) = Read(queue, 2); // 1 (RID) and 2 (PASID 9) read, 3 unread

        Ok(ctx.Detach(rig.DevId, 9, now: 0));

        Assert.Equal([3u, 2u], rig.AnsweredGroupIds); // the deliver list, then the response table
        Assert.All(rig.Codes, c => Assert.Equal(PageResponseCode.Invalid, c));
        Assert.Equal(FaultQueueErrno.EINVAL, Write(queue, (read[1].Cookie, 0)).Error); // its cookie is gone
        Assert.True(queue.IsOutstanding(read[0].Cookie));
        Assert.Null(rig.Device.AttachmentAt(9));
        Assert.Equal(iopf, ctx.AttachedHwpt(rig.DevId, 0));
        Assert.Equal(1, rig.Device.PendingCount);
    }

    [Fact]
    public void T17_R29_failed_replaces_answer_nothing_and_a_successful_one_answers_the_old_handle()
    {
        var rig = new IommufdRig("hardened");
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent);
        Ok(ctx.AllocViommu(rig.DevId, parent, out uint viommu));
        uint iopf = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid, faultId);
        uint other = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid, faultId);
        uint noVdevice = rig.Hwpt(viommu, HwptAllocFlags.None);
        uint s2 = rig.Hwpt(rig.IoasId, HwptAllocFlags.None);
        Ok(ctx.Attach(rig.DevId, 0, iopf, now: 0, out _));
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 1));
        var (_, read) = Read(queue, 1);
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 2));

        Assert.Equal(FaultQueueErrno.ENOENT, ctx.Replace(rig.DevId, 0, noVdevice, now: 0, out _)); // the driver refuses
        rig.Context.FailNth(1);
        Assert.Equal(FaultQueueErrno.ENOMEM, ctx.Replace(rig.DevId, 0, other, now: 0, out _));     // the new handle
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.Replace(rig.DevId, 0, 1000, now: 0, out _));
        Ok(ctx.Replace(rig.DevId, 0, iopf, now: 0, out _));                                         // the same HWPT: nothing to do
        Assert.Empty(rig.Responder.Records);
        Assert.Equal((1, 1), (queue.Unread, queue.Unanswered));
        Assert.True(queue.IsOutstanding(read[0].Cookie));
        Assert.Equal(4, queue.Depth); // no handle leaked by the failures (POL-6 shares)

        Ok(ctx.Replace(rig.DevId, 0, s2, now: 0, out _));
        Assert.Equal([2u, 1u], rig.AnsweredGroupIds);
        Assert.All(rig.Codes, c => Assert.Equal(PageResponseCode.Invalid, c));
        Assert.Null(queue.Depth);
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 3)); // R29: new faults take the no-handler path (R10)
        Assert.Equal(new PageResponse(0, 3, PageResponseCode.Invalid), rig.Responder.Records[^1].Response);
        Assert.Equal(0, queue.Unread);
    }

    [Fact]
    public void T18_R45_fd_close_while_the_hwpt_lives_answers_nothing_and_teardown_in_order_leaves_nothing()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint iopf = rig.Hwpt(rig.IoasId, HwptAllocFlags.FaultIdValid, faultId);
        Ok(ctx.Attach(rig.DevId, 0, iopf, now: 0, out _));
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 1));
        Read(queue, 1);
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 2));

        Assert.True(queue.Close());
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(faultId, now: 0)); // the HWPT holds it (R40)
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(iopf, now: 0));    // attached
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(2, rig.Device.PendingCount); // the device waits: only R43/R44 answer
        Ok(ctx.TriggerIopf(rig.DevId, 0, now: 0, grpid: 3)); // the HWPT still delivers to the closed file
        Assert.Equal(2, queue.Unread);

        Ok(ctx.Detach(rig.DevId, 0, now: 0));
        Assert.Equal([2u, 3u, 1u], rig.AnsweredGroupIds);
        Ok(ctx.Destroy(iopf, now: 0));
        Ok(ctx.Destroy(faultId, now: 0));
        Assert.Equal(3, rig.Responder.Records.Count); // R44 finds nothing left; nothing is answered twice
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.Destroy(faultId, now: 0));
    }
}
