using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>
/// PRG slots that grow as indexes are used (issue 9): the indexes a function picks, and what it
/// makes of responses and resets, are those of the fixed 512-slot array they replace.
/// </summary>
public sealed class PriFunctionSlotTests
{
    [Fact]
    public void H_PCI_5_indexes_go_round_robin_through_all_512_and_wrap_past_the_one_still_outstanding()
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 1, capacity: 8);
        rig.Start(0, 1);
        rig.Port.Deny(); // index 0, never answered

        var indexes = new List<int>();
        for (long id = 1; id <= 1100; id++)
        {
            rig.Start(id, 1);
            rig.Port.Deny();
            var index = rig.Port.PageRequests[^1].Index;
            indexes.Add(index.Value);
            Assert.True(rig.Function.IsOutstanding(index));
            rig.Port.Respond(index, ResponseCode.Success);
            rig.Port.Grant();
            Assert.Equal(AccessResult.Completed, rig.ResultOf(id));
        }

        Assert.Equal(Enumerable.Range(0, 1100).Select(k => k % 511 + 1), indexes);
        Assert.All(rig.Observer.Outcomes, o => Assert.Equal(PrgResponseOutcome.Matched, o));
        Assert.Equal(1, rig.Function.OutstandingGroups);
        Assert.True(rig.Function.IsOutstanding(new PrgIndex(0)));
        Assert.Equal(0, rig.Function.AccessOfGroup(new PrgIndex(0))?.Id);
        Assert.Equal(1u, rig.Pri.Outstanding);
    }

    [Theory]
    [InlineData(8)]   // past the first slots grown
    [InlineData(300)]
    [InlineData(511)] // the last index
    public void H_PCI_10_a_response_to_an_index_the_function_never_used_is_unexpected(int index)
    {
        var rig = Rig.Enabled(8);
        rig.Start(1, 1);
        rig.Port.Deny(); // one group, at index 0

        Assert.False(rig.Function.IsOutstanding(PrgIndex.Create(index)));
        Assert.Null(rig.Function.AccessOfGroup(PrgIndex.Create(index)));
        rig.Port.Respond(index, ResponseCode.Success);

        Assert.Equal([PrgResponseOutcome.UnexpectedIndex], rig.Observer.Outcomes);
        Assert.True(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(1, rig.Function.OutstandingGroups);
    }

    [Fact]
    public void H_PCI_5_a_response_failure_for_an_index_never_used_still_stops_pri()
    {
        var rig = Rig.Enabled(8);
        rig.Start(1, 1);
        rig.Port.Deny();

        rig.Port.Respond(400, ResponseCode.ResponseFailure);

        Assert.Equal([PrgResponseOutcome.FailureWithoutGroup], rig.Observer.Outcomes);
        Assert.True(rig.Pri.ResponseFailure);
        Assert.Equal(AccessResult.ResponseFailure, rig.ResultOf(1));
    }

    [Fact]
    public void H_PCI_12_a_reset_after_the_indexes_wrapped_fails_the_waiting_accesses_in_index_order()
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 1, capacity: 8);
        // Walk the index to 510, answering each group, then leave four groups out: 510, 511, 0, 1.
        for (long id = 1; id <= 510; id++)
        {
            rig.Start(id, 1);
            rig.Port.Deny();
            rig.Port.Respond(rig.Port.PageRequests[^1].Index, ResponseCode.Success);
            rig.Port.Grant();
        }
        for (long id = 1001; id <= 1004; id++)
        {
            rig.Start(id, 1);
            rig.Port.Deny();
        }
        Assert.Equal([510, 511, 0, 1], rig.Port.PageRequests.TakeLast(4).Select(r => (int)r.Index.Value));
        rig.Observer.EndOrder.Clear();

        rig.WritePri(PriCapability.ControlOffset, 0);
        rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlReset);

        Assert.Equal([1003L, 1004, 1001, 1002], rig.Observer.EndOrder);
        Assert.Equal(0, rig.Function.OutstandingGroups);
        Assert.False(rig.Function.IsOutstanding(new PrgIndex(510)));
    }

    [Fact]
    public void H_PCI_5_groups_are_reused_after_their_response_with_nothing_of_the_last_one_left()
    {
        var rig = Rig.Enabled(32, pagesPerGroup: 4);
        rig.Start(1, 4);
        rig.Port.Deny();
        var first = rig.Port.PageRequests[^1].Index;
        rig.Port.Respond(first, ResponseCode.InvalidRequest);
        Assert.Equal(AccessResult.InvalidRequest, rig.ResultOf(1));

        rig.Start(2, 2, write: true);
        rig.Port.Deny();

        var second = rig.Port.PageRequests[^1].Index;
        Assert.Equal(first.Value + 1, second.Value);
        Assert.Equal(2, rig.Function.AccessOfGroup(second)?.Id);
        Assert.Equal(2, rig.Port.PageRequests.Count(r => r.Index == second));
        Assert.True(rig.Port.PageRequests[^1].Last);
        rig.Port.Respond(second, ResponseCode.Success);
        Assert.Equal(2, rig.Port.Grant()); // exactly the group's two pages are retranslated
        Assert.Equal(AccessResult.Completed, rig.ResultOf(2));
    }

    [Fact]
    public void An_idle_function_holds_no_prg_slots()
    {
        // Issue 9: 512 slots made up ~91 KB of every function, busy or not.
        var port = new ScriptedPort();
        var config = Rig.Config();
        _ = new PriFunction(config, port);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var function = new PriFunction(config, port);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.InRange(bytes, 1, 4096);
        Assert.Equal(0, function.OutstandingGroups);
    }
}
