using Faultline.Faults;

namespace Faultline.Tests.Faults;

/// <summary>R1-R4 (queue and device lifecycle) and R24 (discard partials).</summary>
public class QueueLifecycleTests
{
    [Fact]
    public void R1_allocated_queue_has_its_name_no_devices_and_no_work()
    {
        var queue = FaultFramework.AllocateQueue("dmar0-iopfq");

        Assert.Equal("dmar0-iopfq", queue.Name);
        Assert.Empty(queue.Devices);
        Assert.Equal(0, queue.QueuedWork);
        Assert.False(queue.TryDequeueWork(out _));
    }

    [Fact]
    public void R2_free_queue_of_null_touches_nothing()
    {
        var rig = new FaultRig();
        rig.Report(Pri.Last(1, 0x1000));

        rig.Framework.FreeQueue(null, now: 0);

        Assert.Same(rig.Queue, rig.Device.Queue);
        Assert.Equal(1, rig.Device.PendingCount);
        Assert.Empty(rig.Responder.Records);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R2_free_queue_removes_every_device_and_answers_every_pending_group_once(string policy)
    {
        var rig = new FaultRig(policy) { Handler = { QueueWork = true } };
        var other = rig.NewDevice("dev1", rig.Queue);
        other.Attach(0, rig.Rid);
        rig.Report(Pri.Partial(1, 0x1000), Pri.Last(1, 0x2000), Pri.Last(2, 0x3000));
        rig.Report(other, Pri.Last(7, 0x9000));
        rig.Report(other, Pri.Partial(8, 0xa000));
        Assert.Equal(3, rig.Queue.QueuedWork);

        rig.Framework.FreeQueue(rig.Queue, now: 0);

        Assert.Empty(rig.Queue.Devices);
        Assert.Null(rig.Device.Queue);
        Assert.Null(other.Queue);
        Assert.Equal(0, rig.Queue.QueuedWork);
        Assert.Equal(0, rig.Handler.WorkRuns);
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal([1u, 2u], rig.Responder.For(rig.Device).Select(r => r.Response.GroupId).Order());
        Assert.Equal([7u], rig.Responder.For(other).Select(r => r.Response.GroupId));
        Assert.All(rig.Responder.Records, r => Assert.Equal(PageResponseCode.Invalid, r.Response.Code));
        Assert.Equal(1, rig.Framework.Counters.RemovedPartials);
        // The devices are free to join a queue again.
        Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(FaultFramework.AllocateQueue("q1"), rig.Device));
    }

    [Fact]
    public void R3_add_device_without_a_page_response_op_is_no_device()
    {
        var queue = FaultFramework.AllocateQueue("q");
        var device = new FaultDevice("no-responder", responder: null);

        Assert.Equal(FaultStatus.NoDevice, FaultFramework.AddDevice(queue, device));
        Assert.Empty(queue.Devices);
        Assert.Null(device.Queue);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void R3_add_device_already_added_on_any_queue_is_busy(bool sameQueue)
    {
        var rig = new FaultRig();
        var second = sameQueue ? rig.Queue : FaultFramework.AllocateQueue("q1");

        Assert.Equal(FaultStatus.Busy, FaultFramework.AddDevice(second, rig.Device));
        Assert.Same(rig.Queue, rig.Device.Queue);
        Assert.Equal([rig.Device], rig.Queue.Devices);
        if (!sameQueue) Assert.Empty(second.Devices);
    }

    [Fact]
    public void R3_add_device_inserts_at_the_head_of_the_queue()
    {
        var rig = new FaultRig();
        var b = rig.NewDevice("b", rig.Queue);
        var c = rig.NewDevice("c", rig.Queue);

        Assert.Equal([c, b, rig.Device], rig.Queue.Devices);
    }

    [Theory]
    [InlineData("linux", ResponseStatus.Dropped)]
    [InlineData("hardened", ResponseStatus.Unknown)]
    public void R4_BUG1_remove_device_answers_every_pending_group_invalid_once_and_frees_it(string policy, ResponseStatus late)
    {
        var rig = new FaultRig(policy);
        rig.Device.Attach(3, rig.Rid);
        rig.Report(Pri.Partial(1, 0x1000, pasid: 3), Pri.Last(1, 0x2000, pasid: 3));
        rig.Report(Pri.Last(2, 0x3000));
        var first = rig.Handler.Groups[0].Handle;
        var second = rig.Handler.Groups[1].Handle;
        Assert.Empty(rig.Responder.Records);

        Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));

        // Pending list is walked head first: the newest group is answered first (R13, R4).
        Assert.Equal(
            [new PageResponse(0, 2, PageResponseCode.Invalid), new PageResponse(3, 1, PageResponseCode.Invalid)],
            rig.Responder.Records.Select(r => r.Response));
        Assert.Equal(Pri.Last(1, 0x2000, pasid: 3), rig.Responder.Records[1].LastFault);
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Null(rig.Framework.Find(first));
        Assert.Null(rig.Framework.Find(second));
        Assert.Equal(2, rig.Framework.Counters.RemovedGroups);
        Assert.Empty(rig.Queue.Devices);
        Assert.Null(rig.Device.Queue);

        // A handler answering or freeing afterwards reaches nothing.
        Assert.Equal(late, rig.Framework.Respond(first, PageResponseCode.Success, now: 0));
        Assert.False(rig.Framework.Free(second));
        Assert.Equal(2, rig.Responder.Records.Count);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R4_BUG1_stale_handle_after_remove_does_not_answer_the_group_that_reuses_its_slot(string policy)
    {
        var rig = new FaultRig(policy);
        rig.Report(Pri.Last(1, 0x1000));
        var stale = rig.LastGroup.Handle;
        rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0);
        Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(rig.Queue, rig.Device));
        rig.Responder.Clear();

        rig.Report(Pri.Last(1, 0x5000));
        var fresh = rig.LastGroup.Handle;
        Assert.Equal(stale.Slot, fresh.Slot); // the pool reuses the slot

        Assert.NotEqual(ResponseStatus.Responded, rig.Framework.Respond(stale, PageResponseCode.Success, now: 0));
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(FaultGroupState.Pending, rig.Framework.Find(fresh)!.State);
    }

    [Fact]
    public void R4_remove_device_frees_partials_so_a_later_group_does_not_see_them()
    {
        var rig = new FaultRig();
        rig.Report(Pri.Partial(5, 0x1000), Pri.Partial(5, 0x2000));
        Assert.Equal(2, rig.Device.PartialCount);

        rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0);
        Assert.Equal(2, rig.Framework.Counters.RemovedPartials);
        Assert.Empty(rig.Responder.Records); // partials never get their own response
        FaultFramework.AddDevice(rig.Queue, rig.Device);
        rig.Report(Pri.Last(5, 0x3000));

        Assert.Equal([0x3000ul], rig.LastGroup.Addresses);
    }

    [Fact]
    public void R4_remove_device_does_not_answer_a_group_that_was_already_answered()
    {
        var rig = new FaultRig();
        rig.Report(Pri.Last(1, 0x1000), Pri.Last(2, 0x2000));
        rig.Framework.Respond(rig.Handler.Groups[0].Handle, PageResponseCode.Success, now: 0);

        rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0);

        Assert.Equal(
            [new PageResponse(0, 1, PageResponseCode.Success), new PageResponse(0, 2, PageResponseCode.Invalid)],
            rig.Responder.Records.Select(r => r.Response));
        Assert.Equal(1, rig.Framework.Counters.RemovedGroups);
    }

    [Fact]
    public void R4_remove_device_from_another_queue_or_never_added_changes_nothing()
    {
        var rig = new FaultRig();
        rig.Report(Pri.Partial(1, 0x1000), Pri.Last(2, 0x2000));
        var otherQueue = FaultFramework.AllocateQueue("q1");
        var stranger = new FaultDevice("stranger", rig.Responder);

        Assert.Equal(FaultStatus.Invalid, rig.Framework.RemoveDevice(otherQueue, rig.Device, now: 0));
        Assert.Equal(FaultStatus.Invalid, rig.Framework.RemoveDevice(rig.Queue, stranger, now: 0));

        Assert.Same(rig.Queue, rig.Device.Queue);
        Assert.Equal(1, rig.Device.PendingCount);
        Assert.Equal(1, rig.Device.PartialCount);
        Assert.Empty(rig.Responder.Records);
    }

    [Fact]
    public void R24_discard_partial_frees_partials_of_every_device_of_that_queue_only()
    {
        var rig = new FaultRig();
        var sibling = rig.NewDevice("sibling", rig.Queue);
        var elsewhere = rig.NewDevice("elsewhere", FaultFramework.AllocateQueue("q1"));
        foreach (var d in new[] { sibling, elsewhere }) d.Attach(0, rig.Rid);
        rig.Report(Pri.Last(9, 0x9000)); // a pending group, untouched by discard
        rig.Report(Pri.Partial(1, 0x1000), Pri.Partial(2, 0x2000));
        rig.Report(sibling, Pri.Partial(1, 0x3000));
        rig.Report(elsewhere, Pri.Partial(1, 0x4000));

        Assert.Equal(FaultStatus.Ok, rig.Framework.DiscardPartial(rig.Queue));

        Assert.Equal(0, rig.Device.PartialCount);
        Assert.Equal(0, sibling.PartialCount);
        Assert.Equal(1, elsewhere.PartialCount);
        Assert.Equal(3, rig.Framework.Counters.DiscardedPartials);
        Assert.Equal(1, rig.Device.PendingCount);
        Assert.Empty(rig.Responder.Records);
    }

    [Fact]
    public void R24_discard_partial_of_null_queue_is_invalid()
    {
        var rig = new FaultRig();
        rig.Report(Pri.Partial(1, 0x1000));

        Assert.Equal(FaultStatus.Invalid, rig.Framework.DiscardPartial(null));
        Assert.Equal(1, rig.Device.PartialCount);
    }

    [Fact]
    public void R24_BUG7_reports_after_discard_assemble_only_new_partials()
    {
        var rig = new FaultRig();
        rig.Report(Pri.Partial(1, 0x1000), Pri.Partial(2, 0x2000), Pri.Partial(1, 0x3000));
        rig.Framework.DiscardPartial(rig.Queue);

        rig.Report(Pri.Partial(2, 0x5000), Pri.Partial(1, 0x6000), Pri.Partial(1, 0x7000), Pri.Last(1, 0x8000));
        Assert.Equal([0x6000ul, 0x7000, 0x8000], rig.LastGroup.Addresses);
        rig.Report(Pri.Last(2, 0x9000));
        Assert.Equal([0x5000ul, 0x9000], rig.LastGroup.Addresses);
        Assert.Equal(0, rig.Device.PartialCount);
    }
}
