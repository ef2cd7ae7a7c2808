using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;
using Faultline.Simulation;
using Faultline.Tests.Simulation;

namespace Faultline.Tests.Iommu.Smmuv3;

/// <summary>
/// R38: mainline's SMMUv3 driver never enables PRI in a PCIe function (no <c>pci_enable_pri</c>; PASID and ATS only,
/// <c>arm_smmu_enable_pasid</c> / <c>arm_smmu_enable_ats</c>); the unmerged 2020 PRI series does, behind its own switch.
/// </summary>
public sealed class Smmuv3PriSeriesTests
{
    private static PriFunction Function() =>
        new(new PriFunctionConfig { Name = "fn0300", Requester = new RequesterId(Smmuv3Rig.FunctionRid) }, new UnusedPort());

    /// <summary>same-workload-every-iommu.yaml sets <c>pri_series: true</c> to keep its results; without it, the policy decides.</summary>
    private static RunReport Run(string policy, bool keepKey)
    {
        string yaml = File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "same-workload-every-iommu.yaml"));
        Assert.Contains(", pri_series: true", yaml, StringComparison.Ordinal);
        return Scenarios.Run(keepKey ? yaml : yaml.Replace(", pri_series: true", "", StringComparison.Ordinal), policy: policy);
    }

    private static DeviceReport FnSmmu(RunReport r) => Assert.Single(r.Devices, d => d.Name == "fn-smmu");

    [Fact]
    public void R38_linux_probe_enables_pasid_and_ats_but_never_pri_as_arm_smmu_probe_device()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Linux);
        Assert.False(rig.Driver.Config.PriSeries);
        var function = Function();
        Assert.Equal(PciEnableError.None, rig.Driver.ProbeDevice(function, 0));
        Assert.True(function.Pasid!.Enabled);
        Assert.True(function.Ats.Enabled);
        Assert.False(function.Pri.Enabled);
        Assert.Equal(0u, function.Pri.Allocation);
        Assert.Equal(0, function.ConfigViolations);
        var (status, device, _) = rig.Driver.AddDevice(function, "fn");
        Assert.Equal(FaultStatus.NoDevice, status);
        Assert.Null(device);
    }

    [Fact]
    public void R38_linux_function_without_the_series_gets_no_pri_and_the_note_says_why()
    {
        var r = Run("linux", keepKey: false);
        var fn = FnSmmu(r);
        Assert.Equal(0u, fn.Allocation);
        Assert.Equal(0, fn.PageRequests);
        Assert.Contains(r.Notes, n => n.StartsWith("fn-smmu: IOPF refused", StringComparison.Ordinal)
            && n.Contains("never enables PRI", StringComparison.Ordinal) && n.Contains("R38", StringComparison.Ordinal));
    }

    [Fact]
    public void R38_pri_series_key_enables_pri_at_probe_under_linux_and_the_deny_service_still_refuses_iopf()
    {
        var r = Run("linux", keepKey: true);
        var fn = FnSmmu(r);
        Assert.Equal(512u, fn.Allocation); // the function's PRI is on, as before issue 10 item 1
        Assert.Equal(0, fn.PageRequests); // no IOPF under pri_service deny, so no SVA bind and no fault to send
        Assert.Contains(r.Notes, n => n.StartsWith("fn-smmu: IOPF refused", StringComparison.Ordinal)
            && n.Contains("does not service PRI", StringComparison.Ordinal));
    }

    [Fact]
    public void R38_hardened_carries_the_pri_series_by_default()
    {
        Assert.True(new Smmuv3Rig(FaultPolicy.Hardened).Driver.Config.PriSeries);
        var r = Run("hardened", keepKey: false);
        var fn = FnSmmu(r);
        Assert.Equal(512u, fn.Allocation);
        Assert.True(fn.PageRequests > 0);
        Assert.DoesNotContain(r.Notes, n => n.StartsWith("fn-smmu: IOPF refused", StringComparison.Ordinal));
    }

    [Fact]
    public void R38_pri_series_false_turns_the_series_off_under_hardened()
    {
        var r = Scenarios.Run(File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "same-workload-every-iommu.yaml"))
            .Replace("pri_series: true", "pri_series: false", StringComparison.Ordinal), policy: "hardened");
        Assert.Equal(0u, FnSmmu(r).Allocation);
        Assert.Contains(r.Notes, n => n.StartsWith("fn-smmu: IOPF refused", StringComparison.Ordinal) && n.Contains("pri_series off", StringComparison.Ordinal));
    }
}
