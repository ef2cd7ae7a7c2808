using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>What the function does with PRG Responses: H-PCI-6..10.</summary>
public sealed class PriFunctionResponseTests
{
    [Fact]
    public void H_PCI_6_OneResponseToTheIndexAnswersTheWholeGroupAndOnlyThatGroup()
    {
        // Host side (only L = 1 is answered) is not observable on the function; what is: the
        // function never waits for an answer per L = 0 request, and only its index answers a group.
        var rig = Rig.Enabled(32, pagesPerGroup: 3);
        rig.Start(1, 3);
        rig.Start(2, 2);
        rig.Port.Deny();
        var a = rig.Port.PageRequests[0].Index;
        var b = rig.Port.PageRequests[3].Index;
        Assert.NotEqual(a, b);
        Assert.Equal(5u, rig.Pri.Outstanding);

        rig.Port.Respond(b, ResponseCode.Success);
        Assert.True(rig.Function.IsOutstanding(a));
        Assert.False(rig.Function.IsOutstanding(b));
        Assert.Equal(3u, rig.Pri.Outstanding);
        Assert.Equal([rig.Port.PageRequests[3].PageAddress, rig.Port.PageRequests[4].PageAddress],
            rig.Port.Unanswered.Select(t => t.Address)); // only b's pages are retried

        rig.Port.Respond(a, ResponseCode.Success); // one response for 2 × L=0 + 1 × L=1
        Assert.Equal(0u, rig.Pri.Outstanding);
        Assert.Equal(0, rig.Function.OutstandingGroups);
        Assert.Equal([PrgResponseOutcome.Matched, PrgResponseOutcome.Matched], rig.Observer.Outcomes);
        rig.Port.Grant();
        Assert.Equal(AccessResult.Completed, rig.ResultOf(1));
        Assert.Equal(AccessResult.Completed, rig.ResultOf(2));
    }

    [Fact]
    public void H_PCI_7_SuccessRetranslatesTheGroupsPages()
    {
        var rig = Rig.Enabled(32, pagesPerGroup: 4);
        rig.Start(1, 3, write: true);
        rig.Port.Deny();
        Assert.Equal(3, rig.Port.TranslationRequests.Count);
        Assert.All(rig.Port.PageRequests, r => Assert.True(r.Write && !r.Read));

        rig.Port.Respond(rig.Port.PageRequests[0].Index, ResponseCode.Success);
        var retries = rig.Port.TranslationRequests.Skip(3).ToList();
        Assert.Equal(rig.Port.PageRequests.Select(r => r.PageAddress), retries.Select(t => t.Address));
        Assert.All(retries, t => Assert.True(t.WriteWanted));
        Assert.Equal(3, rig.Function.Counters.Retries);
        Assert.Null(rig.ResultOf(1));

        rig.Port.Grant();
        Assert.Equal(AccessResult.Completed, rig.ResultOf(1));
        Assert.Equal(3, rig.Port.PageRequests.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void H_PCI_7_SuccessWithoutMappingLoopsUntilRetryLimit(int retryLimit)
    {
        var rig = Rig.Enabled(32, configure: c => c with { RetryLimit = retryLimit });
        rig.Start(1, 1);
        int loops = 0;
        while (rig.ResultOf(1) is null && loops++ < 100)
        {
            rig.Port.Deny();
            if (rig.ResultOf(1) is not null) break;
            rig.Port.Respond(rig.Port.PageRequests[^1].Index, ResponseCode.Success);
        }

        Assert.Equal(AccessResult.RetryLimit, rig.ResultOf(1));
        // The first page request plus one per allowed retry, each after a new translation.
        Assert.Equal(retryLimit + 1, rig.Port.PageRequests.Count);
        Assert.Equal(retryLimit + 2, rig.Port.TranslationRequests.Count);
        Assert.All(rig.Port.PageRequests, r => Assert.Equal(Rig.Base + (1UL << 20), r.PageAddress));
        Assert.Equal(0u, rig.Pri.Outstanding);
    }

    [Fact]
    public void H_PCI_8_InvalidRequestFreesCreditsFailsTheAccessAndDoesNotRetry()
    {
        var rig = Rig.Enabled(2, pagesPerGroup: 2);
        rig.Start(1, 4);
        rig.Start(2, 1);
        rig.Port.Deny();
        Assert.Equal(2, rig.Port.PageRequests.Count);
        int translations = rig.Port.TranslationRequests.Count;

        rig.Port.Respond(rig.Port.PageRequests[0].Index, ResponseCode.InvalidRequest);

        Assert.Equal(AccessResult.InvalidRequest, rig.ResultOf(1));
        Assert.Equal(translations, rig.Port.TranslationRequests.Count); // no retry
        // Access 1's held pages are dropped with it; access 2 gets the freed credits.
        var sent = rig.Port.Since(2);
        Assert.Single(sent);
        Assert.Equal(Rig.Base + (2UL << 20), sent[0].PageAddress);
        Assert.Equal(1u, rig.Pri.Outstanding);
        Assert.False(rig.Pri.ResponseFailure);
        Assert.Equal(1, rig.Function.Counters.ResponsesInvalid);
    }

    [Theory]
    [InlineData(0xF)]
    [InlineData(0x2)]
    [InlineData(0xE)]
    public void H_PCI_9_ResponseFailureAndReservedCodesStopPri(int wire)
    {
        var code = ResponseCodes.FromWire(wire);
        var rig = Rig.Enabled(4, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Start(2, 2);
        rig.Start(3, 1); // held: no credit left
        rig.Port.Deny();
        Assert.Equal(4, rig.Port.PageRequests.Count);
        var a = rig.Port.PageRequests[0].Index;
        var b = rig.Port.PageRequests[2].Index;

        rig.Port.Respond(a, code);

        Assert.True(rig.Pri.ResponseFailure);
        Assert.Equal(PriCapability.StatusResponseFailure, rig.ReadPri(PriCapability.StatusOffset) & PriCapability.StatusResponseFailure);
        Assert.Equal(AccessResult.ResponseFailure, rig.ResultOf(1));
        Assert.Equal(AccessResult.ResponseFailure, rig.ResultOf(2));
        Assert.Equal(AccessResult.ResponseFailure, rig.ResultOf(3));
        Assert.Equal(4, rig.Port.PageRequests.Count); // the held page was not sent
        Assert.Equal(1, rig.Function.Counters.ResponseFailureEvents);

        // No further page requests.
        rig.Start(4, 1);
        rig.Port.Deny();
        Assert.Equal(4, rig.Port.PageRequests.Count);
        Assert.Equal(AccessResult.ResponseFailure, rig.ResultOf(4));

        // Later responses are ignored, even for a group still outstanding.
        uint outstanding = rig.Pri.Outstanding;
        rig.Port.Respond(b, ResponseCode.Success);
        rig.Port.Respond(400, ResponseCode.Success);
        Assert.Equal(2, rig.Function.Counters.IgnoredResponses);
        Assert.Equal(outstanding, rig.Pri.Outstanding);
        Assert.False(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(PrgResponseOutcome.IgnoredAfterFailure, rig.Observer.Outcomes[^1]);
        Assert.Empty(rig.Port.Unanswered); // nothing retried

        // Disable, reset, enable: PRI works again.
        rig.WritePri(PriCapability.ControlOffset, 0);
        Assert.True(rig.Pri.ResponseFailure);
        rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlReset);
        Assert.NotEqual(ConfigWriteEffect.ProtocolViolation, rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlEnable) & ConfigWriteEffect.ProtocolViolation);
        Assert.False(rig.Pri.ResponseFailure);
        Assert.Equal(0, rig.Function.ConfigViolations);
        rig.Start(5, 1);
        rig.Port.Deny();
        Assert.Equal(5, rig.Port.PageRequests.Count);
        Assert.Equal(1u, rig.Pri.Outstanding);
    }

    [Theory]
    [InlineData(ResponseCode.Success)]
    [InlineData(ResponseCode.InvalidRequest)]
    public void H_PCI_10_ResponseForAnIndexNotOutstandingSetsUprgiOnly(ResponseCode code)
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Port.Deny();
        var live = rig.Port.PageRequests[0].Index;
        var stray = PrgIndex.Create((live.Value + 7) & PrgIndex.Mask);

        rig.Port.Respond(stray, code);

        Assert.True(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(PriCapability.StatusUnexpectedPrgIndex, rig.ReadPri(PriCapability.StatusOffset) & PriCapability.StatusUnexpectedPrgIndex);
        Assert.Equal(2u, rig.Pri.Outstanding);
        Assert.True(rig.Function.IsOutstanding(live));
        Assert.False(rig.Pri.ResponseFailure);
        Assert.Null(rig.ResultOf(1));
        Assert.Equal(1, rig.Function.Counters.UnexpectedResponses);
        Assert.Equal(PrgResponseOutcome.UnexpectedIndex, rig.Observer.Outcomes.Single());
        Assert.Empty(rig.Port.Unanswered);

        // RW1C: writing 0 keeps it, writing 1 clears it.
        rig.WritePri(PriCapability.StatusOffset, 0);
        Assert.True(rig.Pri.UnexpectedPrgIndex);
        rig.WritePri(PriCapability.StatusOffset, PriCapability.StatusUnexpectedPrgIndex);
        Assert.False(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(0u, rig.ReadPri(PriCapability.StatusOffset) & PriCapability.StatusUnexpectedPrgIndex);
    }

    [Fact]
    public void H_PCI_10_SecondResponseToTheSameGroupIsUnexpected()
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Start(2, 2);
        rig.Port.Deny();
        var a = rig.Port.PageRequests[0].Index;

        rig.Port.Respond(a, ResponseCode.Success);
        Assert.False(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(2u, rig.Pri.Outstanding);

        rig.Port.Respond(a, ResponseCode.Success);
        Assert.True(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(2u, rig.Pri.Outstanding); // access 2's group keeps its credits
        Assert.Equal(2, rig.Port.Unanswered.Count); // access 1 retried once, not twice
    }

    [Fact]
    public void H_PCI_5_a_response_failure_without_a_meaningful_index_still_stops_pri()
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Port.Deny();
        var outstanding = rig.Port.PageRequests[0].Index;
        var stray = new PrgIndex((ushort)((outstanding.Value + 100) & PrgIndex.Mask));

        rig.Port.Respond(stray, ResponseCode.ResponseFailure);

        Assert.True(rig.Pri.ResponseFailure);
        Assert.False(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(AccessResult.ResponseFailure, rig.ResultOf(1));
        Assert.Equal(2u, rig.Pri.Outstanding); // the real group keeps its credits; its response will be ignored
    }

    [Fact]
    public void A_response_for_an_ended_access_group_does_nothing_to_the_access_that_follows_it()
    {
        // Access states are pooled (issue 9): access 2 takes the state access 1 ended with, while a group of
        // access 1 is still outstanding. That group's Success must retry nothing and end nothing.
        var rig = Rig.Enabled(32, pagesPerGroup: 1);
        rig.Start(1, 2);
        rig.Port.Deny();
        Assert.Equal(2, rig.Port.PageRequests.Count);
        rig.Port.Respond(rig.Port.PageRequests[0].Index, ResponseCode.InvalidRequest);
        Assert.Equal(AccessResult.InvalidRequest, rig.ResultOf(1));

        rig.Start(2, 1);
        int translations = rig.Port.TranslationRequests.Count;
        rig.Port.Respond(rig.Port.PageRequests[1].Index, ResponseCode.Success);

        Assert.Equal(translations, rig.Port.TranslationRequests.Count);
        Assert.Null(rig.ResultOf(2));
        Assert.Equal(1, rig.Function.ActiveAccesses);
        rig.Port.Grant();
        Assert.Equal(AccessResult.Completed, rig.ResultOf(2));
        Assert.Equal(0u, rig.Pri.Outstanding);
    }

    [Fact]
    public void A_translation_completion_for_an_ended_access_does_not_count_for_the_access_that_follows_it()
    {
        var rig = Rig.Enabled(32);
        rig.Start(1, 2);
        var late = rig.Port.Unanswered[1];
        rig.Function.OnTranslationCompletion(new TranslationCompletion(rig.Port.Unanswered[0].Tag, TranslationStatus.UnsupportedRequest, false, false, false), 0);
        Assert.Equal(AccessResult.TranslationFault, rig.ResultOf(1));

        rig.Start(2, 2); // takes access 1's state
        var mine = rig.Port.Unanswered[^2];
        rig.Function.OnTranslationCompletion(new TranslationCompletion(late.Tag, TranslationStatus.Success, true, true, false), 0);
        rig.Function.OnTranslationCompletion(new TranslationCompletion(mine.Tag, TranslationStatus.Success, true, true, false), 0);

        Assert.Null(rig.ResultOf(2)); // one of its two pages is done, not two
        rig.Function.OnTranslationCompletion(new TranslationCompletion(rig.Port.Unanswered[^1].Tag, TranslationStatus.Success, true, true, false), 0);
        Assert.Equal(AccessResult.Completed, rig.ResultOf(2));
    }
}
