using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using static Faultline.Tests.Iommu.VtdRig;

namespace Faultline.Tests.Iommu;

/// <summary>
/// The VT-d drain of one (device, PASID) (vtd.md §7, R33, H-VTD-13, H-VTD-14; pcie.md H-PCI-18; framework.md
/// R23; policies.md POL-8), driven as the host does: <see cref="VtdDrain.Advance"/> after each PRQ batch, each
/// group answered and each invalidation wait completed.
/// </summary>
public sealed class VtdDrainTests
{
    private const ushort OtherRid = 0x0300;
    private const uint OtherPasid = 0x43;

    public static TheoryData<string> Policies => ["linux", "hardened"];

    // ---- helpers ----

    /// <summary>The raw descriptors between IQH and IQT, oldest first.</summary>
    private static List<byte[]> Queued(VtdIommu iommu)
    {
        var queue = iommu.InvalidationQueue;
        var list = new List<byte[]>();
        for (uint p = queue.Consumer; p != queue.Producer; p++) list.Add(queue.At(p).ToArray());
        return list;
    }

    private static byte TypeOf(byte[] descriptor)
    {
        var type = InvalidationDescriptor.TypeOf(descriptor);
        Assert.True(type.IsOk, $"type: {type.Error}");
        return type.Value;
    }

    private static InvalidationWaitDescriptor Wait(byte[] descriptor)
    {
        Assert.Equal(InvalidationWaitDescriptor.Type, TypeOf(descriptor));
        var decoded = InvalidationWaitDescriptor.Decode(descriptor);
        Assert.True(decoded.IsOk, $"wait: {decoded.Error}");
        return decoded.Value;
    }

    /// <summary>A second PRI function on the rig's IOMMU (same IOPF queue), its PASID 0x42 and RID going to the rig's handler.</summary>
    private static FaultDevice AddDevice(VtdRig rig, ushort rid, string name)
    {
        var (status, device, _) = rig.Driver.AddDevice(ProbedFunction(rig.Driver, rid), name);
        Assert.Equal(FaultStatus.Ok, status);
        Assert.Equal(FaultStatus.Ok, device!.Attach(DevicePasid, new FaultAttachment("sva", rig.Handler)));
        Assert.Equal(FaultStatus.Ok, device.Attach(0, new FaultAttachment("rid", rig.Handler)));
        return device;
    }

    /// <summary>Runs the hardware step to its end: executes the queue, the function acknowledges the device-TLB
    /// invalidation, and the driver hears about the final wait. Returns the wait that completed.</summary>
    private static InvalidationWaitDescriptor CompleteHardwareDrain(VtdRig rig, VtdDrain drain)
    {
        int waitsBefore = rig.Platform.CompletedWaits.Count;
        rig.Iommu.ProcessInvalidationQueue();
        var invalidate = rig.Platform.InvalidateRequests[^1];
        rig.Iommu.OnInvalidationCompletion(new InvalidationCompletion(drain.Requester, invalidate.Tag));
        Assert.Equal(waitsBefore + 1, rig.Platform.CompletedWaits.Count);
        var wait = rig.Platform.CompletedWaits[^1];
        Assert.Equal(drain.StatusAddress, wait.StatusAddress);
        rig.Driver.OnInvalidationWaitCompleted(wait);
        return wait;
    }

    /// <summary>Delivers <paramref name="count"/> PASID-less last requests with PRG indexes from <paramref name="first"/>,
    /// handles them and answers each group SUCCESS: one page group response submitted per group.</summary>
    private static void RespondGroups(VtdRig rig, int first, int count)
    {
        int groupsBefore = rig.Handler.Groups.Count;
        for (int i = 0; i < count; i++) rig.Deliver(Request(index: first + i, pasid: null));
        Assert.Equal(count, rig.Driver.HandlePageRequests(now: 0));
        Assert.Equal(groupsBefore + count, rig.Handler.Groups.Count);
        for (int g = groupsBefore; g < groupsBefore + count; g++) rig.Respond(g, PageResponseCode.Success);
    }

    // ---- R33: the descriptor sequence ----

    [Theory]
    [MemberData(nameof(Policies))]
    public void R33_drain_descriptor_sequence(string policy)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.Equal("ScanRing", drain.StageName);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty); // nothing before Advance

        Assert.False(drain.Advance(0));

        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
        Assert.Equal(1, drain.HardwareRounds);
        var queued = Queued(rig.Iommu);
        Assert.Equal(
            [InvalidationWaitDescriptor.Type, PasidIotlbInvalidationDescriptor.Type, PasidDeviceTlbInvalidationDescriptor.Type, InvalidationWaitDescriptor.Type],
            queued.Select(TypeOf).ToArray());
        Assert.Equal(4, rig.Platform.InvalidationsQueued);

        // 1: wait with fence, no status write.
        var fence = Wait(queued[0]);
        Assert.True(fence.Fence);
        Assert.False(fence.StatusWrite);
        Assert.False(fence.InterruptFlag);

        // 2: PASID-selective IOTLB invalidation of the PASID.
        var iotlb = PasidIotlbInvalidationDescriptor.Decode(queued[1]);
        Assert.True(iotlb.IsOk, $"piotlb: {iotlb.Error}");
        Assert.Equal(PasidIotlbGranularity.PasidSelective, iotlb.Value.Granularity);
        Assert.Equal(new Pasid(DevicePasid), iotlb.Value.Pasid);

        // 3: device-TLB invalidation of (RID, PASID), every address.
        var devtlb = PasidDeviceTlbInvalidationDescriptor.Decode(queued[2]);
        Assert.True(devtlb.IsOk, $"devtlb: {devtlb.Error}");
        Assert.Equal(new RequesterId(DeviceRid), devtlb.Value.SourceId);
        Assert.Equal(new Pasid(DevicePasid), devtlb.Value.Pasid);
        Assert.True(devtlb.Value.SizeBit);
        Assert.Equal(PasidDeviceTlbInvalidationDescriptor.MaxSizeOrder, devtlb.Value.SizeOrder);
        Assert.Equal(52, devtlb.Value.SizeOrder);

        // 4: trailing wait with status write and page-request drain, writing the drain's own slot.
        var trailing = Wait(queued[3]);
        Assert.True(trailing.StatusWrite);
        Assert.True(trailing.PageRequestDrain);
        Assert.Equal(drain.StatusAddress, trailing.StatusAddress);

        // Advancing again without the wait submits nothing more.
        Assert.False(drain.Advance(1));
        Assert.Equal(4, rig.Iommu.InvalidationQueue.Count);
    }

    [Fact]
    public void R33_drain_of_a_device_no_longer_iopf_enabled_is_a_no_op()
    {
        var rig = new VtdRig(FaultPolicy.Linux);
        Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.Driver.Queue, rig.Device, now: 0));
        Assert.Null(rig.Device.Queue);

        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);

        Assert.True(drain.Advance(0));
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);
        Assert.Equal(0, drain.HardwareRounds);
    }

    [Fact]
    public void R33_each_drain_writes_its_own_status_slot()
    {
        var rig = new VtdRig();
        var first = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        var second = rig.Driver.BeginDrain(rig.Device, 0, 0);
        Assert.NotEqual(first.StatusAddress, second.StatusAddress);
        Assert.Equal(0UL, first.StatusAddress & InvalidationWaitDescriptor.StatusAddressAlignmentMask);
        Assert.Equal(0UL, second.StatusAddress & InvalidationWaitDescriptor.StatusAddressAlignmentMask);
    }

    // ---- H-VTD-13 / H-PCI-18: the final wait waits for the function's acknowledgement ----

    [Fact]
    public void H_VTD_13_H_PCI_18_final_wait_is_held_until_the_invalidation_completion()
    {
        var rig = new VtdRig(FaultPolicy.Linux);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));

        rig.Iommu.ProcessInvalidationQueue();

        // The device-TLB invalidation went out to the function as an ATS Invalidate Request of every address.
        var invalidate = Assert.Single(rig.Platform.InvalidateRequests);
        Assert.Equal(new RequesterId(DeviceRid), invalidate.Destination);
        Assert.Equal(new Pasid(DevicePasid), invalidate.Pasid);
        Assert.True(invalidate.Covers(0));
        Assert.True(invalidate.Covers(0x7FFF_FFFF_F000));
        Assert.True(invalidate.Covers(0xFFFF_FFFF_FFFF_F000));
        Assert.Equal(1, rig.Iommu.DeviceTlbInvalidationsPending);

        // The trailing wait is held at IQH: not completed, however often the hardware looks.
        Assert.Empty(rig.Platform.CompletedWaits);
        Assert.Equal(1, rig.Iommu.InvalidationQueue.Count);
        Assert.True(Wait(Queued(rig.Iommu)[0]).PageRequestDrain);
        rig.Iommu.ProcessInvalidationQueue();
        Assert.Empty(rig.Platform.CompletedWaits);
        Assert.False(drain.Advance(10));
        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);

        // Requests the function sent before its completion (posted, H-PCI-18) reach the IOMMU first.
        rig.Deliver(Request(index: 7), Request(last: false, index: 8), Request(index: 9, pasid: null));
        int prqAtStatusWrite = -1;
        bool ringHeldAtStatusWrite = false;
        rig.Platform.OnWaitCompleted = (iommu, _) =>
        {
            prqAtStatusWrite = iommu.PageRequestQueue.Count;
            ringHeldAtStatusWrite = rig.Driver.RingHolds(new RequesterId(DeviceRid), DevicePasid);
        };

        rig.Iommu.OnInvalidationCompletion(new InvalidationCompletion(new RequesterId(DeviceRid), invalidate.Tag));

        var wait = Assert.Single(rig.Platform.CompletedWaits);
        Assert.True(wait.StatusWrite);
        Assert.True(wait.PageRequestDrain);
        Assert.Equal(drain.StatusAddress, wait.StatusAddress);
        Assert.Equal(3, prqAtStatusWrite); // H-VTD-13: all of them are in the PRQ when the status write lands
        Assert.True(ringHeldAtStatusWrite);
        Assert.Equal(0, rig.Iommu.DeviceTlbInvalidationsPending);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);
        Assert.Equal(1, rig.Iommu.Counters.PageRequestDrains);

        // The drain moves only once the driver is told about its wait.
        Assert.False(drain.Advance(20));
        rig.Driver.OnInvalidationWaitCompleted(wait);
        Assert.True(drain.Advance(30)); // linux: requests that landed during the drain stay queued
        Assert.Equal(30, drain.DoneAt);
    }

    [Fact]
    public void H_VTD_13_linux_drain_is_done_when_the_final_wait_completes_with_an_empty_ring()
    {
        var rig = new VtdRig(FaultPolicy.Linux);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 100);
        Assert.False(drain.Advance(100));

        var wait = CompleteHardwareDrain(rig, drain);

        Assert.True(drain.Advance(200));
        Assert.True(drain.IsDone);
        Assert.Equal(VtdDrainStage.Done, drain.Stage);
        Assert.Equal(1, drain.HardwareRounds);
        Assert.Equal(100, drain.StartedAt);
        Assert.Equal(200, drain.DoneAt);
        Assert.False(rig.Driver.RingHolds(new RequesterId(DeviceRid), DevicePasid));

        // A wait the driver already handed over is not handed over twice.
        rig.Driver.OnInvalidationWaitCompleted(wait);
        Assert.True(drain.Advance(300));
        Assert.Equal(200, drain.DoneAt);
    }

    [Fact]
    public void H_VTD_13_a_wait_of_another_status_slot_does_not_move_the_drain()
    {
        var rig = new VtdRig(FaultPolicy.Linux);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));

        rig.Driver.OnInvalidationWaitCompleted(new InvalidationWaitDescriptor(false, true, false, true, 2, drain.StatusAddress + 0x100));

        Assert.False(drain.Advance(1));
        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
    }

    [Fact]
    public void H_VTD_13_completion_from_another_function_does_not_release_the_wait()
    {
        var rig = new VtdRig(FaultPolicy.Linux);
        AddDevice(rig, OtherRid, "dev1");
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));
        rig.Iommu.ProcessInvalidationQueue();
        var invalidate = Assert.Single(rig.Platform.InvalidateRequests);

        // dev1 was never asked to invalidate anything.
        rig.Iommu.OnInvalidationCompletion(new InvalidationCompletion(new RequesterId(OtherRid), invalidate.Tag + 1));

        Assert.Empty(rig.Platform.CompletedWaits);
        Assert.Equal(1, rig.Iommu.DeviceTlbInvalidationsPending);

        rig.Iommu.OnInvalidationCompletion(new InvalidationCompletion(new RequesterId(DeviceRid), invalidate.Tag));
        Assert.Single(rig.Platform.CompletedWaits);
    }

    // ---- R33: the ring scan (and BUG-8 / T23) ----

    [Theory]
    [MemberData(nameof(Policies))]
    public void R33_ring_entry_of_the_device_and_pasid_holds_the_scan_until_handled(string policy)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        rig.Deliver(Request(last: true, index: 3));
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);

        Assert.False(drain.Advance(0));
        Assert.False(drain.Advance(1));
        Assert.Equal("ScanRing", drain.StageName);
        Assert.Null(drain.FlushStartedAt);
        Assert.Equal(0, rig.Framework.Counters.Flushes);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);

        Assert.Equal(1, rig.Driver.HandlePageRequests(now: 0));
        Assert.False(rig.Driver.RingHolds(new RequesterId(DeviceRid), DevicePasid));

        // The group it made is the drain's own: the flush waits for it under both policies.
        Assert.False(drain.Advance(2));
        Assert.Equal("Flush", drain.StageName);
        Assert.Equal(2, drain.FlushStartedAt);
        Assert.Equal(1, drain.FlushedGroups);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);

        rig.Respond(0, PageResponseCode.Success);
        Assert.False(drain.Advance(3));
        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
        // The page group response was submitted before the drain's descriptors (fence orders them).
        var types = Queued(rig.Iommu).Select(TypeOf).ToArray();
        Assert.Equal([PageGroupResponseDescriptor.Type, InvalidationWaitDescriptor.Type, PasidIotlbInvalidationDescriptor.Type,
            PasidDeviceTlbInvalidationDescriptor.Type, InvalidationWaitDescriptor.Type], types);
    }

    [Fact]
    public void R33_non_last_entry_of_the_pasid_also_holds_the_scan()
    {
        var rig = new VtdRig();
        rig.Deliver(Request(last: false, index: 4, address: 0x2000));
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));
        Assert.Equal("ScanRing", drain.StageName);

        rig.Driver.HandlePageRequests(now: 0);
        Assert.False(drain.Advance(1));
        Assert.Equal(VtdDrainStage.Hardware, drain.Stage); // a partial is not a pending group
    }

    public static TheoryData<string> NotTheDrainedPair => ["other-pasid", "pasid-less-same-rid", "other-rid-same-pasid", "other-rid-pasid-less"];

    [Theory]
    [MemberData(nameof(NotTheDrainedPair))]
    public void R33_ring_entry_of_another_pasid_or_rid_does_not_hold_the_scan(string kind)
    {
        var rig = new VtdRig();
        rig.Iommu.SetContext(new RequesterId(OtherRid), pageRequestEnable: true); // queued by hardware, unknown to the driver
        rig.Deliver(kind switch
        {
            "other-pasid" => Request(index: 5, pasid: OtherPasid),
            "pasid-less-same-rid" => Request(index: 5, pasid: null),
            "other-rid-same-pasid" => Request(index: 5, rid: OtherRid),
            "other-rid-pasid-less" => Request(index: 5, pasid: null, rid: OtherRid),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        });
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);

        Assert.False(rig.Driver.RingHolds(new RequesterId(DeviceRid), DevicePasid));
        Assert.False(drain.Advance(0));

        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
        Assert.Equal(4, rig.Iommu.InvalidationQueue.Count);
        Assert.Equal(1, rig.Prq.Count); // untouched
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void R33_BUG_8_T23_draining_pasid_0_waits_for_pasid_less_requests_of_the_rid(bool last)
    {
        var rig = new VtdRig();
        rig.Deliver(Request(last: last, index: 6, pasid: null));
        var drain = rig.Driver.BeginDrain(rig.Device, 0, 0);

        Assert.True(rig.Driver.RingHolds(new RequesterId(DeviceRid), 0));
        Assert.False(drain.Advance(0));
        Assert.Equal("ScanRing", drain.StageName);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);

        rig.Driver.HandlePageRequests(now: 0);
        if (last)
        {
            Assert.False(drain.Advance(1));
            Assert.Equal("Flush", drain.StageName);
            rig.Respond(0, PageResponseCode.Success);
        }
        Assert.False(drain.Advance(2));
        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);

        // The hardware step for the RID (R33): domain-selective IOTLB and non-PASID device-TLB invalidation.
        var queued = Queued(rig.Iommu);
        Assert.Equal(IotlbGranularity.DomainSelective, IotlbInvalidationDescriptor.Decode(queued[^3]).Value.Granularity);
        var devtlb = DeviceTlbInvalidationDescriptor.Decode(queued[^2]).Value;
        Assert.Equal(new RequesterId(DeviceRid), devtlb.SourceId);
        Assert.Equal(DeviceTlbRange.MaxSizeOrder, devtlb.SizeOrder);

        // What reaches the function drops its translations of requests without a PASID.
        rig.Iommu.ProcessInvalidationQueue();
        var invalidate = Assert.Single(rig.Platform.InvalidateRequests);
        Assert.Null(invalidate.Pasid);
        Assert.Equal((0UL, ulong.MaxValue), (invalidate.Address, invalidate.Length));
    }

    [Theory]
    [InlineData("pasid-of-the-rid")]
    [InlineData("pasid-less-other-rid")]
    public void R33_BUG_8_T23_draining_pasid_0_ignores_other_entries(string kind)
    {
        var rig = new VtdRig();
        rig.Iommu.SetContext(new RequesterId(OtherRid), pageRequestEnable: true);
        rig.Deliver(kind == "pasid-of-the-rid" ? Request(index: 6) : Request(index: 6, pasid: null, rid: OtherRid));
        var drain = rig.Driver.BeginDrain(rig.Device, 0, 0);

        Assert.False(drain.Advance(0));

        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
    }

    // ---- R23 / POL-8: the flush inside the drain ----

    [Theory]
    [InlineData("linux", "Flush", 1)]
    [InlineData("hardened", "Hardware", 0)]
    public void R23_POL_8_group_of_another_device_on_the_queue_holds_only_a_linux_drain(string policy, string stage, int flushed)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        AddDevice(rig, OtherRid, "dev1");
        rig.Deliver(Request(index: 8, rid: OtherRid));
        rig.Driver.HandlePageRequests(now: 0);
        Assert.Single(rig.Handler.Groups);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);

        Assert.False(drain.Advance(100));

        Assert.Equal(stage, drain.StageName);
        Assert.Equal(flushed, drain.FlushedGroups);
        Assert.Equal(stage == "Hardware" ? 4 : 0, rig.Iommu.InvalidationQueue.Count);

        Assert.False(drain.Advance(200));
        Assert.Equal(stage, drain.StageName);
        rig.Respond(0, PageResponseCode.Success);
        Assert.False(drain.Advance(300));
        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
        Assert.Equal(100, drain.FlushStartedAt);
        Assert.Equal(stage == "Flush" ? 300 : 100, drain.FlushDoneAt);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R23_POL_8_group_of_another_pasid_of_the_same_device_holds_only_a_linux_drain(string policy)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        rig.Deliver(Request(index: 8, pasid: null)); // the RID's group, not PASID 0x42's
        rig.Driver.HandlePageRequests(now: 0);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);

        Assert.False(drain.Advance(0));

        Assert.Equal(policy == "linux" ? "Flush" : "Hardware", drain.StageName);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R23_own_group_holds_the_flush_under_both_policies(string policy)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        rig.Deliver(Request(index: 8));
        rig.Driver.HandlePageRequests(now: 0);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);

        Assert.False(drain.Advance(0));
        Assert.Equal("Flush", drain.StageName);
        Assert.Equal(1, drain.FlushedGroups);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);

        rig.Respond(0, PageResponseCode.Success);
        Assert.False(drain.Advance(50));
        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
        Assert.Equal(50, drain.OwnGroupsDoneAt);
        Assert.Equal(0, drain.UnrelatedWaitNs);
    }

    [Theory]
    [InlineData("linux", 200)]
    [InlineData("hardened", 0)]
    public void R23_POL_8_unrelated_wait_is_positive_under_linux_only(string policy, long unrelated)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        AddDevice(rig, OtherRid, "dev1");
        rig.Deliver(Request(index: 8), Request(index: 9, rid: OtherRid));
        rig.Driver.HandlePageRequests(now: 0);
        Assert.Equal(2, rig.Handler.Groups.Count); // [0] own (dev0, 0x42), [1] dev1's
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);

        Assert.False(drain.Advance(100));
        Assert.Equal("Flush", drain.StageName);
        rig.Respond(0, PageResponseCode.Success); // own group answered at 200
        bool hardwareAt200 = !drain.Advance(200) && drain.Stage == VtdDrainStage.Hardware;
        rig.Respond(1, PageResponseCode.Success); // dev1's group answered at 400
        drain.Advance(400);

        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
        Assert.Equal(policy == "hardened", hardwareAt200);
        Assert.Equal(100, drain.FlushStartedAt);
        Assert.Equal(200, drain.OwnGroupsDoneAt);
        Assert.Equal(policy == "linux" ? 400 : 200, drain.FlushDoneAt);
        Assert.Equal(unrelated, drain.UnrelatedWaitNs);
        Assert.Equal(policy == "linux", drain.UnrelatedWaitNs > 0);
    }

    // ---- R33: PRO after the hardware drain ----

    [Theory]
    [MemberData(nameof(Policies))]
    public void R33_pro_after_the_final_wait_retries_after_the_next_prq_batch(string policy)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));
        rig.Iommu.ProcessInvalidationQueue();

        // Requests in flight overflow the PRQ before the function's completion: PRO is set when the wait lands.
        rig.Fill();
        Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: false, index: 0x1FF)));
        Assert.Equal(VtdIommu.PrsOverflow, rig.Iommu.Prs & VtdIommu.PrsOverflow);
        var invalidate = Assert.Single(rig.Platform.InvalidateRequests);
        rig.Iommu.OnInvalidationCompletion(new InvalidationCompletion(new RequesterId(DeviceRid), invalidate.Tag));
        rig.Driver.OnInvalidationWaitCompleted(Assert.Single(rig.Platform.CompletedWaits));

        Assert.False(drain.Advance(10));
        Assert.Equal(VtdDrainStage.OverflowRetry, drain.Stage);
        Assert.Equal(1, drain.HardwareRounds);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);

        // Nothing is resubmitted until the PRQ thread has run.
        Assert.False(drain.Advance(20));
        Assert.Equal(VtdDrainStage.OverflowRetry, drain.Stage);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);

        Assert.Equal(rig.Prq.Capacity, rig.Driver.HandlePageRequests(now: 0));
        Assert.Equal(0u, rig.Iommu.Prs & VtdIommu.PrsOverflow);
        Assert.False(drain.Advance(30));

        Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
        Assert.Equal(2, drain.HardwareRounds);
        var queued = Queued(rig.Iommu);
        Assert.Equal(
            [InvalidationWaitDescriptor.Type, PasidIotlbInvalidationDescriptor.Type, PasidDeviceTlbInvalidationDescriptor.Type, InvalidationWaitDescriptor.Type],
            queued.Select(TypeOf).ToArray());
        var trailing = Wait(queued[3]);
        Assert.True(trailing.StatusWrite && trailing.PageRequestDrain);
        Assert.Equal(drain.StatusAddress, trailing.StatusAddress);

        CompleteHardwareDrain(rig, drain);
        Assert.Equal(2, rig.Platform.InvalidateRequests.Count);
        Assert.True(drain.Advance(40)); // the flood was non-last: partials, dropped with the overflow; nothing pending
        Assert.Equal(2, drain.HardwareRounds);
        Assert.Equal(40, drain.DoneAt);
    }

    [Fact]
    public void R33_pro_set_again_after_the_retried_drain_drains_a_third_time()
    {
        var rig = new VtdRig(FaultPolicy.Linux, DiscardAutoResponse.None);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));
        for (int round = 1; round <= 2; round++)
        {
            rig.Iommu.ProcessInvalidationQueue();
            rig.Fill();
            Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: false, index: 0x1FF)));
            CompleteHardwareDrain(rig, drain);
            Assert.False(drain.Advance(10 * round));
            Assert.Equal(VtdDrainStage.OverflowRetry, drain.Stage);
            Assert.Equal(round, drain.HardwareRounds);

            rig.Driver.HandlePageRequests(now: 0);
            Assert.False(drain.Advance(10 * round + 5));
            Assert.Equal(VtdDrainStage.Hardware, drain.Stage);
            Assert.Equal(round + 1, drain.HardwareRounds);
        }

        CompleteHardwareDrain(rig, drain);
        Assert.True(drain.Advance(50));
        Assert.Equal(3, drain.HardwareRounds);
        Assert.Equal(3, rig.Platform.InvalidateRequests.Count);
    }

    // ---- LateRequests (vtd.md §7 step 3; LateRequestPolicy) ----

    [Fact]
    public void R33_hardened_late_request_keeps_the_drain_until_handled_and_answered()
    {
        var rig = new VtdRig(FaultPolicy.Hardened);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));
        rig.Iommu.ProcessInvalidationQueue();
        rig.Deliver(Request(index: 0x11)); // lands during the hardware drain, before the completion
        CompleteHardwareDrain(rig, drain);

        Assert.False(drain.Advance(10));
        Assert.Equal(VtdDrainStage.LateRequests, drain.Stage);
        Assert.True(rig.Driver.RingHolds(new RequesterId(DeviceRid), DevicePasid));

        Assert.Equal(1, rig.Driver.HandlePageRequests(now: 0));
        Assert.False(drain.Advance(20)); // handled, not yet answered
        Assert.Equal(VtdDrainStage.LateRequests, drain.Stage);
        Assert.Equal(1, rig.Device.PendingCountAt(DevicePasid));

        rig.Respond(0, PageResponseCode.Success);
        Assert.True(drain.Advance(30));
        Assert.Equal(VtdDrainStage.Done, drain.Stage);
        Assert.Equal(30, drain.DoneAt);
        Assert.Equal(1, drain.HardwareRounds);
    }

    [Fact]
    public void R33_hardened_late_request_of_another_pasid_does_not_hold_the_drain()
    {
        var rig = new VtdRig(FaultPolicy.Hardened);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));
        rig.Iommu.ProcessInvalidationQueue();
        rig.Deliver(Request(index: 0x11, pasid: null));
        CompleteHardwareDrain(rig, drain);

        Assert.True(drain.Advance(10));
    }

    [Fact]
    public void R33_linux_drain_is_done_with_late_requests_still_in_the_prq()
    {
        var rig = new VtdRig(FaultPolicy.Linux);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));
        rig.Iommu.ProcessInvalidationQueue();
        rig.Deliver(Request(index: 0x11));
        CompleteHardwareDrain(rig, drain);

        Assert.True(drain.Advance(10));
        Assert.Equal(VtdDrainStage.Done, drain.Stage);
        Assert.True(rig.Driver.RingHolds(new RequesterId(DeviceRid), DevicePasid));
        Assert.Equal(1, rig.Prq.Count);
    }

    // ---- H-VTD-14 / BUG-16: PD only with ECAP.PDS ----

    [Fact]
    public void H_VTD_14_BUG_16_unit_without_pds_never_sets_pd_in_the_trailing_wait()
    {
        var platform = new RecordingVtdPlatform();
        var iommu = new VtdIommu(new VtdConfig { Name = "dmar1", PageRequestQueueOrder = 0, PageDrainSupported = false }, platform);
        var framework = new FaultFramework(FaultPolicy.Linux);
        var driver = new VtdDriver(iommu, framework);
        // AddDevice refuses such a unit (see VtdDriverTests), so the drain is built directly: the device is on no
        // queue, its flush waits for nothing, and the hardware step is what is left to look at.
        var device = new FaultDevice("dev0", driver);
        var drain = new VtdDrain(driver, framework, device, new RequesterId(DeviceRid), DevicePasid, 0x2000, 0);

        driver.SubmitDrainDescriptors(drain); // Advance would end at once: the device is on no queue (R33 no-op)

        var queued = Queued(iommu);
        Assert.Equal(4, queued.Count);
        foreach (var d in queued.Where(d => TypeOf(d) == InvalidationWaitDescriptor.Type))
            Assert.False(Wait(d).PageRequestDrain);
        var trailing = Wait(queued[3]);
        Assert.True(trailing.StatusWrite);
        Assert.Equal(0x2000UL, trailing.StatusAddress);

        // The unit executes it without an invalidation queue error; the wait completes once the function acknowledges.
        iommu.ProcessInvalidationQueue();
        var invalidate = Assert.Single(platform.InvalidateRequests);
        iommu.OnInvalidationCompletion(new InvalidationCompletion(new RequesterId(DeviceRid), invalidate.Tag));
        Assert.Equal(0, iommu.Counters.InvalidationQueueErrors);
        Assert.Equal(0, iommu.Counters.PageRequestDrains);
        var wait = Assert.Single(platform.CompletedWaits);
        driver.OnInvalidationWaitCompleted(wait);
        Assert.True(drain.Advance(1));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void H_VTD_14_BUG_16_pd_wait_submitted_by_hand(bool pageDrainSupported)
    {
        var platform = new RecordingVtdPlatform();
        var iommu = new VtdIommu(new VtdConfig { Name = "dmar1", PageRequestQueueOrder = 0, PageDrainSupported = pageDrainSupported }, platform);
        var bytes = new byte[InvalidationDescriptor.Size];
        new InvalidationWaitDescriptor(false, StatusWrite: true, false, PageRequestDrain: true, 2, 0x3000).Encode(bytes);
        Assert.True(iommu.SubmitInvalidation(bytes));

        iommu.ProcessInvalidationQueue();

        if (pageDrainSupported)
        {
            Assert.Equal(0, iommu.Counters.InvalidationQueueErrors);
            Assert.Equal(1, iommu.Counters.PageRequestDrains);
            Assert.Equal(0x3000UL, Assert.Single(platform.CompletedWaits).StatusAddress);
        }
        else
        {
            // PD is reserved without ECAP.PDS: invalidation queue error, no status write.
            Assert.Equal(1, iommu.Counters.InvalidationQueueErrors);
            Assert.Equal(0, iommu.Counters.PageRequestDrains);
            Assert.Equal(0, iommu.Counters.WaitDescriptors);
            Assert.Empty(platform.CompletedWaits);
        }
    }

    // ---- The invalidation queue full (qi_submit_sync spins) ----

    [Fact]
    public void R33_full_invalidation_queue_behind_a_held_wait_keeps_submissions_in_order()
    {
        var rig = new VtdRig(FaultPolicy.Hardened);
        var iq = rig.Iommu.InvalidationQueue;
        Assert.Equal(256, iq.Entries);
        var drain = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(drain.Advance(0));
        rig.Iommu.ProcessInvalidationQueue();
        Assert.Equal(1, iq.Count); // the trailing wait, held behind the device-TLB invalidation

        // 300 page group responses: 254 fit behind the wait, 46 wait for room.
        RespondGroups(rig, 0, 100);
        RespondGroups(rig, 100, 100);
        RespondGroups(rig, 200, 100);

        Assert.True(iq.IsFull);
        Assert.Equal(iq.Capacity, iq.Count);
        int fitted = iq.Capacity - 1;
        Assert.Equal(300 - fitted, rig.Driver.WaitingSubmissions);
        Assert.Equal(300 - fitted, rig.Driver.Counters.InvalidationQueueWaits);
        Assert.Equal(300, rig.Driver.Counters.ResponsesSubmitted);
        Assert.Empty(rig.Platform.Responses); // nothing passes the held wait

        // Retrying while the queue is still full changes nothing.
        rig.Driver.RetrySubmissions();
        Assert.Equal(300 - fitted, rig.Driver.WaitingSubmissions);

        var invalidate = Assert.Single(rig.Platform.InvalidateRequests);
        rig.Iommu.OnInvalidationCompletion(new InvalidationCompletion(new RequesterId(DeviceRid), invalidate.Tag));
        Assert.Single(rig.Platform.CompletedWaits);
        Assert.Equal(fitted, rig.Platform.Responses.Count);
        Assert.True(iq.IsEmpty);

        rig.Driver.RetrySubmissions();
        Assert.Equal(0, rig.Driver.WaitingSubmissions);
        Assert.Equal(300 - fitted, iq.Count);
        rig.Iommu.ProcessInvalidationQueue();

        // Nothing lost, nothing reordered, nothing doubled.
        Assert.Equal(Enumerable.Range(0, 300).ToArray(), rig.Platform.Responses.Select(r => (int)r.Index.Value).ToArray());
        Assert.All(rig.Platform.Responses, r => Assert.Equal(ResponseCode.Success, r.Code));
        Assert.True(iq.IsEmpty);
        rig.Driver.OnInvalidationWaitCompleted(rig.Platform.CompletedWaits[0]);
        Assert.True(drain.Advance(10));
    }

    [Fact]
    public void R33_drain_descriptors_that_wait_for_room_are_submitted_in_order_and_complete_the_drain()
    {
        var rig = new VtdRig(FaultPolicy.Linux);
        var iq = rig.Iommu.InvalidationQueue;
        var first = rig.Driver.BeginDrain(rig.Device, DevicePasid, 0);
        Assert.False(first.Advance(0));
        rig.Iommu.ProcessInvalidationQueue();
        RespondGroups(rig, 0, 127);
        RespondGroups(rig, 127, iq.Capacity - 1 - 127);
        Assert.True(iq.IsFull);
        Assert.Equal(0, rig.Driver.WaitingSubmissions);

        // A second drain (the RID) while the queue is full: all four of its descriptors wait.
        var second = rig.Driver.BeginDrain(rig.Device, 0, 10);
        Assert.False(second.Advance(10));
        Assert.Equal(VtdDrainStage.Hardware, second.Stage);
        Assert.Equal(4, rig.Driver.WaitingSubmissions);
        Assert.Equal(4, rig.Driver.Counters.InvalidationQueueWaits);

        CompleteHardwareDrain(rig, first);
        Assert.True(first.Advance(20));
        Assert.True(iq.IsEmpty);
        Assert.False(second.Advance(20));

        rig.Driver.RetrySubmissions();
        Assert.Equal(0, rig.Driver.WaitingSubmissions);
        var queued = Queued(rig.Iommu);
        Assert.Equal(
            [InvalidationWaitDescriptor.Type, IotlbInvalidationDescriptor.Type, DeviceTlbInvalidationDescriptor.Type, InvalidationWaitDescriptor.Type],
            queued.Select(TypeOf).ToArray());
        Assert.Equal(new RequesterId(DeviceRid), DeviceTlbInvalidationDescriptor.Decode(queued[2]).Value.SourceId);
        Assert.Equal(second.StatusAddress, Wait(queued[3]).StatusAddress);

        CompleteHardwareDrain(rig, second);
        Assert.True(second.Advance(30));
        Assert.Equal(2, rig.Platform.CompletedWaits.Count);
        Assert.Equal(iq.Capacity - 1, rig.Platform.Responses.Count);
    }
}
