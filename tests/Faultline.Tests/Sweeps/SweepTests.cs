using Faultline.Simulation;
using Faultline.Simulation.Sweeps;

namespace Faultline.Tests.Sweeps;

/// <summary>Issue 11 item 4 and 6: sweeps are deterministic whatever the cores, resume from their journal, and shards merge into the whole.</summary>
public sealed class SweepTests
{
    private static IReadOnlyList<PointResult> RunAll(SweepPlan plan, int jobs, string? folder = null)
    {
        if (folder is null) return SweepRunner.Run(plan, Enumerable.Range(0, plan.Count), jobs, out _);
        Directory.CreateDirectory(folder);
        using var journal = SweepJournal.Open(SweepJournal.PathFor(folder, null), plan, out var done);
        var results = SweepRunner.Run(plan, Enumerable.Range(0, plan.Count), jobs, out _, done, journal);
        SweepOutput.Write(plan, results, folder);
        return results;
    }

    [Fact]
    public void Points_come_in_order_configuration_then_policy_then_seed()
    {
        using var folder = new SweepFolder();
        var plan = folder.Plan();
        Assert.Equal(12, plan.Count);
        Assert.Equal(new SweepPoint(0, 0, "hardened", 1), plan.Point(0));
        Assert.Equal(new SweepPoint(5, 0, "linux", 3), plan.Point(5));
        Assert.Equal(new SweepPoint(7, 1, "hardened", 2), plan.Point(7));
        Assert.Equal(2, plan.Configurations[1].Scenario.Iommus[0].PageRequestQueueOrder);
    }

    [Fact]
    public void A_point_gives_the_metrics_of_the_same_run_through_the_json_report()
    {
        using var folder = new SweepFolder();
        var plan = folder.Plan();
        var point = plan.Point(4);
        var report = Simulator.Run(plan.Configurations[0].Scenario, point.Seed, point.Policy);
        var result = PointResult.Run(plan, point);
        Assert.Equal(report.FaultLatency.P99Ns, result.Values[0]);
        Assert.Equal((double)report.Devices[0].ResponsesSuccess / report.Devices[0].Groups, result.Values[1]);
        Assert.Equal(report.AccessLatency.P99Ns, result.Values[2]);
    }

    [Fact]
    public void One_core_and_two_cores_write_the_same_bytes()
    {
        using var folder = new SweepFolder();
        var plan = folder.Plan();
        RunAll(plan, 1, folder.Out("one"));
        RunAll(plan, 2, folder.Out("two"));
        Assert.Equal(folder.Results("one"), folder.Results("two"));
    }

    [Fact]
    public void An_interrupted_sweep_resumes_where_it_stopped_and_writes_what_a_whole_run_writes()
    {
        using var folder = new SweepFolder();
        var plan = folder.Plan();
        RunAll(plan, 2, folder.Out("whole"));

        // An interruption: five points finished, a sixth cut mid-line.
        Directory.CreateDirectory(folder.Out("cut"));
        using (var journal = SweepJournal.Open(SweepJournal.PathFor(folder.Out("cut"), null), plan, out _))
            SweepRunner.Run(plan, [0, 3, 4, 9, 11], 2, out _, journal: journal);
        File.AppendAllText(SweepJournal.PathFor(folder.Out("cut"), null), "{\"point\":7,\"invariants_bro");

        using (var journal = SweepJournal.Open(SweepJournal.PathFor(folder.Out("cut"), null), plan, out var done))
        {
            Assert.Equal([0, 3, 4, 9, 11], done.Select(r => r.Point).Order());
            var results = SweepRunner.Run(plan, Enumerable.Range(0, plan.Count), 2, out int ran, done, journal);
            Assert.Equal(plan.Count - 5, ran);
            SweepOutput.Write(plan, results, folder.Out("cut"));
        }
        Assert.Equal(folder.Results("whole"), folder.Results("cut"));
        Assert.Equal(plan.Count + 1, File.ReadAllLines(SweepJournal.PathFor(folder.Out("cut"), null)).Length);
    }

    [Fact]
    public void A_journal_of_another_sweep_is_refused()
    {
        using var folder = new SweepFolder();
        var plan = folder.Plan();
        RunAll(plan, 2, folder.Out("a"));
        File.WriteAllText(folder.Sweep, SweepFolder.Small.Replace("seeds: 3", "seeds: 2", StringComparison.Ordinal));
        var e = Assert.Throws<InvalidDataException>(() => SweepJournal.Open(SweepJournal.PathFor(folder.Out("a"), null), folder.Plan(), out _));
        Assert.Contains("written for another sweep", e.Message);
    }

    [Fact]
    public void Shards_cover_every_point_once()
    {
        using var folder = new SweepFolder();
        var plan = folder.Plan();
        var shards = Enumerable.Range(1, 5).SelectMany(i => plan.Shard(i, 5)).Order();
        Assert.Equal(Enumerable.Range(0, plan.Count), shards);
        Assert.Equal([1, 6, 11], plan.Shard(2, 5));
    }

    [Fact]
    public void A_metric_that_is_not_in_the_report_names_what_is()
    {
        using var folder = new SweepFolder(SweepFolder.Small.Replace("fault_latency.p99_ns", "fault_latency.p99", StringComparison.Ordinal));
        var plan = folder.Plan();
        var e = Assert.Throws<MetricException>(() => PointResult.Run(plan, plan.Point(0)));
        Assert.Equal("metric 'p99': fault_latency.p99: fault_latency has no 'p99' (did you mean p99_ns?)", e.Message);
    }

    [Fact]
    public void A_range_takes_both_ends_and_its_steps_and_seeds_count_from_one()
    {
        using var folder = new SweepFolder(SweepFolder.Small.Replace("[0, 2]", "{ from: 0, to: 6, step: 3 }", StringComparison.Ordinal));
        var sweep = SweepReader.Load(folder.Sweep);
        Assert.Equal(["0", "3", "6"], sweep.Parameters[0].Values);
        Assert.Equal([1ul, 2, 3], sweep.Seeds);
    }

    [Fact]
    public void A_sweep_file_error_is_located()
    {
        using var folder = new SweepFolder(SweepFolder.Small.Replace("policies: [hardened, linux]", "policies: [hardened, lenient]", StringComparison.Ordinal));
        var e = Assert.Throws<ScenarioException>(() => SweepReader.Load(folder.Sweep));
        Assert.Equal((4L, "policies"), (e.Line, e.Key));
        Assert.Contains("'lenient' is no policy", e.Message);
    }

    [Fact]
    public void A_policy_may_name_a_kernel_release_and_reads_under_the_name_the_run_reports()
    {
        using var folder = new SweepFolder(SweepFolder.Small.Replace("policies: [hardened, linux]", "policies: [linux@v6.12, linux@6.18]", StringComparison.Ordinal));
        Assert.Equal(["linux@6.12", "linux"], folder.Plan().Policies);
    }

    [Fact]
    public void R39_a_release_that_lacks_the_scenario_s_guests_is_refused_before_anything_runs()
    {
        var guests = File.ReadAllText(Path.Combine(Faultline.Tests.Simulation.ScenarioReaderTests.RepoRoot(), "scenarios", "hostile-guests.yaml"));
        using var folder = new SweepFolder("scenario: scenario.yaml\npolicies: [linux@6.11, linux@6.10]\n", guests);
        var e = Assert.Throws<ScenarioException>(folder.Plan);
        Assert.Equal("policies", e.Key);
        Assert.Contains("linux@6.10 cannot run the scenario: its guests need the iommufd fault queue, which arrived in v6.11", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_parameter_value_the_scenario_refuses_is_found_before_anything_runs()
    {
        using var folder = new SweepFolder(SweepFolder.Small.Replace("[0, 2]", "[0, 20]", StringComparison.Ordinal));
        var e = Assert.Throws<ScenarioOverrideException>(folder.Plan);
        Assert.Equal("--set iommus[dmar0].prq_order=20: iommus[0].prq_order: 20 is outside [0, 12]", e.Message);
    }
}
