using System.Diagnostics;
using System.Globalization;
using Faultline.Simulation;

namespace Faultline.Bench;

/// <summary>
/// What one whole simulator run cost and did: wall time, events, the page requests the functions sent and the PRG
/// responses that answered them, bytes allocated on this thread and the process's peak resident set during the run.
/// </summary>
internal sealed record RunFigures(
    double WallSeconds,
    double CpuSeconds,
    double GcPauseSeconds,
    long Events,
    long PageRequests,
    long Answered,
    long AllocatedBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    long PeakWorkingSetBytes,
    bool Quiesced,
    int Violations,
    long EndTimeNs)
{
    /// <summary>PRG responses (success + invalid + failure, summed over the devices) per wall second.</summary>
    public double AnsweredPerSecond => Answered / WallSeconds;
    public double PageRequestsPerSecond => PageRequests / WallSeconds;
    public double EventsPerSecond => Events / WallSeconds;
    public double EventsPerAnswered => Answered == 0 ? 0 : (double)Events / Answered;
    public double BytesPerEvent => Events == 0 ? 0 : (double)AllocatedBytes / Events;
    public double BytesPerAnswered => Answered == 0 ? 0 : (double)AllocatedBytes / Answered;

    /// <summary>
    /// Runs <paramref name="scenario"/> once through <see cref="Simulator.Run"/>, after a full collection, and measures it.
    /// The peak resident set is the kernel's high-water mark, reset before the run where Linux allows it
    /// (<c>/proc/self/clear_refs</c>); elsewhere it is the process's peak so far.
    /// </summary>
    public static RunFigures Measure(Scenario scenario)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        ResetPeakWorkingSet();
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes(precise: true);
        var pause = GC.GetTotalPauseDuration();
        var cpu = CpuTime();
        var clock = Stopwatch.StartNew();
        var report = Simulator.Run(scenario);
        clock.Stop();
        cpu = CpuTime() - cpu;
        pause = GC.GetTotalPauseDuration() - pause;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        return new RunFigures(
            clock.Elapsed.TotalSeconds,
            cpu.TotalSeconds,
            pause.TotalSeconds,
            report.Events,
            report.Devices.Sum(d => d.PageRequests),
            AnsweredBy(report),
            allocated,
            GC.CollectionCount(0) - gen0,
            GC.CollectionCount(1) - gen1,
            GC.CollectionCount(2) - gen2,
            PeakWorkingSet(),
            report.Quiesced,
            report.Invariants.Count,
            report.EndTimeNs);
    }

    /// <summary>Every PRG response a function received: the answered page request groups.</summary>
    public static long AnsweredBy(RunReport report) =>
        report.Devices.Sum(d => d.ResponsesSuccess + d.ResponsesInvalid + d.ResponsesFailure);

    /// <summary>Linux: writing 5 to clear_refs resets VmHWM to the current resident set.</summary>
    public static void ResetPeakWorkingSet()
    {
        try
        {
            if (OperatingSystem.IsLinux()) File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not allowed here: the peak is then the process's peak so far.
        }
    }

    /// <summary>The process's CPU time (every thread: the run's and the GC's), steadier than wall time on a shared machine.</summary>
    public static TimeSpan CpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    public static long PeakWorkingSet()
    {
        using var self = Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }

    public static string Mib(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture);

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return 0;
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>The repository's file at <paramref name="relative"/>, found by walking up from the binary (BenchmarkDotNet runs it from a generated folder).</summary>
    public static string FindInRepository(string relative)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new FileNotFoundException($"cannot find {relative} above {AppContext.BaseDirectory} or {Environment.CurrentDirectory}");
    }
}
