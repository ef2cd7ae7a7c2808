using Faultline.Faults;
using Faultline.Userspace;
using static Faultline.Tests.Userspace.IommufdRig;

namespace Faultline.Tests.Userspace;

/// <summary>
/// The upstream iommufd selftests S1–S3 (scenarios.md §1) step by step through <see cref="IommufdContext"/>.
/// The IOPF round trips of S1 and S2 use pasid 1 on a nested HWPT attached at the RID, as upstream: the mock
/// driver declares a user-managed PASID table, so R9 step 1 falls back to the nested handle at the RID.
/// </summary>
public sealed class SelftestScenarioTests
{
    private const uint NoSuchId = uint.MaxValue;

    [Fact]
    public void S1_alloc_hwpt_nested_mock_domain()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        uint auto = rig.MockDomain();
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent);
        uint parentNotWork = rig.Hwpt(rig.IoasId, HwptAllocFlags.None);

        // R40: a nesting parent cannot be fault-capable.
        Assert.Equal(FaultQueueErrno.EOPNOTSUPP,
            ctx.AllocHwpt(rig.DevId, rig.IoasId, HwptAllocFlags.NestParent | HwptAllocFlags.FaultIdValid, 0, out _));
        var (faultId, queue) = rig.Fault();
        Assert.NotEqual(0u, faultId);

        // Nested HWPTs: not on a parent that is no nest parent (EINVAL); the iopf one needs a real FAULT id (R40).
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.AllocHwpt(rig.DevId, parentNotWork, HwptAllocFlags.None, 0, out _));
        uint nested0 = rig.Hwpt(parent, HwptAllocFlags.None);
        uint nested1 = rig.Hwpt(parent, HwptAllocFlags.None);
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.AllocHwpt(rig.DevId, parent, HwptAllocFlags.FaultIdValid, NoSuchId, out _));
        uint iopf = rig.Hwpt(parent, HwptAllocFlags.FaultIdValid, faultId);
        Assert.Equal(1, queue.HwptReferences);
        Assert.Equal(IommufdObjectType.HwptNested, ctx.FindHwpt(iopf)!.Type);

        // A nest parent with children cannot go; replace walks the device across the nested HWPTs.
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(parent, now: 0));
        Ok(ctx.Replace(rig.DevId, 0, nested0, now: 0, out _));
        Assert.Null(ctx.Find(auto)); // the auto domain went with its last attachment
        Ok(ctx.Replace(rig.DevId, 0, nested1, now: 0, out _));
        Ok(ctx.Destroy(nested0, now: 0));
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(nested1, now: 0)); // attached (R40)
        Ok(ctx.Replace(rig.DevId, 0, iopf, now: 0, out _));
        Ok(ctx.Destroy(nested1, now: 0));
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(iopf, now: 0));

        var record = rig.RoundTrip(queue, pasid: 1);
        Assert.Equal(rig.DevId, record.DevId);
        Assert.Equal(new PageResponse(1, 2, PageResponseCode.Success), Assert.Single(rig.Responder.Records).Response);

        Ok(ctx.Replace(rig.DevId, 0, parent, now: 0, out _)); // back to the parent: R43 with nothing pending
        Assert.Single(rig.Responder.Records);
        Ok(ctx.Destroy(iopf, now: 0));
        Assert.Equal(0, queue.HwptReferences);
        Ok(ctx.Replace(rig.DevId, 0, rig.IoasId, now: 0, out uint newAuto));
        Assert.True(ctx.FindHwpt(newAuto)!.IsAutoDomain);
        Ok(ctx.Destroy(parent, now: 0));
        Ok(ctx.Destroy(parentNotWork, now: 0));
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(faultId, now: 0)); // the fd is still open (R45)
        Assert.True(queue.Close());
        Ok(ctx.Destroy(faultId, now: 0));
        Assert.Null(ctx.QueueOf(faultId));
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal([rig.IoasId, rig.DevId, newAuto], ctx.Ids());
    }

    [Fact]
    public void S1_alloc_hwpt_nested_no_domain_every_alloc_and_replace_is_ENOENT()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        const uint noDevice = 0; // the no_domain variant has no mock device
        var (faultId, _) = rig.Fault();
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.AllocHwpt(noDevice, rig.IoasId, HwptAllocFlags.NestParent, 0, out _));
        Assert.Equal(FaultQueueErrno.ENOENT,
            ctx.AllocHwpt(noDevice, rig.IoasId, HwptAllocFlags.NestParent | HwptAllocFlags.FaultIdValid, faultId, out _));
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.AllocHwpt(noDevice, rig.IoasId, HwptAllocFlags.FaultIdValid, faultId, out _));
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.Replace(noDevice, 0, rig.IoasId, now: 0, out _));
        Assert.Equal([rig.IoasId, rig.DevId, faultId], ctx.Ids());
    }

    [Fact]
    public void S2_viommu_alloc_nested_iopf_mock_viommu()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        rig.MockDomain();
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent);
        Ok(ctx.AllocViommu(rig.DevId, parent, out uint viommu));
        var (faultId, queue) = rig.Fault();

        Assert.Equal(FaultQueueErrno.ENOENT, ctx.AllocHwpt(rig.DevId, viommu, HwptAllocFlags.FaultIdValid, NoSuchId, out _));
        Assert.Equal(FaultQueueErrno.EOPNOTSUPP,
            ctx.AllocHwpt(rig.DevId, viommu, HwptAllocFlags.FaultIdValid | (HwptAllocFlags)(1u << 31), faultId, out _));
        uint iopf = rig.Hwpt(viommu, HwptAllocFlags.FaultIdValid, faultId);
        Assert.Same(ctx.Find(viommu), ctx.FindHwpt(iopf)!.Viommu);

        // R41: a nested HWPT of a vIOMMU needs the device's vDEVICE there first; the failed replace changes nothing.
        uint before = ctx.AttachedHwpt(rig.DevId, 0)!.Value;
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.Replace(rig.DevId, 0, iopf, now: 0, out _));
        Assert.Equal(before, ctx.AttachedHwpt(rig.DevId, 0));
        Ok(ctx.AllocVdevice(viommu, rig.DevId, 0x99, out uint vdevice));
        Ok(ctx.Replace(rig.DevId, 0, iopf, now: 0, out _));
        Assert.Equal(iopf, ctx.AttachedHwpt(rig.DevId, 0));
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(iopf, now: 0));
        Assert.Equal(FaultQueueErrno.EBUSY, ctx.Destroy(viommu, now: 0)); // held by the HWPT and the vDEVICE

        var record = rig.RoundTrip(queue, pasid: 1);
        Assert.Equal(rig.DevId, record.DevId); // the iommufd device id, not the virtual id
        Assert.Equal(PageResponseCode.Success, Assert.Single(rig.Responder.Records).Response.Code);

        Ok(ctx.Replace(rig.DevId, 0, rig.IoasId, now: 0, out _));
        Ok(ctx.Destroy(iopf, now: 0));
        Assert.True(queue.Close());
        Ok(ctx.Destroy(faultId, now: 0));
        Ok(ctx.Destroy(vdevice, now: 0));
        Ok(ctx.Destroy(viommu, now: 0));
        Ok(ctx.Destroy(parent, now: 0));
        Assert.Single(rig.Responder.Records);
    }

    [Fact]
    public void S2_no_viommu_a_nested_hwpt_needs_a_vdevice_on_attach_too()
    {
        var rig = new IommufdRig();
        var ctx = rig.Context;
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent);
        Ok(ctx.AllocViommu(rig.DevId, parent, out uint viommu));
        uint nested = rig.Hwpt(viommu, HwptAllocFlags.None);
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.Attach(rig.DevId, 0, nested, now: 0, out _));
        Assert.Null(ctx.AttachedHwpt(rig.DevId, 0));
        Assert.Null(rig.Device.AttachmentAt(0));
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.AllocViommu(rig.DevId, rig.Hwpt(rig.IoasId, HwptAllocFlags.None), out _));
        Assert.Equal(FaultQueueErrno.ENOENT, ctx.AllocViommu(rig.DevId, nested, out _)); // not a paging HWPT
    }

    [Fact]
    public void S3_pasid_attach_has_pasid()
    {
        const uint pasid = 2048;
        var rig = new IommufdRig();
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent | HwptAllocFlags.Pasid);
        uint iopf = rig.Hwpt(parent, HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid, faultId);
        uint s2 = rig.Hwpt(rig.IoasId, HwptAllocFlags.Pasid);

        Ok(ctx.Attach(rig.DevId, pasid, iopf, now: 0, out uint attached));
        Assert.Equal(iopf, attached);
        Assert.Equal(iopf, ctx.AttachedHwpt(rig.DevId, pasid)); // "check domain"
        Assert.Equal(ctx.FindHwpt(iopf)!.Domain, rig.Device.AttachmentAt(pasid)!.Domain);

        var record = rig.RoundTrip(queue, pasid);
        Assert.Equal(PageFaultFlags.PasidValid | PageFaultFlags.LastPage, record.Flags);
        Assert.Equal(pasid, record.Pasid);
        Assert.Equal(new PageResponse(pasid, 2, PageResponseCode.Success), Assert.Single(rig.Responder.Records).Response);

        Ok(ctx.Replace(rig.DevId, pasid, s2, now: 0, out _)); // the R43 path with nothing pending
        Assert.Equal(0, queue.Counters.AutoResponses);
        Assert.Single(rig.Responder.Records);
        Ok(ctx.Detach(rig.DevId, pasid, now: 0));
        Assert.Null(rig.Device.AttachmentAt(pasid));
        Ok(ctx.Destroy(iopf, now: 0));
        Assert.True(queue.Close());
        Ok(ctx.Destroy(faultId, now: 0));
    }

    [Fact]
    public void S3_pasid_attach_an_hwpt_not_allocated_for_pasids_is_EINVAL_on_a_pasid()
    {
        var rig = new IommufdRig("hardened"); // POL-6: a leaked handle would add the device's 4 credits to Depth
        var ctx = rig.Context;
        var (faultId, queue) = rig.Fault();
        uint parent = rig.Hwpt(rig.IoasId, HwptAllocFlags.NestParent);
        uint ridOnly = rig.Hwpt(parent, HwptAllocFlags.FaultIdValid, faultId);
        Assert.Equal(FaultQueueErrno.EINVAL, ctx.Attach(rig.DevId, 2048, ridOnly, now: 0, out _));
        Assert.Null(rig.Device.AttachmentAt(2048));
        Assert.Null(queue.Depth); // no handle was made
        Ok(ctx.Attach(rig.DevId, 0, ridOnly, now: 0, out _));
        Assert.Equal(4, queue.Depth);
    }
}
