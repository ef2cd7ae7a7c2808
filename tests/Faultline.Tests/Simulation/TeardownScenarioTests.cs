using Faultline.Host;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>The teardown and overload scenarios, run under both policies (issue acceptance).</summary>
public class TeardownScenarioTests
{
    private static string Scenario(string name) => File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", name));

    private static RunReport Run(string yaml, string policy) => Scenarios.Run(yaml, policy: policy);

    /// <summary>The teardown scenario without accel0's unrelated traffic.</summary>
    private static string Quiet(string yaml)
    {
        const string loaded = "- { device: accel0, process: model,  accesses: 600";
        Assert.Contains(loaded, yaml, StringComparison.Ordinal);
        return yaml.Replace(loaded, "- { device: accel0, process: model,  accesses: 0", StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R25_teardown_under_load_completes_every_teardown_cleanly_and_reuses_the_freed_pasid(string policy)
    {
        var r = Run(Scenario("teardown-under-load.yaml"), policy);

        Assert.Empty(r.InvariantCounts);
        Assert.Equal(2, r.Teardowns.Count);
        Assert.All(r.Teardowns, t => Assert.True(t.Completed));
        var db = Assert.Single(r.Teardowns, t => t.Process == "db");
        var nic0 = Assert.Single(r.Devices, d => d.Name == "nic0");
        Assert.Equal(db.Pasid, nic0.Pasids["ingest"]); // the new process got the PASID of the exited one
        Assert.Equal(1, nic0.StopMarkers);
        Assert.True(nic0.DiscardedAfterStop > 0, "H-PCI-22: late responses to the stopped PASID were discarded");
        Assert.True(nic0.AccessesFailed["PasidStopped"] > 0);
        Assert.Equal(0, nic0.UnexpectedResponses);
    }

    [Fact]
    public void POL8_teardown_time_does_not_grow_with_unrelated_traffic_under_hardened_and_does_under_linux()
    {
        var yaml = Scenario("teardown-under-load.yaml");
        TeardownReport Db(string y, string p) => Assert.Single(Run(y, p).Teardowns, t => t.Process == "db");
        TeardownReport Cache(string y, string p) => Assert.Single(Run(y, p).Teardowns, t => t.Process == "cache");

        // hardened: the flush waits for nothing of accel0, and queued work of the PASID is cancelled.
        Assert.Equal(0, Db(yaml, "hardened").UnrelatedWaitNs);
        Assert.Equal(0, Cache(yaml, "hardened").UnrelatedWaitNs);
        Assert.InRange(Db(yaml, "hardened").DrainNs, 0, Db(Quiet(yaml), "hardened").DrainNs * 3 / 2);
        Assert.Equal(Cache(Quiet(yaml), "hardened").DrainNs, Cache(yaml, "hardened").DrainNs);

        // linux: the flush of the whole queue waits for accel0's groups (R23).
        Assert.True(Db(yaml, "linux").UnrelatedWaitNs > 0);
        Assert.True(Cache(yaml, "linux").UnrelatedWaitNs > 0);
        Assert.True(Db(yaml, "linux").DrainNs > 2 * Db(Quiet(yaml), "linux").DrainNs);
        Assert.True(Cache(yaml, "linux").DrainNs > 10 * Cache(Quiet(yaml), "linux").DrainNs);
        Assert.True(Db(yaml, "linux").DrainNs > 5 * Db(yaml, "hardened").DrainNs);
    }

    [Fact]
    public void POL1_the_overflow_scenario_raises_uprgi_under_linux_only_and_linux_breaks_only_that_named_rule()
    {
        var yaml = Scenario("prq-overflow.yaml");
        var linux = Run(yaml, "linux");
        var hardened = Run(yaml, "hardened");

        Assert.True(Assert.Single(linux.Devices, d => d.Name == "nic1").Uprgi);
        Assert.All(hardened.Devices, d => Assert.False(d.Uprgi));
        Assert.All(hardened.Devices, d => Assert.Equal(0, d.UnexpectedResponses));

        Assert.Empty(hardened.InvariantCounts);
        Assert.Equal(["H-PCI-10"], linux.InvariantCounts.Keys);
        Assert.All(linux.Invariants, v => Assert.Contains("R10, POL-1", v.Message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void H_VTD_3_to_5_R32_the_overflow_scenario_overflows_auto_answers_and_recovers(string policy)
    {
        var r = Run(Scenario("prq-overflow.yaml"), policy);
        var iommu = Assert.Single(r.Iommus);
        Assert.True(iommu.DiscardedFull > 0 && iommu.DiscardedWhileOverflowed > 0);
        Assert.True(iommu.AutoResponses > 0);
        Assert.True(iommu.OverflowsCleared > 0);
        Assert.True(r.Framework.DiscardedPartials > 0, "R24: partials discarded when PRO was cleared");
        Assert.True(r.Framework.RemovedGroups > 0, "R4: nic1's pending groups were answered at removal");
        var nic0 = Assert.Single(r.Devices, d => d.Name == "nic0");
        Assert.Equal(nic0.AccessesStarted, nic0.AccessesCompleted); // the other function survives the overflow
    }

    [Fact]
    public void POL7_R20_responses_to_groups_removed_with_their_device_are_dropped_under_linux_and_rejected_under_hardened()
    {
        var yaml = Scenario("prq-overflow.yaml");
        var linux = Run(yaml, "linux").Framework;
        var hardened = Run(yaml, "hardened").Framework;
        Assert.True(linux.StaleResponsesDropped > 0);
        Assert.Equal(0, linux.StaleResponsesRejected);
        Assert.True(hardened.StaleResponsesRejected > 0);
        Assert.Equal(0, hardened.StaleResponsesDropped);
    }

    [Theory]
    [InlineData("linux", true, 0)]
    [InlineData("hardened", false, 1)]
    public void POL3_R13_an_injected_group_allocation_failure_stops_pri_under_linux_and_defers_under_hardened(string policy, bool rf, int deferrals)
    {
        var yaml = Scenarios.Single().Replace("name: single", "name: single\nhost: { fail_group_allocations: [3] }", StringComparison.Ordinal);
        var r = Run(yaml, policy);
        var d = Assert.Single(r.Devices);
        Assert.Equal(rf, d.ResponseFailure);
        Assert.Equal(1, r.Framework.AbortedGroups);
        Assert.Equal(deferrals, r.Framework.Deferrals);
        if (rf) Assert.True(d.AccessesFailed["ResponseFailure"] > 0);
        else Assert.Equal(0, d.AccessesFailed["ResponseFailure"]);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void H_PCI_19_an_exit_with_a_waiting_stop_leaves_nothing_behind(string policy)
    {
        var yaml = Scenarios.Single() + "\nevents:\n  - { at: 40us, exit: { process: p, stop: wait } }\n";
        var r = Run(yaml, policy);
        Assert.Empty(r.InvariantCounts);
        var t = Assert.Single(r.Teardowns);
        Assert.Equal("wait", t.Stop);
        Assert.True(t.Completed);
        Assert.Equal(0, Assert.Single(r.Devices).StopMarkers);
    }
}
