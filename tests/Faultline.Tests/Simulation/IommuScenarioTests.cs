using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>The SMMUv3 stall and cross-architecture scenarios (issue acceptance for stall-contention.yaml and same-workload-every-iommu.yaml).</summary>
public sealed class IommuScenarioTests
{
    private static RunReport Run(string file, string policy) =>
        Scenarios.Run(File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", file)), policy: policy);

    private static MasterReport Master(RunReport r, string name) => Assert.Single(r.Masters, m => m.Name == name);

    [Fact]
    public void H_SMMU_9_POL_12_a_slow_handler_fills_stall_max_under_linux_and_only_its_budget_under_hardened()
    {
        var linux = Run("stall-contention.yaml", "linux");
        var hardened = Run("stall-contention.yaml", "hardened");
        var linuxStall = Assert.Single(linux.Iommus).Stall!;
        var hardenedStall = Assert.Single(hardened.Iommus).Stall!;

        // Both runs end clean: every stall resumed or terminated, every transaction ended.
        Assert.Empty(linux.InvariantCounts);
        Assert.Empty(hardened.InvariantCounts);
        Assert.Equal(linuxStall.Stalls, linuxStall.ResumedRetry + linuxStall.ResumedAbort + linuxStall.ResumedTerminate + linuxStall.StallTermTerminated);
        Assert.Equal(hardenedStall.Stalls, hardenedStall.ResumedRetry + hardenedStall.ResumedAbort + hardenedStall.ResumedTerminate + hardenedStall.StallTermTerminated);

        // The buffer is the shared resource: full under linux, and the summary shows it over time.
        Assert.Equal(8, linuxStall.HighWater);
        Assert.Equal(20, linuxStall.Occupancy.Count);
        Assert.True(linuxStall.BackPressured > 0);
        Assert.Equal(0, linuxStall.BudgetTerminated);
        Assert.True(hardenedStall.BudgetTerminated > 0);

        // The other masters: slow behind the slow handler under linux, fast under hardened (POL-12).
        foreach (var name in new[] { "dsp0", "vpu0", "isp0" })
        {
            var l = Master(linux, name);
            var h = Master(hardened, name);
            Assert.Equal(l.Accesses, l.Completed);
            Assert.Equal(h.Accesses, h.Completed);
            Assert.True(h.AccessLatency.P99Ns * 4 < l.AccessLatency.P99Ns, $"{name}: p99 {h.AccessLatency.P99Ns} ns hardened vs {l.AccessLatency.P99Ns} ns linux");
        }
        // The slow master is no victim: its stalls end, its faults are resolved in the background and it retries (POL-12).
        Assert.Equal(Master(linux, "slow0").Accesses, Master(linux, "slow0").Completed);
        Assert.Equal(Master(hardened, "slow0").Accesses, Master(hardened, "slow0").Completed);
    }

    [Fact]
    public void The_same_workload_behind_vtd_smmuv3_and_amd_sends_the_same_requests_and_parts_at_overflow()
    {
        var r = Run("same-workload-every-iommu.yaml", "hardened");
        var vtd = Assert.Single(r.Iommus, i => i.Kind == "vtd");
        var smmu = Assert.Single(r.Iommus, i => i.Kind == "smmuv3");
        var amd = Assert.Single(r.Iommus, i => i.Kind == "amd");
        var fnVtd = Assert.Single(r.Devices, d => d.Iommu == vtd.Name);
        var fnSmmu = Assert.Single(r.Devices, d => d.Iommu == smmu.Name);

        // One random stream: VT-d and SMMUv3 see the very same requests.
        Assert.Equal(fnVtd.PageRequests, fnSmmu.PageRequests);
        Assert.True(vtd.DiscardedFull + vtd.DiscardedWhileOverflowed > 0 && smmu.DiscardedFull > 0 && amd.DiscardedFull + amd.DiscardedWhileOverflowed > 0);
        Assert.Equal(0, smmu.DiscardedWhileOverflowed);       // H-SMMU-3: writes resume as soon as there is room
        Assert.True(vtd.DiscardedWhileOverflowed > vtd.DiscardedFull); // H-VTD-4: discards while PRO is set
        Assert.True(vtd.AutoResponses > 0 && smmu.AutoResponses > 0); // H-VTD-5, H-SMMU-3 default Success
        Assert.Equal(0, amd.AutoResponses);                    // H-AMD-2: nothing answers a lost request
        Assert.True(amd.OverflowsCleared > 0);                 // the log was restarted
        Assert.All(r.Invariants, v => Assert.Contains("H-AMD-2", v.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void R38_linux_gives_the_smmuv3_function_no_fault_service_at_all()
    {
        var r = Run("same-workload-every-iommu.yaml", "linux");
        var fnSmmu = Assert.Single(r.Devices, d => d.Name == "fn-smmu");
        Assert.Equal(0, fnSmmu.PageRequests);
        Assert.Empty(fnSmmu.Pasids);
        Assert.Contains(r.Notes, n => n.Contains("R38", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("hardened")]
    [InlineData("linux")]
    public void H_SMMU_13_R25_a_process_on_stall_masters_exits_only_after_their_events_are_drained(string policy)
    {
        string yaml = File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "default.yaml")) + """

            events:
              - { at: 1ms, exit: { process: vision, stop: marker } }
            """;
        var r = Scenarios.Run(yaml, policy: policy);
        var masters = r.Teardowns.Where(t => t.Device is "dsp0" or "isp0").ToList();
        Assert.Equal(2, masters.Count);
        Assert.All(masters, t =>
        {
            Assert.True(t.Completed);
            Assert.Equal("none", t.Stop); // no PASID stop protocol: the driver waits for the master's transactions
            Assert.True(t.StopNs > 0, "the master's transactions on the PASID end first");
        });
        Assert.Empty(r.InvariantCounts); // nothing of the PASID left in the event queue (H-SMMU-13), nothing pending (R25)
    }
}
