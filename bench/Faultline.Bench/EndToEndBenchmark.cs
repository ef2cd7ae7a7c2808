using System.Globalization;
using BenchmarkDotNet.Attributes;
using Faultline.Simulation;

namespace Faultline.Bench;

/// <summary>
/// The saturated VT-d scenario (bench/scenarios/saturated-vtd.yaml: 64 functions x 32 credits, 4-page groups,
/// 4 workers, ~1.9 M page requests) run whole, in process, through <see cref="Simulator.Run"/>. One operation is one
/// run of several seconds, so BenchmarkDotNet takes one warm-up and three measured runs; <see cref="RunConsole"/>
/// (<c>-- e2e</c>) prints the derived figures BenchmarkDotNet does not: answered requests per wall second, events
/// per answered request, bytes per event and the peak resident set.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 1, iterationCount: 3, invocationCount: 1)]
public class EndToEndBenchmark
{
    public const string ScenarioFile = "bench/scenarios/saturated-vtd.yaml";

    private Scenario _scenario = null!;

    [GlobalSetup]
    public void Setup() => _scenario = ScenarioReader.Load(RunFigures.FindInRepository(ScenarioFile));

    [Benchmark]
    public long SaturatedVtd() => Simulator.Run(_scenario).Events;

    /// <summary><c>e2e [--runs N] [--scenario FILE]</c>: one cold run (JIT included, as the command pays it), then N warm runs and their median.</summary>
    public static int RunConsole(string[] args)
    {
        int runs = 3;
        string path = RunFigures.FindInRepository(ScenarioFile);
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--runs" when i + 1 < args.Length:
                    runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--scenario" when i + 1 < args.Length:
                    path = args[++i];
                    break;
                default:
                    System.Console.Error.WriteLine($"e2e: unknown argument '{args[i]}'; use --runs N, --scenario FILE");
                    return 2;
            }
        }

        var load = System.Diagnostics.Stopwatch.StartNew();
        var scenario = ScenarioReader.Load(path);
        load.Stop();
        System.Console.WriteLine($"scenario {scenario.Name} ({path}): {scenario.Devices.Count} functions, {scenario.Workloads.Count} workloads; parsed in {load.Elapsed.TotalSeconds:0.000} s");
        System.Console.WriteLine($"runtime {Environment.Version}, {Environment.ProcessorCount} cores, server GC {System.Runtime.GCSettings.IsServerGC}, tiered PGO {Environment.GetEnvironmentVariable("DOTNET_TieredPGO") ?? "default"}");
        System.Console.WriteLine();

        var table = new List<(string Name, RunFigures Figures)>();
        table.Add(("cold", RunFigures.Measure(scenario)));
        for (int i = 1; i <= runs; i++) table.Add(($"warm {i}", RunFigures.Measure(scenario)));
        Print(table, runs);
        return table.All(t => t.Figures.Quiesced && t.Figures.Violations == 0) ? 0 : 1;
    }

    private static void Print(List<(string Name, RunFigures Figures)> table, int runs)
    {
        string[] header = ["run", "wall s", "cpu s", "gc pause s", "events", "page reqs", "answered", "answered/s", "page reqs/s", "events/s", "events/answered", "B/event", "B/answered", "gen0/1/2", "peak MiB"];
        var rows = table.Select(t => Row(t.Name, t.Figures)).ToList();
        var warm = table.Skip(1).Select(t => t.Figures).ToList();
        if (warm.Count > 0)
        {
            rows.Add([
                $"median of {runs} warm",
                Fmt(RunFigures.Median(warm.Select(f => f.WallSeconds)), "0.000"),
                Fmt(RunFigures.Median(warm.Select(f => f.CpuSeconds)), "0.000"),
                Fmt(RunFigures.Median(warm.Select(f => f.GcPauseSeconds)), "0.000"),
                warm[0].Events.ToString("N0", CultureInfo.InvariantCulture),
                warm[0].PageRequests.ToString("N0", CultureInfo.InvariantCulture),
                warm[0].Answered.ToString("N0", CultureInfo.InvariantCulture),
                Fmt(RunFigures.Median(warm.Select(f => f.AnsweredPerSecond)), "N0"),
                Fmt(RunFigures.Median(warm.Select(f => f.PageRequestsPerSecond)), "N0"),
                Fmt(RunFigures.Median(warm.Select(f => f.EventsPerSecond)), "N0"),
                Fmt(warm[0].EventsPerAnswered, "0.00"),
                Fmt(RunFigures.Median(warm.Select(f => f.BytesPerEvent)), "0.0"),
                Fmt(RunFigures.Median(warm.Select(f => f.BytesPerAnswered)), "0"),
                "",
                RunFigures.Mib((long)RunFigures.Median(warm.Select(f => (double)f.PeakWorkingSetBytes))),
            ]);
        }
        int[] widths = [.. header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length)))];
        System.Console.WriteLine(string.Join("  ", header.Select((h, i) => h.PadLeft(widths[i]))));
        System.Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var r in rows) System.Console.WriteLine(string.Join("  ", r.Select((c, i) => c.PadLeft(widths[i]))));
        System.Console.WriteLine();
        System.Console.WriteLine("answered = PRG responses the functions received (success + invalid + failure), one per page request group;");
        System.Console.WriteLine("page reqs = page requests the functions sent; B/event = bytes allocated (GC.GetTotalAllocatedBytes) / events;");
        System.Console.WriteLine("peak MiB = the process's peak resident set during that run (VmHWM reset before each run);");
        System.Console.WriteLine("cpu s = the process's CPU time over the run (GC threads included), steadier than wall s when the machine is shared.");
    }

    private static string[] Row(string name, RunFigures f) =>
    [
        name,
        Fmt(f.WallSeconds, "0.000"),
        Fmt(f.CpuSeconds, "0.000"),
        Fmt(f.GcPauseSeconds, "0.000"),
        f.Events.ToString("N0", CultureInfo.InvariantCulture),
        f.PageRequests.ToString("N0", CultureInfo.InvariantCulture),
        f.Answered.ToString("N0", CultureInfo.InvariantCulture),
        Fmt(f.AnsweredPerSecond, "N0"),
        Fmt(f.PageRequestsPerSecond, "N0"),
        Fmt(f.EventsPerSecond, "N0"),
        Fmt(f.EventsPerAnswered, "0.00"),
        Fmt(f.BytesPerEvent, "0.0"),
        Fmt(f.BytesPerAnswered, "0"),
        $"{f.Gen0}/{f.Gen1}/{f.Gen2}",
        RunFigures.Mib(f.PeakWorkingSetBytes),
    ];

    private static string Fmt(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
