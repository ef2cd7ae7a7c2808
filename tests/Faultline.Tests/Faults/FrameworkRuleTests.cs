using Faultline.Faults;

namespace Faultline.Tests.Faults;

/// <summary>
/// Framework rules the catalogue (docs/rules/framework.md) found without a test of their own: R28 (the
/// attach slot), R29 (a replace away from a fault-capable domain) and F6 (the report path allocates nothing).
/// </summary>
public sealed class FrameworkRuleTests
{
    private const uint Pasid = 5;

    [Fact]
    public void R28_attaching_at_an_occupied_pasid_is_busy_until_the_slot_is_detached()
    {
        var rig = new FaultRig();
        var first = new FaultAttachment("sva", rig.Handler);
        var second = new FaultAttachment("other", rig.Handler);

        Assert.Equal(FaultStatus.Ok, rig.Device.Attach(Pasid, first));
        Assert.Equal(FaultStatus.Busy, rig.Device.Attach(Pasid, second)); // a compare-exchange NULL -> handle
        Assert.Same(first, rig.Device.AttachmentAt(Pasid));

        Assert.Same(first, rig.Framework.Detach(rig.Device, Pasid));
        Assert.Null(rig.Framework.Detach(rig.Device, Pasid)); // nothing attached any more
        Assert.Equal(FaultStatus.Ok, rig.Device.Attach(Pasid, second));
        Assert.Same(second, rig.Device.AttachmentAt(Pasid));
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R29_after_a_replace_by_a_domain_without_a_handler_new_faults_take_the_no_handler_path_and_old_groups_stay_with_their_owner(string policy)
    {
        var rig = new FaultRig(policy);
        Assert.Equal(FaultStatus.Ok, rig.Device.Attach(Pasid, new FaultAttachment("iopf", rig.Handler)));
        Assert.Equal([FaultStatus.Ok], rig.Report(Pri.Last(1, Pri.Page, Pasid)));
        var delivered = rig.LastGroup.Handle;

        // Replace: the slot now holds a domain that cannot take faults (R9 step 3: no iopf_handler).
        rig.Framework.Detach(rig.Device, Pasid);
        Assert.Equal(FaultStatus.Ok, rig.Device.Attach(Pasid, new FaultAttachment("blocking", handler: null)));

        Assert.Equal([FaultStatus.Invalid], rig.Report(Pri.Last(2, 2 * Pri.Page, Pasid))); // R10, at once
        Assert.Single(rig.Handler.Groups);
        Assert.Equal(new PageResponse(Pasid, 2, PageResponseCode.Invalid), Assert.Single(rig.Responder.Records).Response);

        // The group delivered before the replace is its old owner's to answer (iommufd: R43); the framework keeps it pending.
        Assert.Equal(1, rig.Device.PendingCount);
        rig.Answer(delivered);
        Assert.Equal(new PageResponse(Pasid, 1, PageResponseCode.Success), rig.Responder.Records[^1].Response);
        Assert.Equal(0, rig.Device.PendingCount);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void F6_report_respond_and_free_of_multi_fault_groups_allocate_nothing_once_warm(string policy)
    {
        var answering = new AnsweringHandler();
        var framework = new FaultFramework(FaultRig.PolicyNamed(policy));
        var responder = new CountingResponder();
        var device = new FaultDevice("dev0", responder);
        Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(FaultFramework.AllocateQueue("q0"), device));
        Assert.Equal(FaultStatus.Ok, device.Attach(Pasid, new FaultAttachment("sva", answering)));
        answering.Framework = framework;

        void Groups(int count)
        {
            for (uint g = 0; g < (uint)count; g++)
            {
                uint index = g % 512;
                framework.Report(device, Pri.Partial(index, Pri.Page, Pasid), now: 0);
                framework.Report(device, Pri.Partial(index, 2 * Pri.Page, Pasid), now: 0);
                framework.Report(device, Pri.Last(index, 3 * Pri.Page, Pasid), now: 0);
            }
        }

        Groups(1024); // warm: pools and stores reach their steady size
        long before = GC.GetAllocatedBytesForCurrentThread();
        Groups(4096);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal(1024 + 4096, answering.Answered); // every group whole, answered and freed
        Assert.Equal(1024 + 4096, responder.Responses);
        Assert.Equal(0, device.PendingCount);
        Assert.Equal(0, framework.GroupsInUse);
    }

    /// <summary>A handler that answers and frees each whole group at once, keeping nothing but a count.</summary>
    private sealed class AnsweringHandler : IFaultHandler
    {
        public FaultFramework Framework { get; set; } = null!;
        public int Answered { get; private set; }

        public bool Handle(FaultGroup group, long now)
        {
            var handle = group.Handle;
            if (group.Count == 3 && Framework.Respond(handle, PageResponseCode.Success, now: 0) == ResponseStatus.Responded && Framework.Free(handle))
                Answered++;
            return true;
        }
    }

    /// <summary>The driver's page_response op, counting without keeping the responses.</summary>
    private sealed class CountingResponder : IPageResponder
    {
        public int Responses { get; private set; }

        public void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response, long now) => Responses++;
    }
}
