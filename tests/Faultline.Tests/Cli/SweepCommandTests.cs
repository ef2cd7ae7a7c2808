using Faultline.Tests.Sweeps;

namespace Faultline.Tests.Cli;

/// <summary>Issue 11 items 2, 4 and 6 through the command: run --set, sweep, shards and merge, the Slurm script, size.</summary>
public sealed class SweepCommandTests
{
    [Fact]
    public void Run_applies_settings_and_names_a_bad_one()
    {
        using var folder = new SweepFolder();
        string scenario = folder.Out("scenario.yaml");
        var (exit, stdout, _) = CommandLine.Invoke("run", scenario, "--set", "seed=9", "--set", "iommus[dmar0].prq_order=2");
        Assert.Equal(0, exit);
        Assert.Contains("seed 9", stdout);

        var (bad, _, stderr) = CommandLine.Invoke("run", scenario, "--set", "iommus[0].prq_ordr=6");
        Assert.Equal(2, bad);
        Assert.Equal("faultline run: --set iommus[0].prq_ordr=6: unknown key 'prq_ordr' (did you mean prq_order?)", stderr.TrimEnd());
    }

    [Fact]
    public void Shards_merged_write_the_bytes_of_the_whole_sweep()
    {
        using var folder = new SweepFolder();
        var (exit, stdout, stderr) = CommandLine.Invoke("sweep", folder.Sweep, "--out", folder.Out("whole"), "--jobs", "2");
        Assert.True(exit == 0, stderr);
        Assert.Contains("12 points (12 run, 0 from the journal)", stderr); // status on standard error, the table on standard output
        Assert.Contains("policy", stdout);

        for (int i = 1; i <= 3; i++)
            Assert.Equal(0, CommandLine.Invoke("sweep", folder.Sweep, "--out", folder.Out("shards"), "--shard", $"{i}/3", "--jobs", "1").Exit);
        var (early, _, missing) = CommandLine.Invoke("sweep", "merge", folder.Sweep, "--out", folder.Out("none"));
        Assert.Equal(2, early);
        Assert.Contains("12 of 12 points are in no journal", missing);

        var (merged, mergeOut, mergeErr) = CommandLine.Invoke("sweep", "merge", folder.Sweep, "--out", folder.Out("shards"));
        Assert.True(merged == 0, mergeErr);
        Assert.Contains("12 points merged from 3 journals", mergeErr);
        Assert.Equal(CommandLine.Invoke("sweep", folder.Sweep, "--out", folder.Out("whole")).Stdout, mergeOut);
        Assert.Equal(folder.Results("whole"), folder.Results("shards"));

        // A rerun of the whole sweep finds every point in its journal.
        Assert.Contains("12 points (0 run, 12 from the journal)", CommandLine.Invoke("sweep", folder.Sweep, "--out", folder.Out("whole")).Stderr);
        Assert.Equal(folder.Results("whole"), folder.Results("shards"));
    }

    [Fact]
    public void The_slurm_script_runs_each_shard_and_submits_the_merge_after_them()
    {
        using var folder = new SweepFolder();
        var (exit, script, _) = CommandLine.Invoke("sweep", folder.Sweep, "--emit-slurm", "4", "--jobs", "2", "--out", folder.Out("cluster"));
        Assert.Equal(0, exit);
        Assert.StartsWith("#!/bin/bash\n", script);
        Assert.Contains("#SBATCH --array=1-4\n", script);
        Assert.Contains("#SBATCH --cpus-per-task=2\n", script);
        Assert.Contains("--dependency=afterany:\"$SLURM_ARRAY_JOB_ID\"", script);
        Assert.Contains("sweep merge", script);
        Assert.Contains("--shard \"$SLURM_ARRAY_TASK_ID/4\"", script);
        Assert.False(Directory.Exists(folder.Out("cluster")), "emitting the script runs nothing");
    }

    [Fact]
    public void Size_prints_its_probes_and_the_answer_with_its_neighbour()
    {
        using var folder = new SweepFolder("""
            scenario: scenario.yaml
            parameters:
              iommus[0].prq_order: { from: 0, to: 6 }
            seeds: 2
            metrics:
              entries: iommus[0].ring_entries
            """);
        var (exit, stdout, stderr) = CommandLine.Invoke("size", folder.Sweep, "--target", "entries >= 500", "--jobs", "2");
        Assert.True(exit == 0, stderr);
        Assert.Contains("Smallest iommus[0].prq_order meeting entries >= 500: 2, entries 512 [512, 512]; at 1: 256 [256, 256].", stdout);
    }

    [Fact]
    public void A_metric_not_in_the_report_exits_2_with_one_line_and_keeps_what_ran()
    {
        using var folder = new SweepFolder(SweepFolder.Small.Replace("access_latency.p99_ns", "access_latency.p98_ns", StringComparison.Ordinal));
        var (exit, _, stderr) = CommandLine.Invoke("sweep", folder.Sweep, "--out", folder.Out("bad"), "--jobs", "1");
        Assert.Equal(2, exit);
        Assert.StartsWith("faultline sweep: metric 'access_p99': access_latency.p98_ns: access_latency has no 'p98_ns'; its keys: samples, ", stderr);
        Assert.Contains("p99_ns", stderr); // the report's keys as they are, whatever fields it gains
        Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.False(File.Exists(Path.Combine(folder.Out("bad"), "points.csv")));
    }

    [Theory]
    [InlineData("--shard", "4/3", "--shard 4/3: expected I/N with 1 <= I <= N")]
    [InlineData("--jobs", "0", "--jobs: expected at least 1")]
    public void Bad_sweep_options_exit_2_with_one_line(string option, string value, string message)
    {
        using var folder = new SweepFolder();
        var (exit, _, stderr) = CommandLine.Invoke("sweep", folder.Sweep, option, value);
        Assert.Equal(2, exit);
        Assert.Equal($"faultline sweep: {message}", stderr.TrimEnd());
    }
}
