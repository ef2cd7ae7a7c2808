using System.Text.Json;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>The Perfetto trace (Chrome trace-event JSON) of a run.</summary>
public sealed class TraceTests
{
    private static (RunReport Report, byte[] Trace) Traced(Scenario scenario, string? policy = null)
    {
        using var trace = new TraceRecorder();
        var report = Simulator.Run(scenario, policy: policy, trace: trace);
        return (report, trace.ToArray());
    }

    private static Scenario Example(string file) => ScenarioReader.Load(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", file));

    private static List<JsonElement> Events(byte[] trace) =>
        [.. JsonDocument.Parse(trace).RootElement.GetProperty("traceEvents").EnumerateArray()];

    private static string Phase(JsonElement e) => e.GetProperty("ph").GetString()!;

    [Fact]
    public void The_default_run_names_every_iommu_and_device_and_draws_threads_workers_groups_and_stalls()
    {
        var (report, trace) = Traced(ScenarioReader.Default());
        var events = Events(trace);
        var processes = events.Where(e => Phase(e) == "M" && e.GetProperty("name").GetString() == "process_name")
            .Select(e => e.GetProperty("args").GetProperty("name").GetString()!).ToList();

        Assert.Equal(report.Iommus.Count + report.Devices.Count + report.Masters.Count, processes.Count);
        Assert.Contains("dmar0 (vtd)", processes);
        Assert.Contains("smmu0 (smmuv3)", processes);
        Assert.Contains("nic0 (PCIe 00:02.0 behind dmar0)", processes);
        Assert.Contains("dsp0 (stall master 0x100 behind smmu0)", processes);

        Assert.Contains(events, e => Phase(e) == "X" && e.GetProperty("cat").GetString() == "driver");
        Assert.Contains(events, e => Phase(e) == "X" && e.GetProperty("cat").GetString() == "worker");
        Assert.Contains(events, e => Phase(e) == "C" && e.GetProperty("name").GetString() == "stalls held (STALL_MAX)");
        // One interval per PRG Response that matched a group, each a b/e pair with one id.
        var begins = events.Where(e => Phase(e) == "b" && e.GetProperty("cat").GetString() == "group").ToList();
        Assert.Equal(report.Devices.Sum(d => d.FaultLatency.Samples), begins.Count);
        var ends = events.Where(e => Phase(e) == "e").Select(e => e.GetProperty("id").GetString()).ToHashSet();
        Assert.All(events.Where(e => Phase(e) == "b"), b => Assert.Contains(b.GetProperty("id").GetString(), ends));
        // Spans on one thread never overlap (driver batches, each worker).
        foreach (var track in events.Where(e => Phase(e) == "X").GroupBy(e => (e.GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32())))
        {
            decimal end = decimal.MinValue;
            foreach (var span in track.OrderBy(e => e.GetProperty("ts").GetDecimal()))
            {
                Assert.True(span.GetProperty("ts").GetDecimal() >= end, $"overlap on {track.Key}");
                end = span.GetProperty("ts").GetDecimal() + span.GetProperty("dur").GetDecimal();
            }
        }
    }

    [Fact]
    public void Same_scenario_and_seed_give_the_same_trace_bytes()
    {
        Assert.Equal(Traced(ScenarioReader.Default()).Trace, Traced(ScenarioReader.Default()).Trace);
    }

    [Fact]
    public void Guests_and_broken_invariants_appear_in_the_trace()
    {
        var (report, trace) = Traced(Example("hostile-guests.yaml"), "linux");
        var events = Events(trace);
        Assert.Contains(events, e => Phase(e) == "i" && e.GetProperty("cat").GetString() == "guest"
            && e.GetProperty("name").GetString()!.Contains("detach from mute-vm", StringComparison.Ordinal));
        var violations = events.Where(e => Phase(e) == "i" && e.GetProperty("cat").GetString() == "invariant").ToList();
        Assert.Equal(report.InvariantCounts.Values.Sum(), violations.Count);
        Assert.All(violations, v => Assert.Equal("g", v.GetProperty("s").GetString()));
    }

    [Fact]
    public void Run_trace_writes_the_file_and_an_unwritable_path_is_bad_input()
    {
        string path = Path.Combine(Path.GetTempPath(), $"faultline-trace-{Environment.ProcessId}.json");
        try
        {
            var (exit, _, _) = CommandLine.Invoke("run", "--trace", path);
            Assert.Equal(Faultline.Cli.ExitCodes.Ok, exit);
            Assert.NotEmpty(Events(File.ReadAllBytes(path)));
        }
        finally
        {
            File.Delete(path);
        }
        var (bad, _, stderr) = CommandLine.Invoke("run", "--trace", "/nonexistent-dir/t.json");
        Assert.Equal(Faultline.Cli.ExitCodes.BadInput, bad);
        Assert.Contains("cannot write the trace to '/nonexistent-dir/t.json'", stderr, StringComparison.Ordinal);
    }
}
