using Faultline.Faults;
using Faultline.Host;

namespace Faultline.Tests.Faults;

/// <summary>
/// The isolation invariant (issue 14): a group is resolved only in the domain its (device, PASID) was bound to
/// when the group's first request arrived. The framework checks it as each group completes, under both policies.
/// </summary>
public sealed class IsolationTests
{
    private sealed class Rig
    {
        public Rig(FaultPolicy policy)
        {
            Framework = new FaultFramework(policy);
            Framework.IsolationBreached = (group, first, now) => Breaches.Add((group.Attachment!.Domain, first.Domain, now));
            Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(FaultFramework.AllocateQueue("q"), Device));
            Assert.Equal(FaultStatus.Ok, Device.Attach(1, new FaultAttachment("mm-a", A)));
            Assert.Equal(FaultStatus.Ok, Device.Attach(2, new FaultAttachment("mm-b", B)));
        }

        public FaultFramework Framework { get; }
        public FaultDevice Device { get; } = new("dev", new RecordingResponder());
        public RecordingHandler A { get; } = new();
        public RecordingHandler B { get; } = new();
        public List<(string Resolved, string First, long Now)> Breaches { get; } = [];
    }

    [Fact]
    public void Isolation_R14_linux_joins_two_pasids_on_one_prg_index_and_the_breach_is_reported()
    {
        var rig = new Rig(FaultPolicy.Linux);
        rig.Framework.Report(rig.Device, Pri.Partial(5, Pri.Page, pasid: 1), now: 10);
        rig.Framework.Report(rig.Device, Pri.Last(5, 2 * Pri.Page, pasid: 2), now: 20);

        var group = Assert.Single(rig.B.Groups);
        Assert.Equal(2, group.Faults.Length); // PASID 1's page is resolved in mm-b
        Assert.Equal([("mm-b", "mm-a", 20L)], rig.Breaches);
        Assert.Equal(1, rig.Framework.Counters.IsolationBreaches);
    }

    [Fact]
    public void Isolation_POL_2_hardened_keeps_the_pasids_apart_and_nothing_is_reported()
    {
        var rig = new Rig(FaultPolicy.Hardened);
        rig.Framework.Report(rig.Device, Pri.Partial(5, Pri.Page, pasid: 1), now: 10);
        rig.Framework.Report(rig.Device, Pri.Last(5, 2 * Pri.Page, pasid: 2), now: 20);

        Assert.Single(Assert.Single(rig.B.Groups).Faults);
        Assert.Empty(rig.Breaches);
        Assert.Equal(0, rig.Framework.Counters.IsolationBreaches);
    }

    [Theory]
    [InlineData("linux", 1)]    // POL-10: the partial lingers and joins the new binding's group (F4)
    [InlineData("hardened", 0)] // POL-10: purged at detach
    public void Isolation_POL_10_a_partial_from_before_a_rebind_of_the_pasid(string policy, int breaches)
    {
        var rig = new Rig(FaultPolicy.ByName(policy)!);
        rig.Framework.Report(rig.Device, Pri.Partial(7, Pri.Page, pasid: 1), now: 10);
        rig.Framework.Detach(rig.Device, 1);
        var c = new RecordingHandler();
        Assert.Equal(FaultStatus.Ok, rig.Device.Attach(1, new FaultAttachment("mm-c", c)));
        rig.Framework.Report(rig.Device, Pri.Last(7, 2 * Pri.Page, pasid: 1), now: 30);

        Assert.Single(c.Groups);
        Assert.Equal(breaches, rig.Breaches.Count);
    }

    [Fact]
    public void Isolation_the_host_kernel_reports_a_breach_as_an_invariant_named_isolation()
    {
        var kernel = new HostKernel(new HostSpec(), FaultPolicy.Linux, new IgnoringHost());
        var device = new FaultDevice("fn0", new RecordingResponder());
        Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(FaultFramework.AllocateQueue("q"), device));
        device.Attach(1, new FaultAttachment("mm-a", new RecordingHandler()));
        device.Attach(2, new FaultAttachment("mm-b", new RecordingHandler()));

        kernel.Framework.Report(device, Pri.Partial(3, Pri.Page, pasid: 1), now: 100);
        kernel.Framework.Report(device, Pri.Last(3, 2 * Pri.Page, pasid: 2), now: 200);

        var violation = Assert.Single(kernel.Invariants.Kept);
        Assert.Equal("isolation", violation.Rule);
        Assert.Equal(200, violation.TimeNs);
        Assert.Contains("mm-b", violation.Message, StringComparison.Ordinal);
        Assert.Contains("mm-a", violation.Message, StringComparison.Ordinal);
        Assert.Contains("R14", violation.Message, StringComparison.Ordinal);
    }

    private sealed class IgnoringHost : IKernelHost
    {
        public void Take(in HostAction action) { }
    }
}
