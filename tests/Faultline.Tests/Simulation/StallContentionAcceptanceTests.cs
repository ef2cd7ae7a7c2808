using System.Text.RegularExpressions;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// Issue 10 item 3 (stall half): under <c>hardened</c>, stall-contention.yaml's slow master completes at least half of what it
/// completes alone, and the fast masters stay within 5 % of the scenario without it (completed accesses, mean and p99 latency).
/// Latencies are the simulator's virtual time, the same every run.
/// </summary>
public sealed class StallContentionAcceptanceTests
{
    private static readonly string[] Fast = ["dsp0", "vpu0", "isp0"];

    private static string Scenario() => File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "stall-contention.yaml"));

    /// <summary>The scenario without the masters named and their workloads.</summary>
    private static string Without(string yaml, params string[] masters) =>
        string.Join('\n', yaml.Split('\n').Where(line =>
            !masters.Any(m => Regex.IsMatch(line, $@"^\s+- \{{ (name|device): {m},"))));

    private static MasterReport Master(RunReport r, string name) => Assert.Single(r.Masters, m => m.Name == name);

    [Fact]
    public void POL_12_H_SMMU_9_hardened_has_no_victim_the_slow_master_completes_and_the_fast_ones_keep_their_baseline()
    {
        var yaml = Scenario();
        var shared = Scenarios.Run(yaml, policy: "hardened");
        var alone = Scenarios.Run(Without(yaml, Fast), policy: "hardened");
        var baseline = Scenarios.Run(Without(yaml, "slow0"), policy: "hardened");
        Assert.Empty(shared.InvariantCounts);

        // Seed 3: 150 of 150 beside the others, 150 alone (0 of 150 before its faults were resolved in the background and retried).
        var slow = Master(shared, "slow0");
        Assert.Equal(150, Master(alone, "slow0").Completed);
        Assert.True(2 * slow.Completed >= Master(alone, "slow0").Completed, $"slow0 completed {slow.Completed}");
        Assert.Equal(slow.Accesses, slow.Completed);
        var stall = Assert.Single(shared.Iommus).Stall!;
        Assert.True(stall.BudgetTerminated > 0);

        foreach (var name in Fast)
        {
            var m = Master(shared, name);
            var b = Master(baseline, name);
            Assert.Equal(b.Completed, m.Completed);
            Assert.True(m.AccessLatency.MeanNs <= 1.05 * b.AccessLatency.MeanNs, $"{name}: mean {m.AccessLatency.MeanNs} ns vs {b.AccessLatency.MeanNs} ns alone");
            Assert.True(m.AccessLatency.P99Ns <= 1.05 * b.AccessLatency.P99Ns, $"{name}: p99 {m.AccessLatency.P99Ns} ns vs {b.AccessLatency.P99Ns} ns alone");
        }
    }

    [Fact]
    public void POL_12_linux_lets_the_slow_master_hold_the_buffer_and_never_aborts_it()
    {
        var linux = Scenarios.Run(Scenario(), policy: "linux");
        var slow = Master(linux, "slow0");
        Assert.Equal(slow.Accesses, slow.Completed);
        Assert.Equal(0, Assert.Single(linux.Iommus).Stall!.BudgetTerminated);
        Assert.Equal(8, Assert.Single(linux.Iommus).Stall!.HighWater);
    }
}
