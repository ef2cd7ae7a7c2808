using Faultline.Faults;

namespace Faultline.Tests.Faults;

/// <summary>Historical Linux behaviours (HIST), switchable for version studies, never the default.</summary>
public class HistoricalTests
{
    private static FaultRig Rig(RemovePendingPolicy remove = RemovePendingPolicy.AnswerInvalid) =>
        new(FaultPolicy.Linux with { RemovePending = remove });

    [Fact]
    public void R5_historical_remove_device_refuses_while_a_response_is_pending_and_succeeds_after_it()
    {
        var rig = Rig(RemovePendingPolicy.RefuseBusy);
        rig.Report(Pri.Partial(2, 0x1000), Pri.Last(1, 0x3000));
        Assert.Equal(1, rig.Device.PartialCount);

        Assert.Equal(FaultStatus.Busy, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));
        Assert.Empty(rig.Responder.Records); // nothing answered on the device's behalf
        Assert.Same(rig.Queue, rig.Device.Queue);
        Assert.Equal(1, rig.Device.PartialCount);

        rig.Framework.Respond(rig.Handler.Groups[0].Handle, PageResponseCode.Success, now: 0);
        Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));
        Assert.Null(rig.Device.Queue);
        Assert.Equal(1, rig.Framework.Counters.RemovedPartials); // freed "just in case"
        Assert.Equal(FaultStatus.NoDevice, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));
    }

    [Fact]
    public void R4_current_remove_device_is_what_both_presets_do()
    {
        Assert.Equal(RemovePendingPolicy.AnswerInvalid, FaultPolicy.Linux.RemovePending);
        Assert.Equal(RemovePendingPolicy.AnswerInvalid, FaultPolicy.Hardened.RemovePending);
        var rig = Rig();
        rig.Report(Pri.Last(1, 0x3000));
        Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));
        Assert.Equal(PageResponseCode.Invalid, Assert.Single(rig.Responder.Records).Response.Code);
    }

    [Fact]
    public void R21_a_message_answers_the_oldest_pending_group_with_that_id_and_the_pasid_it_needs()
    {
        var rig = Rig();
        rig.Device.Attach(7, rig.Rid);
        var needs = FaultFlags.PasidValid | FaultFlags.ResponseNeedsPasid | FaultFlags.LastPage;
        rig.Report(new Fault(needs, 7, 4, FaultPermissions.Read, 0x1000), new Fault(needs, 7, 4, FaultPermissions.Read, 0x2000));
        var (older, newer) = (rig.Handler.Groups[0].Handle, rig.Handler.Groups[1].Handle);

        // The group needs its PASID: a message without it, or with another, matches nothing.
        Assert.Equal(FaultStatus.Invalid, rig.Framework.RespondByMessage(rig.Device, new PageResponseMessage(1, 0, 0, 4, PageResponseCode.Success), now: 0));
        Assert.Equal(FaultStatus.Invalid, rig.Framework.RespondByMessage(rig.Device, new PageResponseMessage(1, 1, 8, 4, PageResponseCode.Success), now: 0));
        Assert.Empty(rig.Responder.Records);

        Assert.Equal(FaultStatus.Ok, rig.Framework.RespondByMessage(rig.Device, new PageResponseMessage(1, 1, 7, 4, PageResponseCode.Invalid), now: 0));
        var record = Assert.Single(rig.Responder.Records);
        Assert.Equal(0x1000UL, record.LastFault.Address); // FIFO: the oldest
        Assert.Equal(FaultGroupState.Responded, rig.Framework.Find(older)!.State);
        Assert.Equal(FaultGroupState.Pending, rig.Framework.Find(newer)!.State);
    }

    [Fact]
    public void R21_a_pasid_the_group_does_not_need_is_stripped()
    {
        var rig = Rig();
        rig.Report(Pri.Last(9, 0x5000)); // PASID-less, at the RID
        Assert.Equal(FaultStatus.Ok, rig.Framework.RespondByMessage(rig.Device, new PageResponseMessage(1, 1, 33, 9, PageResponseCode.Success), now: 0));
        Assert.Equal(new PageResponse(0, 9, PageResponseCode.Success), Assert.Single(rig.Responder.Records).Response);
    }

    [Theory]
    [InlineData(2u, 0u, "version")]
    [InlineData(1u, 2u, "unknown flag")]
    public void R21_a_malformed_message_is_invalid(uint version, uint flags, string why)
    {
        var rig = Rig();
        rig.Report(Pri.Last(9, 0x5000));
        Assert.True(FaultStatus.Invalid == rig.Framework.RespondByMessage(rig.Device, new PageResponseMessage(version, flags, 0, 9, PageResponseCode.Success), now: 0), why);
        Assert.Empty(rig.Responder.Records);
    }

    [Fact]
    public void R21_nothing_pending_no_fault_state_and_no_page_response_op_are_refused()
    {
        var rig = Rig();
        var message = new PageResponseMessage(1, 0, 0, 9, PageResponseCode.Success);
        Assert.Equal(FaultStatus.Invalid, rig.Framework.RespondByMessage(rig.Device, message, now: 0)); // "no pending PRQ, drop response"
        Assert.Equal(FaultStatus.Invalid, rig.Framework.RespondByMessage(rig.NewDevice("unqueued", null), message, now: 0));
        Assert.Equal(FaultStatus.NoDevice, rig.Framework.RespondByMessage(new FaultDevice("no-op", null), message, now: 0));
    }
}
