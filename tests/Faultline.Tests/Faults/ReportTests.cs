using Faultline.Faults;

namespace Faultline.Tests.Faults;

/// <summary>R7-R16 (reporting, grouping, dispatch) and the report-side policies POL-1..POL-3.</summary>
public class ReportTests
{
    /// <summary>The ways a reported fault can end (R8).</summary>
    public enum ReportPath
    {
        Accepted,
        NoHandler,
        NullHandler,
        DeviceNotAdded,
        HandlerRefuses,
        GroupAllocationFails,
    }

    private static FaultRig Arrange(string policy, ReportPath path)
    {
        var rig = new FaultRig(policy);
        switch (path)
        {
            case ReportPath.NoHandler:
                rig.Device.Detach(0);
                break;
            case ReportPath.NullHandler:
                rig.Device.Detach(0);
                rig.Device.Attach(0, new FaultAttachment("blocking", handler: null));
                break;
            case ReportPath.DeviceNotAdded:
                rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0);
                break;
            case ReportPath.HandlerRefuses:
                rig.Handler.Accept = false;
                break;
            case ReportPath.GroupAllocationFails:
                rig.Framework.FailNextAllocations(AllocationSite.Group, 1);
                break;
        }
        return rig;
    }

    [Theory]
    [InlineData("linux", ReportPath.Accepted, PageResponseCode.Success)]
    [InlineData("linux", ReportPath.NoHandler, PageResponseCode.Invalid)]
    [InlineData("linux", ReportPath.NullHandler, PageResponseCode.Invalid)]
    [InlineData("linux", ReportPath.DeviceNotAdded, PageResponseCode.Invalid)]
    [InlineData("linux", ReportPath.HandlerRefuses, PageResponseCode.Failure)]
    [InlineData("linux", ReportPath.GroupAllocationFails, PageResponseCode.Failure)]
    [InlineData("hardened", ReportPath.Accepted, PageResponseCode.Success)]
    [InlineData("hardened", ReportPath.NoHandler, PageResponseCode.Invalid)]
    [InlineData("hardened", ReportPath.NullHandler, PageResponseCode.Invalid)]
    [InlineData("hardened", ReportPath.DeviceNotAdded, PageResponseCode.Invalid)]
    [InlineData("hardened", ReportPath.HandlerRefuses, PageResponseCode.Invalid)]
    [InlineData("hardened", ReportPath.GroupAllocationFails, PageResponseCode.Success)]
    public void R8_every_report_path_ends_in_exactly_one_driver_response(string policy, ReportPath path, PageResponseCode code)
    {
        var rig = Arrange(policy, path);
        var fault = Pri.Last(4, 0x4000, pasid: null, FaultPermissions.Write);

        rig.Framework.Report(rig.Device, fault, now: 0);
        if (path == ReportPath.Accepted)
        {
            var handle = rig.LastGroup.Handle;
            Assert.Empty(rig.Responder.Records); // the handler owns the answer
            rig.Framework.Respond(handle, PageResponseCode.Success, now: 0);
            rig.Framework.Free(handle);
        }

        var only = Assert.Single(rig.Responder.Records);
        Assert.Same(rig.Device, only.Device);
        Assert.Equal(fault, only.LastFault);
        Assert.Equal(new PageResponse(0, 4, code), only.Response);
        Assert.Equal(1, rig.Framework.Counters.Responses);
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(0, rig.Device.PendingCount);
    }

    [Theory]
    [InlineData("linux", ReportPath.Accepted, FaultStatus.Ok)]
    [InlineData("linux", ReportPath.NoHandler, FaultStatus.Invalid)]
    [InlineData("linux", ReportPath.NullHandler, FaultStatus.Invalid)]
    [InlineData("linux", ReportPath.DeviceNotAdded, FaultStatus.Invalid)]
    [InlineData("linux", ReportPath.HandlerRefuses, FaultStatus.Ok)]
    [InlineData("linux", ReportPath.GroupAllocationFails, FaultStatus.Ok)]
    [InlineData("hardened", ReportPath.NoHandler, FaultStatus.Invalid)]
    [InlineData("hardened", ReportPath.HandlerRefuses, FaultStatus.Ok)]
    [InlineData("hardened", ReportPath.GroupAllocationFails, FaultStatus.Ok)]
    public void R16_report_of_a_last_fault_returns_ok_when_accepted_or_aborted_and_invalid_without_handler(
        string policy, ReportPath path, FaultStatus expected)
    {
        var rig = Arrange(policy, path);

        Assert.Equal(expected, rig.Framework.Report(rig.Device, Pri.Last(1, 0x1000), now: 0));
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R16_report_of_a_partial_returns_ok_when_stored_and_no_memory_when_its_copy_fails(string policy)
    {
        var rig = new FaultRig(policy);

        Assert.Equal(FaultStatus.Ok, rig.Framework.Report(rig.Device, Pri.Partial(1, 0x1000), now: 0));
        rig.Framework.FailNextAllocations(AllocationSite.Partial, 1);
        Assert.Equal(FaultStatus.NoMemory, rig.Framework.Report(rig.Device, Pri.Partial(1, 0x2000), now: 0));
        Assert.Equal(1, rig.Device.PartialCount);
    }

    [Fact]
    public void R7_faults_reported_in_hardware_order_assemble_in_that_order_not_by_address()
    {
        var rig = new FaultRig();

        rig.Report(Pri.Partial(3, 0x5000), Pri.Partial(3, 0x2000), Pri.Partial(3, 0x9000), Pri.Last(3, 0x1000));

        Assert.Equal([0x5000ul, 0x2000, 0x9000, 0x1000], rig.LastGroup.Addresses);
    }

    [Theory]
    [InlineData("linux", 1)]
    [InlineData("hardened", 1)]
    [InlineData("linux", 6)]
    [InlineData("hardened", 6)]
    public void R14_T1_partials_join_their_last_fault_in_arrival_order_last_at_tail(string policy, int partials)
    {
        var rig = new FaultRig(policy);
        var faults = Enumerable.Range(0, partials).Select(i => Pri.Partial(2, Pri.Page * (ulong)(i + 1), pasid: 9))
            .Append(Pri.Last(2, 0x80000, pasid: 9)).ToArray();
        rig.Device.Attach(9, rig.Rid);

        rig.Report(faults);

        var group = Assert.Single(rig.Handler.Groups);
        Assert.Equal(faults, group.Faults);
        Assert.Equal(partials + 1, rig.Framework.Find(group.Handle)!.Count);
        Assert.Equal(faults[^1], rig.Framework.Find(group.Handle)!.LastFault);
        Assert.Equal(partials + 1, rig.Framework.Counters.FaultsInGroups);
        Assert.Equal(0, rig.Device.PartialCount);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R14_T2_interleaved_group_ids_each_last_collects_only_its_own(string policy)
    {
        var rig = new FaultRig(policy);
        rig.Report(
            Pri.Partial(1, 0x1000), Pri.Partial(2, 0x2000), Pri.Partial(1, 0x3000),
            Pri.Partial(3, 0x4000), Pri.Partial(2, 0x5000));

        rig.Report(Pri.Last(1, 0x6000));
        Assert.Equal([0x1000ul, 0x3000, 0x6000], rig.LastGroup.Addresses);
        Assert.Equal(3, rig.Device.PartialCount);

        rig.Report(Pri.Last(2, 0x7000));
        Assert.Equal([0x2000ul, 0x5000, 0x7000], rig.LastGroup.Addresses);
        Assert.Equal(1, rig.Device.PartialCount); // group 3 still waits for its last
        Assert.Empty(rig.Responder.Records);
    }

    [Theory]
    [InlineData("linux", new ulong[] { 0x1000, 0x2000, 0x3000 }, 0)]
    [InlineData("hardened", new ulong[] { 0x1000, 0x3000 }, 1)]
    public void R14_T3_POL2_same_index_on_two_pasids_merges_under_linux_and_stays_apart_under_hardened(
        string policy, ulong[] expected, int leftOver)
    {
        var rig = new FaultRig(policy);
        rig.Device.Attach(1, rig.Rid);
        rig.Device.Attach(2, rig.Rid);

        rig.Report(Pri.Partial(4, 0x1000, pasid: 1), Pri.Partial(4, 0x2000, pasid: 2), Pri.Last(4, 0x3000, pasid: 1));

        Assert.Equal(expected, rig.LastGroup.Addresses);
        Assert.Equal(leftOver, rig.Device.PartialCount);
    }

    [Fact]
    public void POL2_hardened_keeps_a_pasid_less_partial_apart_from_a_pasid_group_with_the_same_index()
    {
        var rig = new FaultRig("hardened");
        rig.Device.Attach(1, rig.Rid);

        rig.Report(Pri.Partial(4, 0x1000), Pri.Partial(4, 0x2000, pasid: 1), Pri.Last(4, 0x3000, pasid: 1));
        Assert.Equal([0x2000ul, 0x3000], rig.LastGroup.Addresses);

        rig.Report(Pri.Last(4, 0x4000));
        Assert.Equal([0x1000ul, 0x4000], rig.LastGroup.Addresses);
    }

    [Theory]
    [InlineData(null, "rid")]
    [InlineData(5u, "pasid5")]
    [InlineData(6u, "none")]  // attached, but the domain has no iopf_handler
    [InlineData(7u, "none")]  // nothing attached at 7: no fallback to the RID
    public void R9_faults_route_by_pasid_to_the_attachment_at_that_pasid_and_pasid_less_ones_to_the_rid(uint? pasid, string target)
    {
        var rig = new FaultRig();
        var atFive = new RecordingHandler();
        var five = new FaultAttachment("pasid5", atFive);
        rig.Device.Attach(5, five);
        rig.Device.Attach(6, new FaultAttachment("no-iopf", handler: null));

        var status = rig.Framework.Report(rig.Device, Pri.Last(1, 0x1000, pasid), now: 0);

        var expectedHandler = target switch { "rid" => rig.Handler, "pasid5" => atFive, _ => null };
        foreach (var handler in new[] { rig.Handler, atFive })
            Assert.Equal(handler == expectedHandler ? 1 : 0, handler.Groups.Count);
        if (expectedHandler is null)
        {
            Assert.Equal(FaultStatus.Invalid, status);
            Assert.Equal(PageResponseCode.Invalid, Assert.Single(rig.Responder.Records).Response.Code);
            Assert.Equal(1, rig.Framework.Counters.NoHandlerAnswers);
        }
        else
        {
            Assert.Equal(FaultStatus.Ok, status);
            Assert.Same(target == "rid" ? rig.Rid : five, expectedHandler.Groups[0].Attachment);
            Assert.Empty(rig.Responder.Records);
        }
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R10_BUG5_no_handler_answers_the_last_request_invalid_with_the_real_event(string policy)
    {
        var rig = new FaultRig(policy);
        rig.Device.Detach(0);
        var fault = Pri.Last(3, 0x3000, pasid: 2, FaultPermissions.Read | FaultPermissions.Write);

        Assert.Equal(FaultStatus.Invalid, rig.Framework.Report(rig.Device, fault, now: 0));

        var record = Assert.Single(rig.Responder.Records);
        Assert.Equal(fault, record.LastFault);
        Assert.Equal(new PageResponse(2, 3, PageResponseCode.Invalid), record.Response);
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(0, rig.Device.PendingCount);
    }

    [Theory]
    [InlineData("linux", 3, 0)]
    [InlineData("hardened", 1, 2)]
    public void POL1_no_handler_linux_answers_every_request_hardened_only_the_last(string policy, int responses, int drops)
    {
        var rig = new FaultRig(policy);
        rig.Device.Detach(0);
        var last = Pri.Last(6, 0x3000);

        var statuses = rig.Report(Pri.Partial(6, 0x1000), Pri.Partial(6, 0x2000), last);

        Assert.All(statuses, s => Assert.Equal(FaultStatus.Invalid, s));
        Assert.Equal(responses, rig.Responder.Records.Count);
        Assert.All(rig.Responder.Records, r => Assert.Equal(new PageResponse(0, 6, PageResponseCode.Invalid), r.Response));
        Assert.Equal(last, rig.Responder.Records[^1].LastFault);
        Assert.Equal(drops, rig.Framework.Counters.NoHandlerDrops);
        Assert.Equal(responses, rig.Framework.Counters.NoHandlerAnswers);
        Assert.Equal(0, rig.Device.PartialCount);
    }

    [Theory]
    [InlineData("linux", 1)]
    [InlineData("hardened", 0)]
    public void POL1_F4_partials_left_by_a_detached_handler_do_not_join_a_later_group_under_hardened(string policy, int stale)
    {
        var rig = new FaultRig(policy);
        rig.Report(Pri.Partial(5, 0x1000));
        rig.Device.Detach(0);
        rig.Report(Pri.Last(5, 0x2000)); // answered INVALID: nobody handles it now
        rig.Device.Attach(0, rig.Rid);

        rig.Report(Pri.Last(5, 0x3000));

        var group = Assert.Single(rig.Handler.Groups);
        Assert.Equal(stale + 1, group.Faults.Length);
        Assert.Equal(0x3000UL, group.Addresses[^1]);
        Assert.Equal(stale == 1, group.Addresses.Contains(0x1000UL));
    }

    [Theory]
    [InlineData("linux", 2)]
    [InlineData("hardened", 1)]
    public void R11_device_not_added_takes_the_no_handler_path_even_with_a_handler_attached(string policy, int responses)
    {
        var rig = new FaultRig(policy);
        rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0);

        var statuses = rig.Report(Pri.Partial(1, 0x1000), Pri.Last(1, 0x2000));

        Assert.Equal([FaultStatus.Invalid, FaultStatus.Invalid], statuses);
        Assert.Empty(rig.Handler.Groups);
        Assert.Equal(responses, rig.Responder.Records.Count);
        Assert.All(rig.Responder.Records, r => Assert.Equal(PageResponseCode.Invalid, r.Response.Code));
        Assert.Equal(0, rig.Framework.GroupsInUse);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R12_BUG6_partial_allocation_failure_is_no_memory_unanswered_and_missing_from_its_group(string policy)
    {
        var rig = new FaultRig(policy);
        rig.Framework.FailNextAllocations(AllocationSite.Partial, 1);

        var statuses = rig.Report(Pri.Partial(1, 0x1000), Pri.Partial(1, 0x2000));
        Assert.Equal([FaultStatus.NoMemory, FaultStatus.Ok], statuses);
        Assert.Empty(rig.Responder.Records);
        Assert.Equal(1, rig.Device.PartialCount);

        rig.Report(Pri.Last(1, 0x3000));
        Assert.Equal([0x2000ul, 0x3000], rig.LastGroup.Addresses);
        Assert.Equal(1, rig.Framework.Counters.PartialAllocationFailures);
        Assert.Empty(rig.Responder.Records);
    }

    [Theory]
    [InlineData("linux", PageResponseCode.Failure, 0)]
    [InlineData("hardened", PageResponseCode.Success, 1)]
    public void R13_POL3_group_allocation_failure_answers_linux_failure_hardened_success_and_frees_the_partials(
        string policy, PageResponseCode code, int deferrals)
    {
        var rig = new FaultRig(policy);
        rig.Report(Pri.Partial(1, 0x1000), Pri.Partial(1, 0x2000));
        rig.Framework.FailNextAllocations(AllocationSite.Group, 1);
        var last = Pri.Last(1, 0x3000);

        Assert.Equal(FaultStatus.Ok, rig.Framework.Report(rig.Device, last, now: 0));

        Assert.Empty(rig.Handler.Groups);
        var record = Assert.Single(rig.Responder.Records);
        Assert.Equal(new PageResponse(0, 1, code), record.Response);
        Assert.Equal(last, record.LastFault);
        Assert.Equal(deferrals, rig.Framework.Counters.Deferrals);
        Assert.Equal(1, rig.Framework.Counters.AbortedGroups);
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(0, rig.Device.PartialCount);
        Assert.Equal(0, rig.Device.PendingCount);

        // The injected failure is spent: the next group of that index is allocated and holds only itself.
        rig.Report(Pri.Last(1, 0x4000));
        Assert.Equal([0x4000ul], rig.LastGroup.Addresses);
    }

    [Theory]
    [InlineData("linux", PageResponseCode.Failure)]
    [InlineData("hardened", PageResponseCode.Success)]
    public void R13_POL3_an_exhausted_group_pool_is_an_allocation_failure(string policy, PageResponseCode code)
    {
        var rig = new FaultRig(policy, groupLimit: 1);
        rig.Report(Pri.Last(1, 0x1000));
        var held = rig.LastGroup.Handle;

        Assert.Equal(FaultStatus.Ok, rig.Framework.Report(rig.Device, Pri.Last(2, 0x2000), now: 0));
        Assert.Equal(new PageResponse(0, 2, code), Assert.Single(rig.Responder.Records).Response);
        Assert.Single(rig.Handler.Groups);

        rig.Framework.Respond(held, PageResponseCode.Success, now: 0);
        rig.Framework.Free(held);
        rig.Report(Pri.Last(3, 0x3000));
        Assert.Equal(2, rig.Handler.Groups.Count);
    }

    [Theory]
    [InlineData("linux", PageResponseCode.Failure)]
    [InlineData("hardened", PageResponseCode.Invalid)]
    public void R15_POL3_handler_refusing_a_group_answers_linux_failure_hardened_invalid_and_frees_it(string policy, PageResponseCode code)
    {
        var rig = new FaultRig(policy);
        rig.Handler.Accept = false;
        rig.Device.Attach(4, rig.Rid);

        var statuses = rig.Report(Pri.Partial(8, 0x1000, pasid: 4), Pri.Last(8, 0x2000, pasid: 4));

        Assert.Equal([FaultStatus.Ok, FaultStatus.Ok], statuses);
        var refused = Assert.Single(rig.Handler.Groups);
        Assert.Equal([0x1000ul, 0x2000], refused.Addresses);
        Assert.Equal(new PageResponse(4, 8, code), Assert.Single(rig.Responder.Records).Response);
        Assert.Null(rig.Framework.Find(refused.Handle));
        Assert.Equal(0, rig.Framework.GroupsInUse);
        Assert.Equal(0, rig.Device.PendingCount);
        Assert.Equal(1, rig.Framework.Counters.AbortedGroups);
        Assert.Equal(0, rig.Framework.Counters.Deferrals);
    }
}
