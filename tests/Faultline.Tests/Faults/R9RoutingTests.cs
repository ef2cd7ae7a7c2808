using Faultline.Faults;

namespace Faultline.Tests.Faults;

/// <summary>R9: which attach handle serves a fault.</summary>
public sealed class R9RoutingTests
{
    private static (FaultFramework Framework, FaultDevice Device, RecordingHandler Rid, RecordingHandler Pasid5) Rig(bool userManaged, bool nested)
    {
        var framework = new FaultFramework(FaultPolicy.Hardened);
        var device = new FaultDevice("dev", new RecordingResponder()) { UserManagedPasidTable = userManaged };
        Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(FaultFramework.AllocateQueue("q"), device));
        var rid = new RecordingHandler();
        var pasid5 = new RecordingHandler();
        device.Attach(0, new FaultAttachment("rid", rid) { Nested = nested });
        device.Attach(5, new FaultAttachment("p5", pasid5));
        return (framework, device, rid, pasid5);
    }

    private static Fault Last(uint pasid) => new(FaultFlags.LastPage | FaultFlags.PasidValid, pasid, 1, FaultPermissions.Read, 0x1000);

    [Fact]
    public void R9_a_pasid_with_its_own_handle_uses_it()
    {
        var (framework, device, rid, pasid5) = Rig(userManaged: true, nested: true);
        Assert.Equal(FaultStatus.Ok, framework.Report(device, Last(5), now: 0));
        Assert.Single(pasid5.Groups);
        Assert.Empty(rid.Groups);
    }

    [Fact]
    public void R9_a_user_managed_pasid_table_sends_other_pasids_to_the_nested_handle_at_the_rid()
    {
        var (framework, device, rid, _) = Rig(userManaged: true, nested: true);
        Assert.Equal(FaultStatus.Ok, framework.Report(device, Last(9), now: 0));
        Assert.Single(rid.Groups);
    }

    [Theory]
    [InlineData(false, true)]  // the driver manages the PASID table
    [InlineData(true, false)]  // the RID handle is not nested
    public void R9_otherwise_a_pasid_without_a_handle_has_no_handler(bool userManaged, bool nested)
    {
        var (framework, device, rid, _) = Rig(userManaged, nested);
        Assert.Equal(FaultStatus.Invalid, framework.Report(device, Last(9), now: 0)); // R10
        Assert.Empty(rid.Groups);
    }
}
