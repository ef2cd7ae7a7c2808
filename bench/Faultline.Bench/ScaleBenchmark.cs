using System.Diagnostics;
using System.Globalization;
using System.Text;
using Faultline.Simulation;

namespace Faultline.Bench;

/// <summary>
/// How a run grows with the topology and the load (<c>-- scale</c>): scenarios generated in memory (YAML text through
/// <see cref="ScenarioReader.Parse"/>) like saturated-vtd — each function faults through its own process, 32 credits,
/// 4-page groups and 4-page accesses, 8 in flight, 100 ns apart, VT-d units of <c>--per-unit</c> functions (64, as
/// saturated-vtd's one unit) with 4 workers each — for each number of functions and total page requests. Each
/// scenario runs once in a child process of its own, so its peak memory is its own and a run past the time limit can
/// be stopped; the parent samples the child's resident set while it runs.
/// </summary>
internal static class ScaleBenchmark
{
    public const string ChildMode = "scale-child";
    private const int PagesPerAccess = 4;
    private const string ResultTag = "RESULT";

    /// <summary><c>scale [--functions 100,1000,10000] [--requests 1000000,10000000] [--per-unit 64] [--timeout 180]</c>.</summary>
    public static int RunConsole(string[] args)
    {
        int[] functions = [100, 1_000, 10_000];
        long[] requests = [1_000_000, 10_000_000];
        int perUnit = 64;
        int timeoutSeconds = 180;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--functions" when i + 1 < args.Length:
                    functions = [.. args[++i].Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
                    break;
                case "--requests" when i + 1 < args.Length:
                    requests = [.. args[++i].Split(',').Select(s => long.Parse(s, CultureInfo.InvariantCulture))];
                    break;
                case "--per-unit" when i + 1 < args.Length:
                    perUnit = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                case "--timeout" when i + 1 < args.Length:
                    timeoutSeconds = int.Parse(args[++i], CultureInfo.InvariantCulture);
                    break;
                default:
                    Console.Error.WriteLine($"scale: unknown argument '{args[i]}'; use --functions, --requests, --per-unit, --timeout");
                    return 2;
            }
        }

        Console.WriteLine($"scale: VT-d, {perUnit} functions per unit, 4 workers per unit, {PagesPerAccess}-page accesses and groups, 32 credits; each run in its own process, stopped after {timeoutSeconds} s");
        Console.WriteLine();
        string[] header = ["functions", "units", "target reqs", "parse s", "run s", "cpu s", "gc pause s", "page reqs", "answered", "events", "events/answered", "answered/s", "µs/answered", "B/event", "peak MiB", "max RSS MiB", "virtual s", "note"];
        var rows = new List<string[]>();
        var results = new List<(int Functions, long Requests, Dictionary<string, string>? Result)>();
        foreach (long total in requests)
        {
            foreach (int f in functions)
            {
                Console.Error.WriteLine($"scale: {f} functions, {total:N0} page requests ...");
                var (result, maxRss, elapsed, note) = RunChild(f, total, perUnit, timeoutSeconds);
                results.Add((f, total, result));
                int units = (f + perUnit - 1) / perUnit;
                if (result is null)
                {
                    rows.Add([f.ToString(CultureInfo.InvariantCulture), units.ToString(CultureInfo.InvariantCulture), total.ToString("N0", CultureInfo.InvariantCulture),
                        "", $">{elapsed:0}", "", "", "", "", "", "", "", "", "", "", RunFigures.Mib(maxRss), "", note]);
                    continue;
                }
                double run = Double(result, "wall");
                long answered = Long(result, "answered");
                long events = Long(result, "events");
                rows.Add([
                    f.ToString(CultureInfo.InvariantCulture),
                    units.ToString(CultureInfo.InvariantCulture),
                    total.ToString("N0", CultureInfo.InvariantCulture),
                    Double(result, "parse").ToString("0.00", CultureInfo.InvariantCulture),
                    run.ToString("0.00", CultureInfo.InvariantCulture),
                    Double(result, "cpu").ToString("0.00", CultureInfo.InvariantCulture),
                    Double(result, "gcpause").ToString("0.00", CultureInfo.InvariantCulture),
                    Long(result, "requests").ToString("N0", CultureInfo.InvariantCulture),
                    answered.ToString("N0", CultureInfo.InvariantCulture),
                    events.ToString("N0", CultureInfo.InvariantCulture),
                    (answered == 0 ? 0 : (double)events / answered).ToString("0.00", CultureInfo.InvariantCulture),
                    (answered / run).ToString("N0", CultureInfo.InvariantCulture),
                    (run * 1e6 / Math.Max(1, answered)).ToString("0.00", CultureInfo.InvariantCulture),
                    (Double(result, "allocated") / Math.Max(1, events)).ToString("0.0", CultureInfo.InvariantCulture),
                    RunFigures.Mib(Long(result, "peak")),
                    RunFigures.Mib(maxRss),
                    (Long(result, "endns") / 1e9).ToString("0.000", CultureInfo.InvariantCulture),
                    note,
                ]);
            }
        }
        int[] widths = [.. header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length)))];
        Console.WriteLine(string.Join("  ", header.Select((h, i) => h.PadLeft(widths[i]))));
        Console.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var r in rows) Console.WriteLine(string.Join("  ", r.Select((c, i) => c.PadLeft(widths[i]))));
        Console.WriteLine();
        PrintGrowth(results);
        Console.WriteLine();
        Console.WriteLine("answered = PRG responses received (one per page request group); peak MiB = the child's VmHWM over the run (reset after parsing);");
        Console.WriteLine("max RSS = the largest resident set the parent saw in the child (parse included); µs/answered = run s / answered.");
        return 0;
    }

    /// <summary>Growth between neighbouring rows: how time, memory and events scale with functions (same load) and with load (same functions).</summary>
    private static void PrintGrowth(List<(int Functions, long Requests, Dictionary<string, string>? Result)> results)
    {
        Console.WriteLine("growth (ratio to the previous size; x10 functions or x10 requests):");
        var done = results.Where(r => r.Result is not null).ToList();
        foreach (var group in done.GroupBy(r => r.Requests))
        {
            var list = group.OrderBy(r => r.Functions).ToList();
            for (int i = 1; i < list.Count; i++)
                Console.WriteLine($"  {list[i - 1].Functions} -> {list[i].Functions} functions at {group.Key:N0} requests: {Ratios(list[i - 1].Result!, list[i].Result!)}");
        }
        foreach (var group in done.GroupBy(r => r.Functions))
        {
            var list = group.OrderBy(r => r.Requests).ToList();
            for (int i = 1; i < list.Count; i++)
                Console.WriteLine($"  {list[i - 1].Requests:N0} -> {list[i].Requests:N0} requests at {group.Key} functions: {Ratios(list[i - 1].Result!, list[i].Result!)}");
        }
    }

    private static string Ratios(Dictionary<string, string> a, Dictionary<string, string> b) =>
        string.Create(CultureInfo.InvariantCulture,
            $"run time x{Double(b, "wall") / Double(a, "wall"):0.00}, parse x{Double(b, "parse") / Math.Max(1e-3, Double(a, "parse")):0.00}, peak memory x{Double(b, "peak") / Double(a, "peak"):0.00}, events x{Double(b, "events") / Double(a, "events"):0.00}, answered x{Double(b, "answered") / Double(a, "answered"):0.00}, time per answered x{Double(b, "wall") / Double(b, "answered") / (Double(a, "wall") / Double(a, "answered")):0.00}");

    private static double Double(Dictionary<string, string> r, string key) => double.Parse(r[key], CultureInfo.InvariantCulture);
    private static long Long(Dictionary<string, string> r, string key) => long.Parse(r[key], CultureInfo.InvariantCulture);

    /// <summary>Starts this program in child mode, samples its resident set, and stops it past the timeout.</summary>
    private static (Dictionary<string, string>? Result, long MaxRss, double Elapsed, string Note) RunChild(int functions, long requests, int perUnit, int timeoutSeconds)
    {
        var start = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = false, UseShellExecute = false };
        string self = Environment.ProcessPath ?? "dotnet";
        start.FileName = self;
        if (Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            start.ArgumentList.Add(typeof(ScaleBenchmark).Assembly.Location);
        foreach (var a in new[] { ChildMode, functions.ToString(CultureInfo.InvariantCulture), requests.ToString(CultureInfo.InvariantCulture), perUnit.ToString(CultureInfo.InvariantCulture) })
            start.ArgumentList.Add(a);
        using var child = Process.Start(start) ?? throw new InvalidOperationException("cannot start the child process");
        var output = new StringBuilder();
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        child.BeginOutputReadLine();
        var clock = Stopwatch.StartNew();
        long maxRss = 0;
        while (!child.WaitForExit(200))
        {
            try
            {
                child.Refresh();
                maxRss = Math.Max(maxRss, child.WorkingSet64);
            }
            catch (InvalidOperationException)
            {
                break; // it exited between the wait and the read
            }
            if (clock.Elapsed.TotalSeconds > timeoutSeconds)
            {
                child.Kill();
                child.WaitForExit();
                return (null, maxRss, clock.Elapsed.TotalSeconds, $"stopped after {timeoutSeconds} s, unfinished");
            }
        }
        child.WaitForExit();
        string text;
        lock (output) text = output.ToString();
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(ResultTag, StringComparison.Ordinal));
        if (line is null) return (null, maxRss, clock.Elapsed.TotalSeconds, $"child exited {child.ExitCode} without a result");
        var result = line[ResultTag.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]);
        string note = result["quiesced"] == "True" ? "" : "not quiesced";
        if (result["violations"] != "0") note += $" {result["violations"]} violations";
        return (result, Math.Max(maxRss, Long(result, "peak")), clock.Elapsed.TotalSeconds, note.Trim());
    }

    /// <summary>The child: generates, parses and runs one scenario, and prints one RESULT line.</summary>
    public static int RunChild(string[] args)
    {
        int functions = int.Parse(args[0], CultureInfo.InvariantCulture);
        long requests = long.Parse(args[1], CultureInfo.InvariantCulture);
        int perUnit = int.Parse(args[2], CultureInfo.InvariantCulture);
        var parse = Stopwatch.StartNew();
        var scenario = Load(functions, requests, perUnit);
        parse.Stop();
        var f = RunFigures.Measure(scenario);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{ResultTag} parse={parse.Elapsed.TotalSeconds} wall={f.WallSeconds} cpu={f.CpuSeconds} gcpause={f.GcPauseSeconds} events={f.Events} requests={f.PageRequests} answered={f.Answered} allocated={f.AllocatedBytes} peak={f.PeakWorkingSetBytes} gen2={f.Gen2} quiesced={f.Quiesced} violations={f.Violations} endns={f.EndTimeNs}"));
        return 0;
    }

    /// <summary>The scenario <see cref="Generate"/> writes, read (its text generated before the clock starts is not timed apart).</summary>
    public static Scenario Load(int functions, long requests, int perUnit) =>
        // The reader's default budget for a user's file (issue 14) stops near 2 000 of these functions; the generated text is ours.
        ScenarioReader.Parse(Generate(functions, requests, perUnit), $"scale-{functions}-{requests}", ScenarioLimits.Default with { VmaPages = long.MaxValue });

    /// <summary>
    /// A saturated-vtd-like scenario: <paramref name="functions"/> functions, each bound to its own process with one VMA
    /// 16 times as large as the pages it touches (few repeats), and enough 4-page accesses for ~<paramref name="requests"/>
    /// page requests in all. Requester ids are bus:dev.fn, unique over the whole topology.
    /// </summary>
    public static string Generate(int functions, long requests, int perUnit)
    {
        long accesses = Math.Max(1, requests / ((long)functions * PagesPerAccess));
        long touched = accesses * PagesPerAccess;
        int vmaPages = (int)Math.Min(1 << 24, System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)Math.Max(4096, 16 * touched)));
        int units = (functions + perUnit - 1) / perUnit;
        var s = new StringBuilder(functions * 400);
        s.Append(CultureInfo.InvariantCulture, $"name: scale-{functions}f-{requests}r\nseed: 1\npolicy: hardened\ntime_limit: 10000s\nhost:\n  workers: 4\niommus:\n");
        for (int u = 0; u < units; u++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: dmar{u}, type: vtd, prq_order: 4 }}\n");
        s.Append("processes:\n");
        for (int i = 0; i < functions; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - name: p{i}\n    vmas:\n      - {{ start: 0x10000000, pages: {vmaPages}, perm: rw }}\n");
        s.Append("devices:\n");
        for (int i = 0; i < functions; i++)
        {
            int bus = 1 + i / 256, dev = (i / 8) % 32, fn = i % 8;
            s.Append(CultureInfo.InvariantCulture, $"  - {{ name: f{i}, rid: \"{bus:x2}:{dev:x2}.{fn}\", iommu: dmar{i / perUnit}, capacity: 32, pages_per_group: 4, bind: [p{i}] }}\n");
        }
        s.Append("workloads:\n");
        for (int i = 0; i < functions; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ device: f{i}, process: p{i}, accesses: {accesses}, min_pages: {PagesPerAccess}, max_pages: {PagesPerAccess}, write_fraction: 0.5, interval: 100ns, concurrency: 8 }}\n");
        return s.ToString();
    }
}
