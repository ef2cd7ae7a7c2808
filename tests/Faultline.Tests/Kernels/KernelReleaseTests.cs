using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv3;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using Faultline.Simulation;
using Faultline.Tests.Faults;
using Faultline.Tests.Iommu;
using Faultline.Tests.Iommu.Smmuv3;
using Faultline.Tests.Simulation;
using Faultline.Tests.Userspace;
using Faultline.Userspace;

namespace Faultline.Tests.Kernels;

/// <summary>
/// Issue 10 item 2: the <c>linux</c> policy pinned to a release (<see cref="FaultPolicy.LinuxAt"/>). Each test names the
/// rule and the upstream function whose behaviour changed, and checks the switch on both sides of the release.
/// </summary>
public class KernelReleaseTests
{
    private static FaultPolicy At(int minor) => FaultPolicy.LinuxAt(new KernelRelease(6, minor));

    [Theory]
    [InlineData("6.12", 6, 12)]
    [InlineData("v6.6", 6, 6)]
    [InlineData(" 6.18 ", 6, 18)]
    public void A_release_parses_from_its_number_or_tag(string text, int major, int minor) =>
        Assert.Equal(new KernelRelease(major, minor), KernelRelease.Parse(text));

    [Theory]
    [InlineData("6")]
    [InlineData("6.12.3")]
    [InlineData("six.twelve")]
    [InlineData("-6.12")]
    public void Text_that_is_not_major_dot_minor_is_no_release(string text) => Assert.Null(KernelRelease.Parse(text));

    [Fact]
    public void Releases_compare_by_major_then_minor_and_only_v6_6_to_v6_18_are_modelled()
    {
        Assert.True(new KernelRelease(6, 9) > new KernelRelease(6, 8));
        Assert.True(new KernelRelease(6, 10) > new KernelRelease(6, 9)); // not as text
        Assert.True(new KernelRelease(7, 0) > KernelRelease.Newest);
        Assert.Equal("v6.12", new KernelRelease(6, 12).ToString());
        Assert.True(KernelRelease.TryParseModelled("6.6", out _, out _));
        Assert.False(KernelRelease.TryParseModelled("6.5", out _, out var old));
        Assert.Contains("v6.6 to v6.18", old);
        Assert.False(KernelRelease.TryParseModelled("6.19", out _, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => FaultPolicy.LinuxAt(new KernelRelease(5, 15)));
    }

    [Fact]
    public void The_newest_release_is_the_linux_preset_and_an_older_one_is_named_after_itself()
    {
        Assert.Equal(FaultPolicy.Linux, FaultPolicy.LinuxAt(KernelRelease.Newest)); // the preset's switches are the newest release's
        Assert.Equal(KernelRelease.Newest, FaultPolicy.Linux.Kernel);
        Assert.Equal(KernelRelease.Newest, FaultPolicy.Hardened.Kernel);
        var lts = At(12);
        Assert.Equal("linux@6.12", lts.Name);
        Assert.Equal(lts, FaultPolicy.ByName("linux@6.12"));
        Assert.Equal(lts, FaultPolicy.ByName("linux@v6.12"));
        Assert.Equal(FaultPolicy.Linux, FaultPolicy.ByName("linux@6.18"));
        Assert.Null(FaultPolicy.ByName("linux@6.5"));
        Assert.Null(FaultPolicy.ByName("hardened@6.12"));
        // Every switch no release decides is the linux preset's.
        Assert.Equal(FaultPolicy.Linux with { Name = lts.Name, Kernel = lts.Kernel, VtdResponseLpig = true, VtdIopfNeedsPageDrain = false, RefuseEveryVf = true, RemoveDeviceFreesGroups = false, VtdPasidlessRequestsAreBad = true }, lts);
    }

    [Fact]
    public void R22_H_VTD_10_intel_iommu_page_response_copies_lpig_up_to_v6_17_and_leaves_it_zero_from_v6_18()
    {
        foreach (var (policy, lpig) in new[] { (At(6), true), (At(17), true), (FaultPolicy.Linux, false) })
        {
            var rig = new VtdRig(policy);
            rig.Deliver(VtdRig.Request(last: true, index: 0x1AB));
            rig.Driver.HandlePageRequests(now: 0);
            rig.Respond(0, PageResponseCode.Success);
            Assert.Equal(lpig, Assert.Single(rig.Submitted()).LastPageInGroup);
        }
    }

    // H-VTD-9 by release: VtdDriverTests.H_VTD_9_page_response_echoes_private_data_under_hardened_and_up_to_v6_9_and_zeroes_it_from_v6_10.

    [Fact]
    public void H_VTD_12_R31_prq_event_thread_answers_a_request_without_pasid_invalid_up_to_v6_12_and_reports_it_at_the_rid_from_v6_13()
    {
        foreach (var (policy, bad) in new[] { (At(12), true), (At(13), false), (FaultPolicy.Linux, false) })
        {
            var rig = new VtdRig(policy);
            rig.Deliver(VtdRig.Request(last: true, index: 5, pasid: null));
            rig.Driver.HandlePageRequests(now: 0);
            Assert.Equal(bad ? 0 : 1, rig.Handler.Faults.Count);
            Assert.Equal(bad ? [ResponseCode.InvalidRequest] : Array.Empty<ResponseCode>(), rig.Submitted().Select(r => r.Code));
        }
    }

    [Fact]
    public void H_VTD_14_BUG_16_intel_iommu_probe_device_gives_no_iopf_without_pds_from_v6_18_and_does_before()
    {
        foreach (var (policy, status) in new[] { (At(17), FaultStatus.Ok), (FaultPolicy.Linux, FaultStatus.NoDevice) })
        {
            var iommu = new VtdIommu(new VtdConfig { Name = "dmar1", PageRequestQueueOrder = 0, PageDrainSupported = false }, new RecordingVtdPlatform());
            var driver = new VtdDriver(iommu, new FaultFramework(policy));
            Assert.Equal(status, driver.AddDevice(VtdRig.ProbedFunction(driver, VtdRig.DeviceRid), "dev0").Status);
        }
    }

    [Fact]
    public void R36_arm_smmu_handle_event_reports_stage2_stalls_from_v6_12_and_prints_them_before()
    {
        foreach (var (policy, reported) in new[] { (At(11), false), (At(12), true), (FaultPolicy.Linux, true) })
        {
            var rig = new Smmuv3Rig(policy);
            rig.AddMaster();
            var s2 = new byte[FaultEvent.Size];
            new FaultEvent(FaultEvent.TranslationFault, Smmuv3Rig.MasterSid, false, default, 9, true, false, false, true, S2: true, 0, 0x1000, 0x1000).Encode(s2);
            Assert.Equal(RingWrite.Written, rig.Smmu.EventQueue.TryProduce(s2));
            rig.Driver.HandleEvents(now: 0);
            Assert.Equal(reported ? 1 : 0, rig.Handler.Faults.Count);
            Assert.Equal(reported ? 0 : 1, rig.Driver.Counters.EventsPrinted);
        }
    }

    [Fact]
    public void R5_R4_iopf_queue_remove_device_refuses_with_ebusy_while_groups_are_pending_before_v6_9_and_answers_them_from_v6_9()
    {
        foreach (var (policy, status) in new[] { (At(8), FaultStatus.Busy), (At(9), FaultStatus.Ok), (At(12), FaultStatus.Ok) })
        {
            var rig = new FaultRig(policy);
            rig.Report(Pri.Last(1, 0x3000));
            Assert.Equal(status, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));
            Assert.Equal(status == FaultStatus.Ok ? 1 : 0, rig.Responder.Records.Count);
        }
    }

    [Fact]
    public void R4_BUG1_iopf_queue_remove_device_frees_the_groups_it_answers_from_v6_14_and_leaks_them_in_v6_9_to_v6_13()
    {
        foreach (var (policy, leaked) in new[] { (At(9), 1), (At(13), 1), (At(14), 0), (FaultPolicy.Linux, 0) })
        {
            var rig = new FaultRig(policy);
            rig.Report(Pri.Last(1, 0x3000));
            Assert.Equal(FaultStatus.Ok, rig.Framework.RemoveDevice(rig.Queue, rig.Device, now: 0));
            Assert.Equal(PageResponseCode.Invalid, Assert.Single(rig.Responder.Records).Response.Code);
            Assert.Equal(leaked, rig.Framework.GroupsInUse);
        }
    }

    [Fact]
    public void R10_R15_BUG5_iommu_report_device_fault_in_v6_9_and_v6_10_answers_nothing_without_fault_state_and_failure_without_a_handler()
    {
        foreach (var (policy, codes) in new[]
        {
            (At(8), new[] { PageResponseCode.Invalid }), // v6.6–v6.8: the driver answers the last (R17)
            (At(9), [PageResponseCode.Failure]),
            (At(10), [PageResponseCode.Failure]),
            (At(11), [PageResponseCode.Invalid, PageResponseCode.Invalid]), // R10: every request
            (FaultPolicy.Linux, [PageResponseCode.Invalid, PageResponseCode.Invalid]),
        })
        {
            var rig = new FaultRig(policy);
            rig.Device.Detach(0);
            rig.Framework.Report(rig.Device, Pri.Partial(3, 0x2000, pasid: 2), now: 0);
            rig.Framework.Report(rig.Device, Pri.Last(3, 0x3000, pasid: 2), now: 0);
            Assert.Equal(codes, rig.Responder.Records.Select(r => r.Response.Code));

            var removed = new FaultRig(policy);
            Assert.Equal(FaultStatus.Ok, removed.Framework.RemoveDevice(removed.Queue, removed.Device, now: 0));
            removed.Framework.Report(removed.Device, Pri.Last(3, 0x3000, pasid: 2), now: 0);
            Assert.Equal(policy.NoHandler == NoHandlerPolicy.VoidReport ? 0 : 1, removed.Responder.Records.Count); // BUG-5
        }
    }

    [Fact]
    public void R41_BUG_14_iommufd_fault_iopf_enable_refuses_every_vf_in_v6_11_and_v6_12_and_only_a_vf_with_pri_later()
    {
        var vf = new ConfigSpace(RequesterId.From(1, 0, 1), new ConfigSpace(RequesterId.From(1, 0, 0), null)); // its PF has no PRI
        foreach (var (policy, errno) in new[] { (At(11), FaultQueueErrno.EINVAL), (At(12), FaultQueueErrno.EINVAL), (At(13), FaultQueueErrno.None), (FaultPolicy.Linux, FaultQueueErrno.None) })
            Assert.Equal(errno, FaultCapableAttach.Check(vf, policy.RefuseEveryVf));
    }

    private static string Example(string file) => File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", file));

    [Fact]
    public void R39_a_scenario_whose_kernel_key_predates_the_fault_queue_is_refused_naming_the_key_the_release_and_the_feature()
    {
        var text = Example("hostile-guests.yaml").Replace("policy: hardened", "policy: linux\nkernel: 6.10", StringComparison.Ordinal);
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "hostile-guests.yaml"));
        Assert.Contains("kernel: 6.10", e.Message, StringComparison.Ordinal);
        Assert.Contains("iommufd fault queue, which arrived in v6.11", e.Message, StringComparison.Ordinal);
        Assert.Equal("linux@6.11", ScenarioReader.Parse(text.Replace("kernel: 6.10", "kernel: 6.11", StringComparison.Ordinal), "hostile-guests.yaml").Policy);
    }

    [Fact]
    public void R39_a_policy_named_after_a_release_reads_as_the_kernel_key_does_and_is_refused_the_same_way()
    {
        var text = Example("default.yaml").Replace("policy: hardened", "policy: linux@v6.12", StringComparison.Ordinal);
        Assert.Equal("linux@6.12", ScenarioReader.Parse(text, "default.yaml").Policy);
        var guests = Example("hostile-guests.yaml").Replace("policy: hardened", "policy: linux@6.10", StringComparison.Ordinal);
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(guests, "hostile-guests.yaml"));
        Assert.Contains("policy: linux@6.10: its guests need the iommufd fault queue", e.Message, StringComparison.Ordinal);
        Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text.Replace("linux@v6.12", "linux@6.5", StringComparison.Ordinal), "default.yaml"));
    }

    [Fact]
    public void R39_the_library_refuses_a_release_that_predates_the_scenario_s_guests_as_the_reader_does()
    {
        var scenario = ScenarioReader.Parse(Example("hostile-guests.yaml"), "hostile-guests.yaml");
        var e = Assert.Throws<ArgumentException>(() => Simulator.Run(scenario, policy: "linux@6.10"));
        Assert.Contains("cannot run under linux@6.10: its guests need the iommufd fault queue, which arrived in v6.11", e.Message, StringComparison.Ordinal);
        Assert.Equal("linux@6.11", Simulator.Run(scenario with { TimeLimitNs = 200_000 }, policy: "linux@6.11").Policy);
    }

    [Fact]
    public void R35_run_kernel_before_v6_10_refuses_an_amd_scenario_naming_the_option_and_amd_ppr()
    {
        var path = Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "same-workload-every-iommu.yaml");
        var (exit, _, stderr) = CommandLine.Invoke("run", path, "--policy", "linux", "--kernel", "6.9");
        Assert.Equal(Faultline.Cli.ExitCodes.BadInput, exit);
        Assert.Contains("--kernel 6.9", stderr, StringComparison.Ordinal);
        Assert.Contains("PPR path (amd/ppr.c), which arrived in v6.10", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--kernel", "6.12")]
    [InlineData("--policy", "hardened", "--kernel", "6.12")]
    [InlineData("--policy", "linux,hardened", "--kernel", "6.12")]
    public void Kernel_pins_only_the_linux_policy_and_hardened_is_refused(params string[] args)
    {
        var (exit, _, stderr) = CommandLine.Invoke(["run", "--quiet", .. args]);
        Assert.Equal(Faultline.Cli.ExitCodes.BadInput, exit);
        Assert.Contains("hardened is v6.18 with the POLs", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("6.5", "not modelled")]
    [InlineData("latest", "not a kernel release")]
    public void Kernel_outside_the_modelled_releases_is_refused(string release, string message)
    {
        var (exit, _, stderr) = CommandLine.Invoke("run", "--quiet", "--policy", "linux", "--kernel", release);
        Assert.Equal(Faultline.Cli.ExitCodes.BadInput, exit);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Kernel_names_the_pinned_policy_in_the_summary()
    {
        var (exit, stdout, _) = CommandLine.Invoke("run", "--policy", "linux", "--kernel", "v6.12", "--section", "invariants");
        Assert.True(exit is Faultline.Cli.ExitCodes.Ok or Faultline.Cli.ExitCodes.InvariantsBroken);
        Assert.Contains("policy linux@6.12", stdout, StringComparison.Ordinal);
    }
}
