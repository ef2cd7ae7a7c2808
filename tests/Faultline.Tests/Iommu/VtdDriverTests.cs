using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using static Faultline.Tests.Iommu.VtdRig;

namespace Faultline.Tests.Iommu;

public sealed class VtdDriverTests
{
    private const uint Ppr = VtdIommu.PrsPendingPageRequest;
    private const uint Pro = VtdIommu.PrsOverflow;
    private const ushort UnknownRid = 0x0300;

    public static TheoryData<string> BadKinds => ["non-canonical", "privileged-read", "privileged-write", "execute-read", "unknown-rid"];

    private static PageRequest BadRequest(string kind, bool last) => kind switch
    {
        "non-canonical" => Request(last: last, index: 0x21, address: 0x0000_8000_0000_0000),
        "privileged-read" => Request(read: true, last: last, index: 0x22, privileged: true),
        "privileged-write" => Request(read: false, write: true, last: last, index: 0x23, privileged: true),
        "execute-read" => Request(read: true, last: last, index: 0x24, execute: true),
        "unknown-rid" => Request(last: last, index: 0x25, rid: UnknownRid),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static VtdRig RigWithUnknownRid()
    {
        var rig = new VtdRig();
        rig.Iommu.SetContext(new RequesterId(UnknownRid), pageRequestEnable: true); // queued by hardware, unknown to the driver
        return rig;
    }

    [Fact]
    public void R31_ppr_is_acknowledged_before_head_and_tail_are_read()
    {
        var rig = new VtdRig();
        rig.Deliver(Request(index: 1));
        Assert.Equal(1, rig.Platform.Events);
        bool injected = false;
        rig.Handler.OnHandle = _ =>
        {
            if (injected) return;
            injected = true;
            rig.Deliver(Request(index: 2)); // arrives while the thread is in its batch
        };

        Assert.Equal(1, rig.Driver.HandlePageRequests(now: 0));

        // PPR was already clear when the second request landed: it raised an event and PPR stays set.
        Assert.Equal(2, rig.Platform.Events);
        Assert.Equal(Ppr, rig.Iommu.Prs & Ppr);
        Assert.Equal(1, rig.Prq.Count);
        Assert.Equal(1, rig.Driver.HandlePageRequests(now: 0));
        Assert.Equal(2, rig.Handler.Groups.Count);
    }

    [Fact]
    public void R31_head_is_written_once_after_the_batch_and_the_ring_is_empty()
    {
        var rig = new VtdRig();
        rig.Deliver(Request(index: 1), Request(index: 2), Request(index: 3));
        var heads = new List<ulong>();
        rig.Handler.OnHandle = _ => heads.Add(rig.Iommu.Pqh);

        Assert.Equal(3, rig.Driver.HandlePageRequests(now: 0));

        Assert.Equal([0UL, 0UL, 0UL], heads);
        Assert.Equal(96UL, rig.Iommu.Pqh);
        Assert.Equal(rig.Iommu.Pqt, rig.Iommu.Pqh);
        Assert.True(rig.Prq.IsEmpty);
        Assert.Equal(0u, rig.Iommu.Prs);
    }

    [Fact]
    public void R31_reported_fault_carries_the_descriptor_fields()
    {
        var rig = new VtdRig();
        rig.Deliver(
            Request(read: false, write: true, last: false, index: 0x1AB, address: 0x7FFF_0000_3000, execute: true),
            Request(read: true, write: false, last: true, index: 0x1AB, address: 0xFFFF_8000_0000_1000));

        rig.Driver.HandlePageRequests(now: 0);

        var faults = Assert.Single(rig.Handler.Faults);
        Assert.Equal(
            [
                new Fault(FaultFlags.PasidValid | FaultFlags.ResponseNeedsPasid, DevicePasid, 0x1AB,
                    FaultPermissions.Write | FaultPermissions.Exec, 0x7FFF_0000_3000),
                new Fault(FaultFlags.PasidValid | FaultFlags.ResponseNeedsPasid | FaultFlags.LastPage, DevicePasid, 0x1AB,
                    FaultPermissions.Read, 0xFFFF_8000_0000_1000),
            ],
            faults);
    }

    [Fact]
    public void R31_request_without_pasid_is_reported_at_the_rid_without_pasid_flags()
    {
        var rig = new VtdRig();
        rig.Deliver(Request(read: true, write: true, index: 7, pasid: null));
        rig.Driver.HandlePageRequests(now: 0);
        var fault = Assert.Single(Assert.Single(rig.Handler.Faults));
        Assert.Equal(new Fault(FaultFlags.LastPage, 0, 7, FaultPermissions.Read | FaultPermissions.Write, 0x1000), fault);
    }

    [Fact]
    public void R31_stop_marker_is_dropped_without_a_response()
    {
        var rig = new VtdRig();
        rig.Deliver(PageRequest.StopMarker(new RequesterId(DeviceRid), new Pasid(DevicePasid), new PrgIndex(3)));

        Assert.Equal(1, rig.Driver.HandlePageRequests(now: 0));
        rig.Iommu.ProcessInvalidationQueue();

        Assert.Empty(rig.Handler.Groups);
        Assert.Empty(rig.Platform.Responses);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);
        Assert.Equal(1, rig.Driver.Counters.StopMarkersDropped);
        Assert.Equal(0, rig.Driver.ReportSequence);
        Assert.Equal(0, rig.Framework.Counters.Reports);
    }

    [Theory]
    [MemberData(nameof(BadKinds))]
    public void R31_bad_last_request_is_answered_invalid(string kind)
    {
        var rig = RigWithUnknownRid();
        var request = BadRequest(kind, last: true);
        rig.Deliver(request);

        rig.Driver.HandlePageRequests(now: 0);
        var descriptor = Assert.Single(rig.Submitted());
        rig.Iommu.ProcessInvalidationQueue();

        Assert.Equal(new PageGroupResponseDescriptor(request.Requester, true, new Pasid(DevicePasid), ResponseCode.InvalidRequest, false, request.Index), descriptor);
        Assert.Equal(new PrgResponse(request.Requester, request.Index, ResponseCode.InvalidRequest, new Pasid(DevicePasid)), Assert.Single(rig.Platform.Responses));
        Assert.Empty(rig.Handler.Groups);
        Assert.Equal(0, rig.Framework.Counters.Reports);
        Assert.Equal(0, rig.Driver.ReportSequence);
        Assert.Equal(1, rig.Driver.Counters.BadRequestsAnswered);
    }

    [Theory]
    [MemberData(nameof(BadKinds))]
    public void R31_bad_non_last_request_is_dropped(string kind)
    {
        var rig = RigWithUnknownRid();
        rig.Deliver(BadRequest(kind, last: false));

        rig.Driver.HandlePageRequests(now: 0);
        rig.Iommu.ProcessInvalidationQueue();

        Assert.Empty(rig.Platform.Responses);
        Assert.Empty(rig.Handler.Groups);
        Assert.Equal(0, rig.Device.PartialCount);
        Assert.Equal(0, rig.Framework.Counters.Reports);
        Assert.Equal(1, rig.Driver.Counters.BadRequestsDropped);
        Assert.True(rig.Prq.IsEmpty);
    }

    [Fact]
    public void H_VTD_9_bad_non_last_request_with_private_data_is_answered_and_echoes_it()
    {
        var rig = new VtdRig();
        rig.Produce(new PageRequestDescriptor(new RequesterId(DeviceRid), true, new Pasid(DevicePasid), false, true, true, false, false,
            new PrgIndex(0x31), 0x4000, PrivateDataPresent: true, 0xDEAD_BEEF_0000_0001, 0xCAFE_F00D_0000_0002));

        rig.Driver.HandlePageRequests(now: 0);

        Assert.Equal(
            new PageGroupResponseDescriptor(new RequesterId(DeviceRid), true, new Pasid(DevicePasid), ResponseCode.InvalidRequest, false,
                new PrgIndex(0x31), PrivateDataPresent: true, 0xDEAD_BEEF_0000_0001, 0xCAFE_F00D_0000_0002),
            Assert.Single(rig.Submitted()));
    }

    /// <summary>
    /// <c>prq_event_thread</c> (intel/prq.c, v6.6–v6.18) reads the fields it uses and checks neither QW0[7:0] (the
    /// type) nor reserved bits: such a descriptor is a page request like any other, never dropped unanswered.
    /// </summary>
    [Theory]
    [InlineData(0x00UL)]              // type 0
    [InlineData(0x07UL)]              // another type
    [InlineData(0x01UL | (1UL << 12))] // type 1, reserved bit 12
    [InlineData(0x01UL | (1UL << 60))] // type 1, reserved bit 60
    public void R31_a_descriptor_with_another_type_or_reserved_bits_is_handled_by_its_fields(ulong qw0Bits)
    {
        var rig = new VtdRig();
        var bytes = new byte[PageRequestDescriptor.Size];
        new PageRequestDescriptor(new RequesterId(DeviceRid), true, new Pasid(DevicePasid), false, false, true, false, true,
            new PrgIndex(0x33), 0x4000, false, 0, 0).Encode(bytes);
        ulong qw0 = (System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(bytes) & ~0xFFUL) | qw0Bits;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(bytes, qw0);
        Assert.False(PageRequestDescriptor.Decode(bytes).IsOk);
        Assert.Equal(RingWrite.Written, rig.Prq.TryProduce(bytes));

        rig.Driver.HandlePageRequests(now: 0);

        Assert.Equal(1, rig.Driver.Counters.UndefinedBitsIgnored);
        var fault = Assert.Single(rig.Handler.Faults).Single();
        Assert.Equal((0x33u, 0x4000UL, DevicePasid), (fault.GroupId, fault.Address, fault.Pasid));
    }

    [Fact]
    public void H_VTD_12_canonical_high_address_and_execute_with_write_are_not_bad()
    {
        var rig = new VtdRig();
        rig.Deliver(
            Request(read: false, write: true, index: 1, address: 0xFFFF_8000_0000_0000, execute: true),
            Request(read: false, write: true, index: 2, address: 0x0000_7FFF_FFFF_F000, privileged: false));
        rig.Driver.HandlePageRequests(now: 0);
        Assert.Equal(2, rig.Handler.Groups.Count);
        Assert.Empty(rig.Submitted());
    }

    [Fact]
    public void R31_report_sequence_counts_only_reported_entries()
    {
        var rig = RigWithUnknownRid();
        rig.Deliver(
            Request(index: 1),
            PageRequest.StopMarker(new RequesterId(DeviceRid), new Pasid(DevicePasid), new PrgIndex(2)),
            BadRequest("execute-read", last: true),
            Request(last: false, index: 4),
            BadRequest("unknown-rid", last: false),
            Request(last: true, index: 4));

        Assert.Equal(6, rig.Driver.HandlePageRequests(now: 0));

        Assert.Equal(3, rig.Driver.ReportSequence);
        Assert.Equal(3, rig.Driver.Counters.Reported);
        Assert.Equal(6, rig.Driver.Counters.Descriptors);
        Assert.Equal(3, rig.Framework.Counters.Reports);
        Assert.Equal(2, rig.Handler.Groups.Count);
    }

    [Fact]
    public void R32_overflow_with_the_ring_emptied_discards_partials_and_clears_pro()
    {
        var rig = new VtdRig();
        rig.Deliver(Request(last: false, index: 5));
        rig.Driver.HandlePageRequests(now: 0);
        Assert.Equal(1, rig.Device.PartialCount);

        while (!rig.Prq.IsFull) rig.Deliver(PageRequest.StopMarker(new RequesterId(DeviceRid), new Pasid(DevicePasid), new PrgIndex(6)));
        Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: false, index: 5)));
        Assert.Equal(Pro, rig.Iommu.Prs & Pro);

        Assert.Equal(127, rig.Driver.HandlePageRequests(now: 0));

        Assert.Equal(0, rig.Device.PartialCount);
        Assert.Equal(0u, rig.Iommu.Prs & Pro);
        Assert.Equal(1, rig.Driver.Counters.OverflowsCleared);
        Assert.Equal(1, rig.Framework.Counters.DiscardedPartials);
        Assert.Equal(RingWrite.Written, rig.Iommu.OnPageRequest(Request(last: true, index: 5)));
    }

    [Fact]
    public void R32_overflow_with_entries_still_queued_keeps_pro_and_partials()
    {
        var rig = new VtdRig(autoResponse: DiscardAutoResponse.None);
        rig.Deliver(Request(last: false, index: 5));
        rig.Driver.HandlePageRequests(now: 0);
        Assert.Equal(1, rig.Device.PartialCount);

        rig.Deliver(Request(last: true, index: 7));
        bool injected = false;
        rig.Handler.OnHandle = _ =>
        {
            if (injected) return;
            injected = true;
            // The hardware keeps writing while the thread works: fill the ring and overflow it.
            while (!rig.Prq.IsFull) rig.Deliver(PageRequest.StopMarker(new RequesterId(DeviceRid), new Pasid(DevicePasid), new PrgIndex(6)));
            Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: false, index: 8)));
        };

        Assert.Equal(1, rig.Driver.HandlePageRequests(now: 0));

        Assert.NotEqual(rig.Iommu.Pqh, rig.Iommu.Pqt);
        Assert.Equal(Pro, rig.Iommu.Prs & Pro);
        Assert.Equal(1, rig.Device.PartialCount);
        Assert.Equal(1, rig.Driver.Counters.OverflowsDeferred);
        Assert.Equal(0, rig.Driver.Counters.OverflowsCleared);

        // The next interrupt empties the ring and only then clears PRO and drops the partials.
        Assert.Equal(126, rig.Driver.HandlePageRequests(now: 0));
        Assert.Equal(0u, rig.Iommu.Prs & Pro);
        Assert.Equal(0, rig.Device.PartialCount);
        Assert.Equal(1, rig.Driver.Counters.OverflowsCleared);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void R22_page_response_builds_a_type_9_descriptor_from_the_request(bool withPasid)
    {
        var rig = new VtdRig();
        rig.Deliver(Request(last: false, index: 0x1AB, pasid: withPasid ? DevicePasid : null),
            Request(last: true, index: 0x1AB, address: 0x2000, pasid: withPasid ? DevicePasid : null));
        rig.Driver.HandlePageRequests(now: 0);
        Assert.Equal(2, Assert.Single(rig.Handler.Faults).Length);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);

        rig.Respond(0, PageResponseCode.Success);

        var raw = rig.Iommu.InvalidationQueue.At(rig.Iommu.InvalidationQueue.Consumer).ToArray();
        Assert.Equal(0x9, raw[0] & 0xF);
        Assert.Equal(0, (raw[1] >> 1) & 0x7); // type-high QW0[11:9]
        Assert.Equal(
            new PageGroupResponseDescriptor(new RequesterId(DeviceRid), withPasid, new Pasid(withPasid ? DevicePasid : 0), ResponseCode.Success,
                false, new PrgIndex(0x1AB)), // LPIG: reserved since VT-d 4.0, left clear from v6.18 (a v6.17 pin sets it: R22)
            Assert.Single(rig.Submitted()));
        Assert.Equal(1, rig.Platform.InvalidationsQueued);

        rig.Iommu.ProcessInvalidationQueue();
        Assert.Equal(new PrgResponse(new RequesterId(DeviceRid), new PrgIndex(0x1AB), ResponseCode.Success, withPasid ? new Pasid(DevicePasid) : null),
            Assert.Single(rig.Platform.Responses));
    }

    [Theory]
    [InlineData("linux", PageResponseCode.Success, 0x0)]
    [InlineData("linux", PageResponseCode.Invalid, 0x1)]
    [InlineData("linux", PageResponseCode.Failure, 0x2)]
    [InlineData("hardened", PageResponseCode.Success, 0x0)]
    [InlineData("hardened", PageResponseCode.Invalid, 0x1)]
    [InlineData("hardened", PageResponseCode.Failure, 0xF)]
    public void R22_POL_11_response_code_on_the_wire(string policy, PageResponseCode code, int wire)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        rig.Deliver(Request(index: 0x33));
        rig.Driver.HandlePageRequests(now: 0);

        rig.Respond(0, code);

        var raw = rig.Iommu.InvalidationQueue.At(rig.Iommu.InvalidationQueue.Consumer).ToArray();
        Assert.Equal(wire, raw[1] >> 4); // QW0[15:12]
        rig.Iommu.ProcessInvalidationQueue();
        Assert.Equal((ResponseCode)wire, Assert.Single(rig.Platform.Responses).Code);
        Assert.Equal(wire == 0x2, Assert.Single(rig.Platform.Responses).Code.IsReserved());
    }

    [Theory]
    [InlineData("hardened", true)]
    [InlineData("linux", false)]
    [InlineData("linux@6.6", true)]   // intel_iommu_page_response echoed it up to v6.9 ...
    [InlineData("linux@6.9", true)]
    [InlineData("linux@6.10", false)] // ... and zeroes it from v6.10 (621b7e54f288)
    public void H_VTD_9_page_response_echoes_private_data_under_hardened_and_up_to_v6_9_and_zeroes_it_from_v6_10(string policy, bool echoed)
    {
        var rig = new VtdRig(FaultPolicy.ByName(policy));
        rig.Produce(new PageRequestDescriptor(new RequesterId(DeviceRid), true, new Pasid(DevicePasid), false, false, true, false, true,
            new PrgIndex(0x44), 0x5000, PrivateDataPresent: true, 0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210));
        rig.Driver.HandlePageRequests(now: 0);

        rig.Respond(0, PageResponseCode.Success);

        var descriptor = Assert.Single(rig.Submitted());
        Assert.Equal(echoed, descriptor.PrivateDataPresent);
        Assert.Equal(echoed ? 0x0123_4567_89AB_CDEFUL : 0, descriptor.PrivateData0);
        Assert.Equal(echoed ? 0xFEDC_BA98_7654_3210UL : 0, descriptor.PrivateData1);
    }

    [Fact]
    public void H_VTD_14_add_device_is_refused_without_page_drain_support()
    {
        var platform = new RecordingVtdPlatform();
        var iommu = new VtdIommu(new VtdConfig { Name = "dmar1", PageRequestQueueOrder = 0, PageDrainSupported = false }, platform);
        var driver = new VtdDriver(iommu, new FaultFramework(FaultPolicy.Hardened));

        var (status, device, table) = driver.AddDevice(VtdRig.ProbedFunction(driver, DeviceRid), "dev0");

        Assert.Equal(FaultStatus.NoDevice, status);
        Assert.Null(device);
        Assert.Null(table);
        Assert.False(iommu.HasContext(new RequesterId(DeviceRid)));
        Assert.Empty(driver.Queue.Devices);
    }

    [Fact]
    public void R3_add_device_sets_pre_and_refuses_a_second_probe()
    {
        var rig = new VtdRig();
        Assert.True(rig.Iommu.HasContext(new RequesterId(DeviceRid)));
        Assert.Same(rig.Driver.Queue, rig.Device.Queue);
        Assert.Equal(FaultStatus.Busy, rig.Driver.AddDevice(rig.Function, "again").Status);
    }

    [Fact]
    public void R34_iopf_is_refused_for_a_function_whose_pri_was_not_enabled()
    {
        var rig = new VtdRig();
        var unprobed = VtdRig.ProbedFunction(rig.Driver, 0x0300, probe: false);
        Assert.Equal(FaultStatus.NoDevice, rig.Driver.AddDevice(unprobed, "unprobed").Status);
        Assert.False(rig.Iommu.HasContext(new RequesterId(0x0300)));

        var probed = VtdRig.ProbedFunction(rig.Driver, 0x0308);
        Assert.True(probed.Pri.Enabled);
        Assert.Equal(Math.Min(probed.Pri.Capacity, (uint)rig.Prq.Capacity), probed.Pri.Allocation); // R34: min(Capacity, PRQ depth)
    }
}
