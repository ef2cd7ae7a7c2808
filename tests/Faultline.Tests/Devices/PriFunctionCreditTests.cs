using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>Credits, holding work and PRG groups: H-PCI-1..5.</summary>
public sealed class PriFunctionCreditTests
{
    [Theory]
    [InlineData(1u, 3)]
    [InlineData(3u, 2)]
    [InlineData(8u, 5)]
    public void H_PCI_1_NeverMoreThanAllocationPageRequestsOutstanding(uint allocation, int extra)
    {
        var rig = Rig.Enabled(allocation, pagesPerGroup: 1);
        for (int i = 0; i < allocation + extra; i++) rig.Start(i, 1);
        rig.Port.Deny();

        Assert.Equal((int)allocation, rig.Port.PageRequests.Count);
        Assert.Equal(allocation, rig.Pri.Outstanding);
        Assert.Equal(extra, rig.Function.BacklogPages);
        Assert.Equal((int)allocation, rig.Function.OutstandingGroups);

        // Nothing more goes out until a response arrives.
        rig.Port.Deny();
        Assert.Equal((int)allocation, rig.Port.PageRequests.Count);

        rig.Port.Respond(rig.Port.PageRequests[0].Index, ResponseCode.Success);
        Assert.Equal((int)allocation + 1, rig.Port.PageRequests.Count);
        Assert.Equal(allocation, rig.Pri.Outstanding);
    }

    [Fact]
    public void H_PCI_1_OutstandingStaysWithinAllocationThroughAWholeRun()
    {
        const uint allocation = 5;
        var rig = Rig.Enabled(allocation, pagesPerGroup: 3);
        for (int i = 0; i < 12; i++) rig.Start(i, 1 + i % 4);

        var answered = 0;
        rig.Port.Deny();
        while (answered < rig.Port.ClosedGroups.Count)
        {
            rig.Port.Respond(rig.Port.ClosedGroups[answered++], ResponseCode.Success);
            rig.Port.Grant();
            Assert.True(rig.Pri.Outstanding <= allocation);
        }

        Assert.Equal(12, rig.Observer.Ended.Count);
        Assert.All(rig.Observer.Ended.Values, r => Assert.Equal(AccessResult.Completed, r));
        Assert.False(rig.Observer.ExceededAllocation);
        Assert.Equal(allocation, rig.Observer.MaxOutstanding);
        Assert.True(rig.Function.Counters.CreditsHighWater <= allocation);
    }

    [Theory]
    [InlineData(ResponseCode.Success)]
    [InlineData(ResponseCode.InvalidRequest)]
    public void H_PCI_2_AResponseReturnsEveryCreditOfItsGroup(ResponseCode code)
    {
        var rig = Rig.Enabled(3, pagesPerGroup: 3);
        rig.Start(1, 3);
        rig.Start(2, 3);
        rig.Port.Deny();
        Assert.Equal(3, rig.Port.PageRequests.Count);
        Assert.Equal(3u, rig.Pri.Outstanding);
        Assert.Equal(0u, rig.Pri.FreeCredits);

        int mark = rig.Port.PageRequests.Count;
        rig.Port.Respond(rig.Port.PageRequests[0].Index, code);

        // The 3 credits came back and access 2's 3 held pages went out at once.
        var sent = rig.Port.Since(mark);
        Assert.Equal(3, sent.Count);
        Assert.Equal([Rig.Base + (2UL << 20), Rig.Base + (2UL << 20) + 0x1000, Rig.Base + (2UL << 20) + 0x2000], sent.Select(r => r.PageAddress));
        Assert.Equal(3u, rig.Pri.Outstanding);
        Assert.Equal(0, rig.Function.BacklogPages);
    }

    [Fact]
    public void H_PCI_3_AllocationOneClosesEveryGroupAtOnce()
    {
        var rig = Rig.Enabled(1, pagesPerGroup: 4);
        rig.Start(1, 5);
        rig.Port.Deny();
        Assert.Single(rig.Port.PageRequests);

        for (int i = 0; i < 5; i++)
        {
            rig.Port.Respond(rig.Port.PageRequests[^1].Index, ResponseCode.Success);
            rig.Port.Grant();
        }

        Assert.Equal(5, rig.Port.PageRequests.Count);
        Assert.All(rig.Port.PageRequests, r => Assert.True(r.Last));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => Rig.Base + (1UL << 20) + ((ulong)i << 12)), rig.Port.PageRequests.Select(r => r.PageAddress));
        Assert.Equal(AccessResult.Completed, rig.ResultOf(1));
    }

    [Theory]
    [InlineData(2u, 2)]
    [InlineData(3u, 3)]
    [InlineData(4u, 4)]
    [InlineData(6u, 4)]
    public void H_PCI_3_GroupClosesOnTheRequestThatUsesTheLastCredit(uint allocation, int firstGroupSize)
    {
        var rig = Rig.Enabled(allocation, pagesPerGroup: 4);
        rig.Start(1, 8);
        rig.Port.Deny();

        var first = rig.Port.PageRequests.TakeWhile(r => !r.Last).Count() + 1;
        Assert.Equal(firstGroupSize, first);
        Assert.True(rig.Port.PageRequests[firstGroupSize - 1].Last);
        Assert.True(rig.Port.PageRequests[^1].Last); // the last credit's request always closes its group
        Assert.Equal(allocation, rig.Pri.Outstanding);

        // Held, neither sent nor dropped.
        Assert.Equal(8 - (int)allocation, rig.Function.BacklogPages);
        Assert.Null(rig.ResultOf(1));

        var answered = 0;
        while (answered < rig.Port.ClosedGroups.Count)
        {
            rig.Port.Respond(rig.Port.ClosedGroups[answered++], ResponseCode.Success);
            rig.Port.Grant();
        }
        Assert.Equal(Enumerable.Range(0, 8).Select(i => Rig.Base + (1UL << 20) + ((ulong)i << 12)), rig.Port.PageRequests.Select(r => r.PageAddress));
        Assert.Equal(AccessResult.Completed, rig.ResultOf(1));
    }

    public static TheoryData<string> Unavailable => ["disabled", "allocation 0"];

    [Theory]
    [MemberData(nameof(Unavailable))]
    public void H_PCI_4_NoPageRequestWithoutEnableOrAllocation(string how)
    {
        Rig rig;
        if (how == "disabled")
        {
            rig = Rig.Enabled(8);
            Assert.Equal(ConfigWriteEffect.Disabled, rig.WritePri(PriCapability.ControlOffset, 0) & ConfigWriteEffect.Disabled);
        }
        else
        {
            rig = Rig.Enabled(0);
            Assert.True(rig.Pri.Enabled);
            Assert.Equal(0u, rig.Pri.Allocation);
        }

        rig.Start(1, 2);
        Assert.Equal(2, rig.Port.Deny());
        Assert.Empty(rig.Port.PageRequests);
        Assert.Equal(0u, rig.Pri.Outstanding);
        Assert.Equal(AccessResult.PriUnavailable, rig.ResultOf(1));
        Assert.Equal(0, rig.Function.ActiveAccesses);
    }

    [Fact]
    public void H_PCI_5_RequestsOfAGroupShareOneIndexAndOnlyTheLastHasL()
    {
        var rig = Rig.Enabled(32, pagesPerGroup: 4);
        rig.Start(1, 4);
        rig.Start(2, 3);
        rig.Start(3, 6);
        rig.Port.Deny();

        var groups = SplitGroups(rig.Port.PageRequests);
        Assert.Equal([4, 3, 4, 2], groups.Select(g => g.Count));
        foreach (var g in groups)
        {
            Assert.All(g, r => Assert.Equal(g[0].Index, r.Index));
            Assert.All(g.SkipLast(1), r => Assert.False(r.Last));
            Assert.True(g[^1].Last);
        }
        Assert.Equal(4, groups.Select(g => g[0].Index).Distinct().Count());
    }

    [Fact]
    public void H_PCI_5_IndexNotReusedWhileOutstandingEvenPast512Groups()
    {
        var rig = Rig.Enabled(600, pagesPerGroup: 1, capacity: 600);
        rig.Start(1, 513);
        rig.Port.Deny();

        Assert.Equal(PrgIndex.Count, rig.Port.PageRequests.Count);
        Assert.Equal(PrgIndex.Count, rig.Port.PageRequests.Select(r => r.Index).Distinct().Count());
        Assert.Equal(PrgIndex.Count, rig.Function.OutstandingGroups);
        Assert.Equal(1, rig.Function.BacklogPages); // credits left, but no free index

        rig.Port.Respond(300, ResponseCode.Success);
        Assert.Equal(PrgIndex.Count + 1, rig.Port.PageRequests.Count);
        Assert.Equal(PrgIndex.Create(300), rig.Port.PageRequests[^1].Index); // the only free index
        Assert.Equal(0, rig.Function.BacklogPages);
    }

    [Fact]
    public void H_PCI_5_IndexNotReusedWhileOutstandingWithDelayedResponses()
    {
        // The three oldest groups stay unanswered for the whole run while > 512 other groups come
        // and go, so the index counter wraps past them.
        var rig = Rig.Enabled(24, pagesPerGroup: 2);
        var open = new List<PrgIndex>();
        int seen = 0, groups = 0;

        void CheckNewRequests()
        {
            for (; seen < rig.Port.PageRequests.Count; seen++)
            {
                var r = rig.Port.PageRequests[seen];
                bool firstOfGroup = seen == 0 || rig.Port.PageRequests[seen - 1].Last;
                if (firstOfGroup) Assert.DoesNotContain(r.Index, open);
                else Assert.Equal(rig.Port.PageRequests[seen - 1].Index, r.Index);
                if (r.Last)
                {
                    open.Add(r.Index);
                    groups++;
                }
            }
        }

        for (int i = 0; i < 400; i++) rig.Start(i, 3);
        rig.Port.Deny();
        CheckNewRequests();
        var delayed = open.Take(3).ToList();
        while (open.Count > 0)
        {
            var next = open[Math.Min(3, open.Count - 1)];
            open.Remove(next);
            rig.Port.Respond(next, ResponseCode.Success);
            rig.Port.Grant();
            CheckNewRequests();
            if (open.Count > 3) Assert.Equal(delayed, open.Take(3));
        }

        Assert.True(groups > PrgIndex.Count, $"only {groups} groups: the index space never wrapped");
        Assert.Equal(400, rig.Observer.Ended.Count);
        Assert.All(rig.Observer.Ended.Values, r => Assert.Equal(AccessResult.Completed, r));
    }

    internal static List<List<PageRequest>> SplitGroups(IEnumerable<PageRequest> requests)
    {
        var groups = new List<List<PageRequest>>();
        var current = new List<PageRequest>();
        foreach (var r in requests)
        {
            current.Add(r);
            if (r.Last)
            {
                groups.Add(current);
                current = [];
            }
        }
        Assert.Empty(current); // every group was closed
        return groups;
    }
}
