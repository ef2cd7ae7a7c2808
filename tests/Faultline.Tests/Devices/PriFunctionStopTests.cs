using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

public class PriFunctionStopTests
{
    private static readonly PasidPrefix P = new(new Pasid(5), false, false);
    private static readonly PasidPrefix Q = new(new Pasid(6), false, false);

    [Fact]
    public void H_PCI_19_waiting_stop_completes_only_when_every_group_of_the_pasid_is_answered()
    {
        var rig = Rig.Enabled(16, pagesPerGroup: 2);
        rig.Start(1, 2, prefix: P);
        rig.Start(2, 2, prefix: Q);
        rig.Port.Deny();
        var p = rig.Port.PageRequests.First(r => r.Prefix == P).Index;
        var q = rig.Port.PageRequests.First(r => r.Prefix == Q).Index;

        Assert.True(rig.Function.StopPasid(P.Pasid, PasidStopMode.WaitForResponses, 10));

        Assert.Equal(AccessResult.PasidStopped, rig.ResultOf(1));
        Assert.Null(rig.ResultOf(2)); // H-PCI-19: other PASIDs are unaffected
        Assert.Empty(rig.Observer.Stopped);
        Assert.Equal(1, rig.Function.OutstandingGroupsOf(P.Pasid));

        rig.Port.Now = 20;
        rig.Port.Respond(q, ResponseCode.Success);
        Assert.Empty(rig.Observer.Stopped);
        rig.Port.Now = 30;
        rig.Port.Respond(p, ResponseCode.Success);

        Assert.Equal([(P.Pasid, 30L)], rig.Observer.Stopped);
        Assert.Equal(0, rig.Function.StoppingPasids);
        Assert.DoesNotContain(rig.Port.PageRequests, r => r.IsStopMarker);
        Assert.Equal(2, rig.Port.Grant()); // access 2 retranslates and completes; access 1 is gone
        Assert.Equal(AccessResult.Completed, rig.ResultOf(2));
    }

    [Fact]
    public void H_PCI_19_a_stop_waits_for_the_pasids_translation_requests_to_complete()
    {
        var rig = Rig.Enabled(16);
        rig.Start(1, 3, prefix: P);
        Assert.Equal(3, rig.Port.Unanswered.Count);

        rig.Function.StopPasid(P.Pasid, PasidStopMode.StopMarker, 0);
        Assert.Empty(rig.Observer.Stopped); // non-posted requests for P still out

        rig.Port.Deny();
        Assert.Single(rig.Observer.Stopped);
        Assert.Single(rig.Port.PageRequests, r => r.IsStopMarker);
        Assert.DoesNotContain(rig.Port.PageRequests, r => !r.IsStopMarker); // the dropped access sent nothing
    }

    [Fact]
    public void H_PCI_20_stop_marker_follows_the_pasids_last_page_request_and_the_stop_completes_at_once()
    {
        var rig = Rig.Enabled(16, pagesPerGroup: 4);
        rig.Start(1, 3, prefix: P);
        rig.Port.Deny();
        int sent = rig.Port.PageRequests.Count;

        rig.Function.StopPasid(P.Pasid, PasidStopMode.StopMarker, 5);

        var marker = rig.Port.PageRequests[^1];
        Assert.Equal(sent + 1, rig.Port.PageRequests.Count);
        Assert.True(marker.IsStopMarker);
        Assert.Equal((true, false, false), (marker.Last, marker.Read, marker.Write));
        Assert.Equal(P.Pasid, marker.Prefix!.Value.Pasid);
        Assert.Equal([(P.Pasid, 5L)], rig.Observer.Stopped); // (b): no waiting for the old group's response
        Assert.Equal(1, rig.Function.OutstandingGroupsOf(P.Pasid)); // its index stays reserved until the late response
    }

    [Theory]
    [InlineData(false, 3u)]
    [InlineData(true, 4u)]
    public void H_PCI_21_a_stop_marker_takes_a_credit_only_under_the_switch_and_then_keeps_it(bool consumes, uint outstanding)
    {
        var rig = Rig.Enabled(16, configure: c => c with { StopMarkerConsumesCredit = consumes });
        rig.Start(1, 3, prefix: P);
        rig.Port.Deny();
        var index = rig.Port.PageRequests[0].Index;

        rig.Function.StopPasid(P.Pasid, PasidStopMode.StopMarker, 0);
        Assert.Equal(outstanding, rig.Pri.Outstanding);

        rig.Port.Respond(index, ResponseCode.Success);
        Assert.Equal(outstanding - 3, rig.Pri.Outstanding); // nothing ever answers the marker
    }

    [Fact]
    public void H_PCI_21_a_credit_taking_stop_marker_waits_for_a_free_credit()
    {
        var rig = Rig.Enabled(2, pagesPerGroup: 2, configure: c => c with { StopMarkerConsumesCredit = true });
        rig.Start(1, 2, prefix: P);
        rig.Port.Deny();
        var index = rig.Port.PageRequests[0].Index;
        Assert.Equal(2u, rig.Pri.Outstanding);

        rig.Function.StopPasid(P.Pasid, PasidStopMode.StopMarker, 0);
        Assert.DoesNotContain(rig.Port.PageRequests, r => r.IsStopMarker);
        Assert.Empty(rig.Observer.Stopped);

        rig.Port.Respond(index, ResponseCode.Success);
        Assert.Single(rig.Port.PageRequests, r => r.IsStopMarker);
        Assert.Single(rig.Observer.Stopped);
        Assert.Equal(1u, rig.Pri.Outstanding);
    }

    [Fact]
    public void H_PCI_22_a_late_response_for_an_abandoned_group_is_discarded_silently_and_frees_its_credits()
    {
        var rig = Rig.Enabled(16);
        rig.Start(1, 3, prefix: P);
        rig.Port.Deny();
        var index = rig.Port.PageRequests[0].Index;
        rig.Function.StopPasid(P.Pasid, PasidStopMode.StopMarker, 0);

        rig.Port.Respond(index, ResponseCode.Success);

        Assert.False(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(1, rig.Function.Counters.DiscardedAfterStop);
        Assert.Equal(PrgResponseOutcome.DiscardedAfterStop, rig.Observer.Outcomes[^1]);
        Assert.Equal(0u, rig.Pri.Outstanding);
        Assert.False(rig.Function.IsOutstanding(index));
        Assert.Empty(rig.Port.Unanswered); // no retry for the stopped PASID
    }

    [Fact]
    public void H_PCI_19_new_work_for_a_stopping_pasid_is_refused_and_the_pasid_is_usable_after_the_stop()
    {
        var rig = Rig.Enabled(16);
        rig.Start(1, 1, prefix: P);
        rig.Port.Deny();
        rig.Function.StopPasid(P.Pasid, PasidStopMode.WaitForResponses, 0);
        Assert.False(rig.Function.StopPasid(P.Pasid, PasidStopMode.StopMarker, 0)); // already stopping

        rig.Start(2, 1, prefix: P);
        Assert.Equal(AccessResult.PasidStopped, rig.ResultOf(2));

        rig.Port.Respond(rig.Port.PageRequests[0].Index, ResponseCode.Success);
        Assert.Single(rig.Observer.Stopped);
        rig.Start(3, 1, prefix: P);
        Assert.Null(rig.ResultOf(3));
        rig.Port.Grant();
        Assert.Equal(AccessResult.Completed, rig.ResultOf(3));
    }

    [Fact]
    public void H_PCI_18_an_invalidate_request_drops_the_covered_translations_and_is_completed_in_order()
    {
        var rig = Rig.Enabled(16);
        rig.Start(1, 2, prefix: P, address: 0x40_0000);
        rig.Start(2, 1, prefix: Q, address: 0x40_0000);
        rig.Port.Grant();
        Assert.Equal(3, rig.Function.AtcCount);

        rig.Function.OnInvalidateRequest(new InvalidateRequest(rig.Function.Requester, P.Pasid, 0x40_0000, 0x1000, Tag: 7), 0);

        Assert.Equal(2, rig.Function.AtcCount);
        Assert.Equal([new InvalidationCompletion(rig.Function.Requester, 7)], rig.Port.InvalidationCompletions);
        int asked = rig.Port.TranslationRequests.Count;
        rig.Start(3, 2, prefix: P, address: 0x40_0000); // first page misses again, second still hits
        Assert.Equal(asked + 1, rig.Port.TranslationRequests.Count);
        Assert.Equal(0x40_0000UL, rig.Port.TranslationRequests[^1].Address);
    }
}
