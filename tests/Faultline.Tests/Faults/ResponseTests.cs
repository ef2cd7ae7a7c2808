using Faultline.Faults;

namespace Faultline.Tests.Faults;

/// <summary>R18-R20 (respond once, free once, stale responses) and POL-7.</summary>
public class ResponseTests
{
    [Theory]
    [InlineData(PageResponseCode.Success)]
    [InlineData(PageResponseCode.Invalid)]
    [InlineData(PageResponseCode.Failure)]
    public void R18_response_reaches_the_driver_once_with_pasid_and_grpid_of_the_last_fault(PageResponseCode code)
    {
        var rig = new FaultRig();
        rig.Device.Attach(7, rig.Rid);
        var last = Pri.Last(0x1ff, 0x8000, pasid: 7, FaultPermissions.Write);
        rig.Report(Pri.Partial(0x1ff, 0x1000, pasid: 7), last);
        var handle = rig.LastGroup.Handle;

        Assert.Equal(ResponseStatus.Responded, rig.Framework.Respond(handle, code, now: 0));

        var record = Assert.Single(rig.Responder.Records);
        Assert.Same(rig.Device, record.Device);
        Assert.Equal(last, record.LastFault);
        Assert.Equal(new PageResponse(7, 0x1ff, code), record.Response);
        Assert.Equal(FaultGroupState.Responded, rig.Framework.Find(handle)!.State);
        Assert.Equal(0, rig.Device.PendingCount);
    }

    [Fact]
    public void R18_under_linux_a_merged_group_answers_with_the_pasid_of_its_last_fault()
    {
        var rig = new FaultRig("linux");
        rig.Device.Attach(1, rig.Rid);
        rig.Device.Attach(2, rig.Rid);
        rig.Report(Pri.Partial(4, 0x1000, pasid: 2), Pri.Last(4, 0x2000, pasid: 1));

        rig.Framework.Respond(rig.LastGroup.Handle, PageResponseCode.Success, now: 0);

        Assert.Equal(new PageResponse(1, 4, PageResponseCode.Success), Assert.Single(rig.Responder.Records).Response);
    }

    [Fact]
    public void R19_free_succeeds_exactly_once()
    {
        var rig = new FaultRig();
        rig.Report(Pri.Last(1, 0x1000), Pri.Last(2, 0x2000));
        var handle = rig.Handler.Groups[0].Handle;
        rig.Framework.Respond(handle, PageResponseCode.Success, now: 0);

        Assert.True(rig.Framework.Free(handle));
        Assert.Equal(1, rig.Framework.GroupsInUse);
        Assert.False(rig.Framework.Free(handle));
        Assert.Equal(1, rig.Framework.GroupsInUse);
        Assert.Null(rig.Framework.Find(handle));
        Assert.Equal(0, rig.Framework.Counters.FreedUnanswered);
        Assert.NotNull(rig.Framework.Find(rig.Handler.Groups[1].Handle));
    }

    [Fact]
    public void R19_freeing_an_unanswered_group_sends_nothing_unlinks_it_and_is_counted()
    {
        var rig = new FaultRig();
        rig.Report(Pri.Last(1, 0x1000));
        var handle = rig.LastGroup.Handle;

        Assert.True(rig.Framework.Free(handle));

        Assert.Equal(1, rig.Framework.Counters.FreedUnanswered);
        Assert.Equal(0, rig.Device.PendingCount);
        Assert.Equal(0, rig.Framework.GroupsInUse);
        rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0);
        Assert.Empty(rig.Responder.Records); // not pending any more, so remove does not answer it either
    }

    public enum StaleKind
    {
        AnsweredTwice,
        AnsweredAndFreed,
        NeverReported,
        SlotReused,
    }

    [Theory]
    [InlineData("linux", StaleKind.AnsweredTwice, ResponseStatus.Dropped)]
    [InlineData("linux", StaleKind.AnsweredAndFreed, ResponseStatus.Dropped)]
    [InlineData("linux", StaleKind.NeverReported, ResponseStatus.Dropped)]
    [InlineData("linux", StaleKind.SlotReused, ResponseStatus.Dropped)]
    [InlineData("hardened", StaleKind.AnsweredTwice, ResponseStatus.AlreadyAnswered)]
    [InlineData("hardened", StaleKind.AnsweredAndFreed, ResponseStatus.Unknown)]
    [InlineData("hardened", StaleKind.NeverReported, ResponseStatus.Unknown)]
    [InlineData("hardened", StaleKind.SlotReused, ResponseStatus.Unknown)]
    public void R20_POL7_a_stale_response_never_reaches_the_driver_and_is_counted(string policy, StaleKind kind, ResponseStatus expected)
    {
        var rig = new FaultRig(policy);
        FaultGroupHandle stale;
        if (kind == StaleKind.NeverReported)
        {
            stale = new FaultGroupHandle(42, 0);
        }
        else
        {
            rig.Report(Pri.Last(1, 0x1000));
            stale = rig.LastGroup.Handle;
            Assert.Equal(ResponseStatus.Responded, rig.Framework.Respond(stale, PageResponseCode.Success, now: 0));
            if (kind != StaleKind.AnsweredTwice) rig.Framework.Free(stale);
            if (kind == StaleKind.SlotReused)
            {
                rig.Report(Pri.Last(1, 0x2000));
                Assert.Equal(stale.Slot, rig.LastGroup.Handle.Slot);
            }
        }
        int before = rig.Responder.Records.Count;

        Assert.Equal(expected, rig.Framework.Respond(stale, PageResponseCode.Invalid, now: 0));

        Assert.Equal(before, rig.Responder.Records.Count);
        Assert.DoesNotContain(rig.Responder.Records, r => r.Response.Code == PageResponseCode.Invalid);
        bool linux = policy == "linux";
        Assert.Equal(linux ? 1 : 0, rig.Framework.Counters.StaleResponsesDropped);
        Assert.Equal(linux ? 0 : 1, rig.Framework.Counters.StaleResponsesRejected);
        if (kind == StaleKind.SlotReused)
            Assert.Equal(FaultGroupState.Pending, rig.Framework.Find(rig.LastGroup.Handle)!.State);
    }
}
