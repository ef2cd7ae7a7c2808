using System.Diagnostics;
using System.Globalization;
using Faultline.Simulation;
using Faultline.Simulation.Traces;

namespace Faultline.Bench;

/// <summary>
/// <c>check [--mb 1024] [--keep FILE]</c>: <c>faultline check</c>'s speed and memory on a large capture. The capture is
/// the ftrace of prq-overflow under linux (VT-d prq_report and qi_submit lines, overflow log lines, 481 H-PCI-10
/// violations per copy) written again and again, each copy later in time than the last, until it reaches the size
/// asked; then it is checked as <c>faultline check</c> does, streamed from disk. Prints lines/s, MB/s, the peak
/// working set and the largest GC heap, which must not grow with the capture (constant memory).
/// </summary>
internal static class CheckCaptureBenchmark
{
    public static int RunConsole(string[] args)
    {
        long megabytes = Option(args, "--mb") ?? 1024;
        string path = args.SkipWhile(a => a != "--keep").Skip(1).FirstOrDefault() ?? Path.Combine(Path.GetTempPath(), $"faultline-capture-{Environment.ProcessId}.trace");
        try
        {
            var generate = Stopwatch.StartNew();
            long lines = Generate(path, megabytes << 20);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"capture: {path}, {new FileInfo(path).Length / (1024.0 * 1024):0} MiB, {lines:N0} lines, written in {generate.Elapsed.TotalSeconds:0.0} s"));

            GC.Collect();
            RunFigures.ResetPeakWorkingSet();
            long heapMax = 0;
            var cpu = RunFigures.CpuTime();
            var wall = Stopwatch.StartNew();
            CheckReport report;
            using (var timer = new Timer(_ => heapMax = Math.Max(heapMax, GC.GetGCMemoryInfo().HeapSizeBytes), null, 0, 100))
            using (var input = new StreamReader(path))
                report = TraceChecker.Check(input);
            wall.Stop();
            double seconds = wall.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"check: {report.Lines:N0} lines in {seconds:0.0} s wall ({(RunFigures.CpuTime() - cpu).TotalSeconds:0.0} s CPU): {report.Lines / seconds:N0} lines/s, {new FileInfo(path).Length / (1024.0 * 1024) / seconds:0.0} MiB/s; " +
                $"peak working set {RunFigures.Mib(RunFigures.PeakWorkingSet())} MiB, largest GC heap seen {RunFigures.Mib(heapMax)} MiB; " +
                $"violations {string.Join(", ", report.ViolationCounts.Select(kv => $"{kv.Key} ×{kv.Value:N0}"))}, {report.Malformed} malformed"));
            return 0;
        }
        finally
        {
            if (!args.Contains("--keep")) File.Delete(path);
        }
    }

    /// <summary>Copies of one run's ftrace, each shifted past the end of the one before, up to <paramref name="bytes"/>.</summary>
    private static long Generate(string path, long bytes)
    {
        var text = new StringWriter();
        Simulator.Run(ScenarioReader.Load(RunFigures.FindInRepository("scenarios/prq-overflow.yaml")), 1, "linux", null, new FtraceWriter(text));
        var events = text.ToString().Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(Split).ToArray();
        long span = events.Max(e => e.Micros) + 1_000_000;
        long lines = 0;
        using var output = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 20);
        for (long copy = 0; output.BaseStream.Position < bytes; copy++)
        {
            foreach (var (head, micros, tail) in events)
            {
                long t = micros + copy * span;
                output.Write(head);
                output.Write(string.Create(CultureInfo.InvariantCulture, $"{t / 1_000_000,5}.{t % 1_000_000:000000}"));
                output.Write(tail);
                output.Write('\n');
                lines++;
            }
        }
        return lines;
    }

    /// <summary>A line around its time stamp: what comes before it, the time in microseconds, and what follows.</summary>
    private static (string Head, long Micros, string Tail) Split(string line)
    {
        int colon = line.IndexOf(": ", StringComparison.Ordinal);
        int start = line.LastIndexOf(' ', colon - 1, colon - line.IndexOf(']', StringComparison.Ordinal)) + 1;
        var stamp = line.AsSpan(start, colon - start);
        TraceLineParser.TryTime(stamp.Trim(), out long ns);
        return (line[..start].TrimEnd() + " ", ns / 1000, line[colon..]);
    }

    private static long? Option(string[] args, string name) =>
        args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() is { } v ? long.Parse(v, CultureInfo.InvariantCulture) : null;
}
