using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using static Faultline.Tests.Iommu.VtdRig;

namespace Faultline.Tests.Iommu;

public sealed class VtdIommuTests
{
    private const uint Ppr = VtdIommu.PrsPendingPageRequest;
    private const uint Pro = VtdIommu.PrsOverflow;

    [Fact]
    public void H_VTD_1_request_without_context_is_not_queued_and_only_a_last_one_is_answered_invalid()
    {
        var rig = new VtdRig();
        const ushort stranger = 0x0300;

        Assert.Null(rig.Iommu.OnPageRequest(Request(rid: stranger, last: false, index: 4)));
        Assert.Empty(rig.Platform.Responses);

        Assert.Null(rig.Iommu.OnPageRequest(Request(rid: stranger, last: true, index: 4)));
        var response = Assert.Single(rig.Platform.Responses);
        Assert.Equal(new PrgResponse(new RequesterId(stranger), new PrgIndex(4), ResponseCode.InvalidRequest, new Pasid(DevicePasid)), response);

        Assert.Null(rig.Iommu.OnPageRequest(PageRequest.StopMarker(new RequesterId(stranger), new Pasid(DevicePasid), new PrgIndex(4))));
        Assert.Single(rig.Platform.Responses);

        Assert.True(rig.Prq.IsEmpty);
        Assert.Equal(0, rig.Platform.Events);
        Assert.Equal(0u, rig.Iommu.Prs);
        Assert.Equal(3, rig.Iommu.Counters.RefusedAtGate);
    }

    [Fact]
    public void H_VTD_1_request_with_pre_clear_is_not_queued()
    {
        var rig = new VtdRig();
        const ushort disabled = 0x0308;
        rig.Iommu.SetContext(new RequesterId(disabled), pageRequestEnable: false);

        Assert.Null(rig.Iommu.OnPageRequest(Request(rid: disabled, last: false)));
        Assert.Null(rig.Iommu.OnPageRequest(Request(rid: disabled, last: true, index: 9, pasid: null)));

        var response = Assert.Single(rig.Platform.Responses);
        Assert.Equal(ResponseCode.InvalidRequest, response.Code);
        Assert.Equal(9, response.Index.Value);
        Assert.Null(response.Pasid);
        Assert.True(rig.Prq.IsEmpty);
        Assert.Equal(0, rig.Platform.Events);
    }

    [Fact]
    public void H_VTD_1_unit_without_page_request_support_queues_nothing()
    {
        var platform = new RecordingVtdPlatform();
        var iommu = new VtdIommu(new VtdConfig { Name = "dmar9", PageRequestQueueOrder = 0, PageRequestsSupported = false }, platform);
        iommu.SetContext(new RequesterId(DeviceRid), pageRequestEnable: true);

        Assert.Null(iommu.OnPageRequest(Request()));
        Assert.True(iommu.PageRequestQueue.IsEmpty);
        Assert.Equal(ResponseCode.InvalidRequest, Assert.Single(platform.Responses).Code);
    }

    [Fact]
    public void H_VTD_2_descriptor_is_in_memory_and_pqt_moved_when_the_event_fires()
    {
        var rig = new VtdRig();
        var request = Request(read: true, write: true, last: false, index: 0x1AB, address: 0x7000_1234_5000, execute: false);
        ulong oldTail = rig.Iommu.Pqt;
        bool seen = false;
        rig.Platform.OnEvent = iommu =>
        {
            seen = true;
            Assert.Equal(oldTail + PageRequestDescriptor.Size, iommu.Pqt);
            Assert.Equal(Ppr, iommu.Prs & Ppr);
            Assert.Equal(PageRequestDescriptor.From(request), PageRequestDescriptor.Decode(iommu.ReadPageRequestQueue(oldTail)).Value);
        };

        Assert.Equal(RingWrite.Written, rig.Iommu.OnPageRequest(request));
        Assert.True(seen);
        Assert.Equal(PageRequestDescriptor.From(request), PageRequestDescriptor.Decode(rig.Iommu.ReadPageRequestQueue(oldTail)).Value);
    }

    [Fact]
    public void H_VTD_6_event_only_when_ppr_and_pro_were_clear()
    {
        var rig = new VtdRig();
        rig.Deliver(Request(index: 1));
        Assert.Equal(1, rig.Platform.Events);
        rig.Deliver(Request(index: 2));
        Assert.Equal(1, rig.Platform.Events);

        rig.Iommu.WritePrs(Ppr);
        rig.Deliver(Request(index: 3));
        Assert.Equal(2, rig.Platform.Events);
    }

    [Fact]
    public void H_VTD_6_masked_event_is_held_in_ip_and_delivered_on_unmask()
    {
        var rig = new VtdRig();
        rig.Iommu.SetEventMask(true);
        rig.Deliver(Request(index: 1));
        Assert.Equal(0, rig.Platform.Events);
        Assert.True(rig.Iommu.EventPending);

        rig.Iommu.SetEventMask(false);
        Assert.Equal(1, rig.Platform.Events);
        Assert.False(rig.Iommu.EventPending);

        rig.Iommu.SetEventMask(true);
        rig.Iommu.SetEventMask(false);
        Assert.Equal(1, rig.Platform.Events);
    }

    [Fact]
    public void H_VTD_3_full_queue_latches_pro_and_attempts_an_event()
    {
        var rig = new VtdRig();
        rig.Fill();
        Assert.Equal(127, rig.Prq.Count);
        Assert.Equal(rig.Iommu.Pqh, (rig.Iommu.Pqt + 32) % (ulong)rig.Prq.SizeInBytes);
        rig.Iommu.WritePrs(Ppr);
        int events = rig.Platform.Events;
        ulong tail = rig.Iommu.Pqt;

        Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: false)));
        Assert.Equal(Pro, rig.Iommu.Prs & Pro);
        Assert.Equal(tail, rig.Iommu.Pqt);
        Assert.Equal(events + 1, rig.Platform.Events);
        Assert.Equal(1, rig.Iommu.Counters.DiscardedFull);
    }

    [Fact]
    public void H_VTD_4_while_pro_is_set_requests_are_discarded_even_with_space_and_raise_no_event()
    {
        var rig = new VtdRig(autoResponse: DiscardAutoResponse.None);
        rig.Fill();
        Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: false)));
        Assert.True(rig.Iommu.WritePqh(rig.Iommu.Pqt));
        rig.Iommu.WritePrs(Ppr);
        int events = rig.Platform.Events;

        Assert.Equal(RingWrite.DiscardedWhileOverflowed, rig.Iommu.OnPageRequest(Request(last: false)));
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, rig.Iommu.OnPageRequest(Request(last: true)));
        Assert.True(rig.Prq.IsEmpty);
        Assert.Equal(events, rig.Platform.Events);
        Assert.Equal(0u, rig.Iommu.Prs & Ppr);
        Assert.Equal(2, rig.Iommu.Counters.DiscardedWhileOverflowed);

        rig.Iommu.WritePrs(Pro);
        Assert.Equal(RingWrite.Written, rig.Iommu.OnPageRequest(Request(last: true)));
        Assert.Equal(events + 1, rig.Platform.Events);
    }

    [Fact]
    public void H_VTD_5_discarded_last_request_is_auto_answered_success_by_default()
    {
        var rig = new VtdRig();
        rig.Fill();
        Assert.Empty(rig.Platform.Responses);

        Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: true, index: 0x11)));
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, rig.Iommu.OnPageRequest(Request(last: false, index: 0x12)));
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, rig.Iommu.OnPageRequest(Request(last: true, index: 0x13, pasid: null)));
        Assert.Equal(RingWrite.DiscardedWhileOverflowed,
            rig.Iommu.OnPageRequest(PageRequest.StopMarker(new RequesterId(DeviceRid), new Pasid(DevicePasid), new PrgIndex(0x14))));

        Assert.Equal(
            [
                new PrgResponse(new RequesterId(DeviceRid), new PrgIndex(0x11), ResponseCode.Success, new Pasid(DevicePasid)),
                new PrgResponse(new RequesterId(DeviceRid), new PrgIndex(0x13), ResponseCode.Success, null),
            ],
            rig.Platform.Responses);
        Assert.Equal(2, rig.Iommu.Counters.AutoResponses);
    }

    [Fact]
    public void H_VTD_5_switch_none_never_auto_answers()
    {
        var rig = new VtdRig(autoResponse: DiscardAutoResponse.None);
        rig.Fill();
        Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: true)));
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, rig.Iommu.OnPageRequest(Request(last: true)));
        Assert.Empty(rig.Platform.Responses);
        Assert.Equal(0, rig.Iommu.Counters.AutoResponses);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void H_VTD_10_prg_response_carries_the_pasid_iff_pasid_present(bool pasidPresent)
    {
        var rig = new VtdRig();
        var descriptor = new PageGroupResponseDescriptor(new RequesterId(DeviceRid), pasidPresent, new Pasid(0xABCDE),
            ResponseCode.InvalidRequest, true, new PrgIndex(0x1FF));
        var bytes = new byte[PageGroupResponseDescriptor.Size];
        descriptor.Encode(bytes);
        Assert.True(rig.Iommu.SubmitInvalidation(bytes));
        Assert.Equal(1, rig.Platform.InvalidationsQueued);
        Assert.Empty(rig.Platform.Responses);

        rig.Iommu.ProcessInvalidationQueue();
        Assert.Equal(
            new PrgResponse(new RequesterId(DeviceRid), new PrgIndex(0x1FF), ResponseCode.InvalidRequest, pasidPresent ? new Pasid(0xABCDE) : null),
            Assert.Single(rig.Platform.Responses));
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);
    }

    [Fact]
    public void H_VTD_10_malformed_page_group_response_is_not_sent_and_other_descriptors_are_skipped()
    {
        var rig = new VtdRig();
        var reserved = new byte[32];
        reserved[0] = 0x9;
        reserved[8] = 0x1; // QW1 bit 0 is reserved
        var wait = new byte[32];
        wait[0] = 0x5; // an Invalidation Wait: not a page group response
        Assert.True(rig.Iommu.SubmitInvalidation(reserved));
        Assert.True(rig.Iommu.SubmitInvalidation(wait));

        rig.Iommu.ProcessInvalidationQueue();
        Assert.Empty(rig.Platform.Responses);
        Assert.Equal(1, rig.Iommu.Counters.InvalidationQueueErrors);
        Assert.Equal(2, rig.Iommu.Counters.InvalidationDescriptors);
        Assert.True(rig.Iommu.InvalidationQueue.IsEmpty);
    }

    [Fact]
    public void H_VTD_7_pqh_write_accepts_only_aligned_offsets_up_to_pqt()
    {
        var rig = new VtdRig();
        rig.Deliver(Request(index: 1), Request(index: 2), Request(index: 3));
        Assert.Equal(0UL, rig.Iommu.Pqh);
        Assert.Equal(96UL, rig.Iommu.Pqt);

        Assert.False(rig.Iommu.WritePqh(16));
        Assert.False(rig.Iommu.WritePqh(128));
        Assert.False(rig.Iommu.WritePqh((ulong)rig.Prq.SizeInBytes));
        Assert.Equal(0UL, rig.Iommu.Pqh);

        Assert.True(rig.Iommu.WritePqh(64));
        Assert.Equal(64UL, rig.Iommu.Pqh);
        Assert.Equal(1, rig.Prq.Count);
        Assert.False(rig.Iommu.WritePqh(32), "PQH cannot move back behind itself");
        Assert.True(rig.Iommu.WritePqh(96));
        Assert.True(rig.Prq.IsEmpty);
        Assert.Throws<ArgumentOutOfRangeException>(() => rig.Iommu.ReadPageRequestQueue(96).ToArray());
    }

    [Fact]
    public void H_VTD_7_prs_is_write_one_to_clear()
    {
        var rig = new VtdRig();
        rig.Fill();
        Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(last: false)));
        Assert.Equal(Ppr | Pro, rig.Iommu.Prs);

        rig.Iommu.WritePrs(0);
        Assert.Equal(Ppr | Pro, rig.Iommu.Prs);
        rig.Iommu.WritePrs(Ppr);
        Assert.Equal(Pro, rig.Iommu.Prs);
        rig.Iommu.WritePrs(Pro);
        Assert.Equal(0u, rig.Iommu.Prs);
        Assert.False(rig.Prq.Overflowed);
    }
}
