using System.Diagnostics;
using Faultline.Simulation;

namespace Faultline.Cli;

/// <summary>
/// The line a run keeps rewriting on standard error when that is a terminal (issue 13: a 40 M-event run printed
/// nothing for 37 s): virtual time reached, events per second, and an ETA from the share of the workloads' accesses
/// ended, or of time_limit when there are no workloads. Wall-clock time lives here, never in the run.
/// </summary>
internal sealed class ProgressLine(TextWriter stderr, int width)
{
    private static readonly TimeSpan Every = TimeSpan.FromMilliseconds(250);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private TimeSpan _last, _phaseStart;
    private bool _baseline, _shown;

    public void Report(RunProgress p)
    {
        var now = _clock.Elapsed;
        if (p.Baseline != _baseline)
        {
            _baseline = p.Baseline;
            _phaseStart = now;
        }
        if (now - _last < Every) return;
        _last = now;
        double seconds = Math.Max(1e-3, (now - _phaseStart).TotalSeconds);
        double done = p.WorkloadsDone ?? (double)p.NowNs / p.TimeLimitNs;
        string eta = done is > 0.01 and < 1 ? FormattableString.Invariant($", ETA {seconds * (1 - done) / done:0} s") : "";
        string text = FormattableString.Invariant(
            $"{(p.Baseline ? "baseline without hostile guests" : "running")}: virtual {p.NowNs / 1e6:0.###} ms, {p.Events:N0} events, {p.Events / seconds:N0} events/s, {done:P0} of {(p.WorkloadsDone is null ? "time_limit" : "the accesses")}{eta}");
        stderr.Write($"\r{(text.Length < width ? text : text[..(width - 1)])}\u001b[K");
        stderr.Flush();
        _shown = true;
    }

    /// <summary>Erases the line, so what follows on the terminal starts clean.</summary>
    public void Clear()
    {
        if (_shown) stderr.Write("\r\u001b[K");
    }
}
