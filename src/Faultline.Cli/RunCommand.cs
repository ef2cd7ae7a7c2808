using System.Text;
using Faultline.Simulation;
using Faultline.Simulation.Traces;

namespace Faultline.Cli;

/// <summary>
/// <c>faultline run [SCENARIO] [--set PATH=VALUE]... [--seed N] [--policy P] [--kernel X.Y] [--json FILE] [--trace FILE [--trace-filter TERMS]] [--report FILE] [--ftrace FILE]
/// [--quiet] [--section NAME]... [--width N] [--rows N]</c>.
/// </summary>
internal static class RunCommand
{
    private const string Json = "JSON", Trace = "the trace", Report = "the report", Ftrace = "the ftrace";

    /// <summary>Checks the paths, reads the scenario and, if <paramref name="simulate"/>, runs it and writes its outputs.</summary>
    public static int Run(RunOptions o, TextWriter stdout, TextWriter stderr, Terminal terminal, bool simulate)
    {
        (string? Path, string What)[] outputs = [(o.Json, Json), (o.Trace, Trace), (o.Report, Report), (o.Ftrace, Ftrace)];
        var toStdout = outputs.Where(x => x.Path == RunOptions.StandardOutput).ToList();
        if (toStdout.Count > 1)
            return Fail(stderr, $"only one output can be '-' (standard output), not {string.Join(" and ", toStdout.Select(x => x.What))}");
        // Every path is checked before the run, so a bad one costs no run; the words are those of a failed write.
        foreach (var (path, what) in outputs)
        {
            if (path is not null && path != RunOptions.StandardOutput && Paths.OutputProblem(path) is { } problem)
                return Fail(stderr, $"cannot write {what} to '{path}': {problem}");
        }
        if (o.Quiet && o.Sections.Count > 0) return Fail(stderr, "--quiet prints no summary, so --section has nothing to choose");
        if (o.Scenario is not null && Paths.InputProblem(o.Scenario) is { } inputProblem)
            return Fail(stderr, $"cannot read scenario '{o.Scenario}': {inputProblem}");

        Scenario scenario;
        try
        {
            var overrides = o.Overrides.Select(ScenarioOverride.Parse).ToList();
            scenario = o.Scenario is null ? ScenarioReader.Default(overrides) : ScenarioReader.Load(o.Scenario, o.Limits, overrides);
        }
        catch (Exception e) when (e is ScenarioException or ScenarioOverrideException)
        {
            return Fail(stderr, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(stderr, $"cannot read scenario '{o.Scenario}': {e.Message}");
        }
        TraceFilter? traceFilter = null;
        try
        {
            traceFilter = o.TraceFilter is null ? null : TraceFilter.Parse(o.TraceFilter);
        }
        catch (FormatException e)
        {
            return Fail(stderr, e.Message);
        }
        if (traceFilter?.UnknownDevice(scenario) is { } device) return Fail(stderr, $"trace filter names device '{device}', which the scenario does not have");
        var pinned = KernelOption.Resolve(o.Policy, o.Kernel, scenario, out var kernelError);
        if (kernelError is not null) return Fail(stderr, kernelError);
        o = o with { Policy = pinned };
        if (!simulate) return ExitCodes.Ok;
        if (o.Policy?.Split(',') is { Length: > 1 } policies) return RunEach(o, policies, scenario, stdout, stderr, terminal);

        // The trace streams to its file while the run goes (issue 13 item 5), so it is opened first; '-' keeps it in
        // memory until standard output may take it.
        TraceRecorder? trace = null;
        try
        {
            if (o.Trace is not null) trace = o.Trace == RunOptions.StandardOutput ? new TraceRecorder(traceFilter) : TraceRecorder.Create(o.Trace, traceFilter);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(stderr, $"cannot write {Trace} to '{o.Trace}': {e.Message}");
        }
        using var traceOwned = trace;
        FtraceFile? ftraceFile = null;
        if (o.Ftrace != RunOptions.StandardOutput && !FtraceFile.TryOpen(o.Ftrace, stderr, out ftraceFile)) return ExitCodes.BadInput;
        using var ftraceFileOwned = ftraceFile;
        var ftrace = o.Ftrace == RunOptions.StandardOutput ? new FtraceWriter(stdout) : ftraceFile?.Writer;

        var progress = terminal.ErrorIsTerminal ? new ProgressLine(stderr, terminal.ProgressWidth) : null;
        var control = new RunControl(terminal.Stop, progress is null ? null : progress.Report);
        RunReport report;
        try
        {
            report = Simulator.Run(scenario, o.Seed, o.Policy, trace, ftrace, control);
        }
        finally
        {
            progress?.Clear();
        }

        // The trace is closed first, so a failed write of it shows before the others are tried.
        bool written = trace is null || TryWrite(o.Trace, Trace, () => Encoding.UTF8.GetString(trace.ToArray()), stdout, stderr, _ => trace.Complete());

        WriteSummary(report, o, stdout, stderr, terminal);
        if (report.Partial)
            ErrorLine.Write(stderr, $"faultline run: stopped at virtual time {report.EndTimeNs} ns, {report.Events} events: the outputs hold what ran, marked partial");
        // Each output is tried even when one fails, so a failed write loses only itself.
        written &= TryWrite(o.Json, Json, () => JsonReportWriter.Serialize(report), stdout, stderr);
        written &= TryWrite(o.Report, Report, () => HtmlReportWriter.Render(report), stdout, stderr);
        return Exit([report], written);
    }

    /// <summary>
    /// <c>--policy A,B</c>: the scenario under each policy in turn, each summary under its own header, and with
    /// <c>--report</c> one page that compares them, the first run the base of the deltas (issue 13 item 3). The
    /// per-run outputs (JSON, trace, ftrace) name one run, so they are refused: run each policy alone and
    /// <c>faultline compare</c> the JSON files for those.
    /// </summary>
    private static int RunEach(RunOptions o, string[] policies, Scenario scenario, TextWriter stdout, TextWriter stderr, Terminal terminal)
    {
        if (new[] { (o.Json, "--json"), (o.Trace, "--trace"), (o.Ftrace, "--ftrace") }.FirstOrDefault(x => x.Item1 is not null) is (not null, var option))
            return Fail(stderr, $"{option} writes one run's output; with --policy {o.Policy}, run each policy alone and compare the JSON files with 'faultline compare'");
        if (policies.Distinct().Count() != policies.Length) return Fail(stderr, $"--policy {o.Policy} names a policy twice");
        var runs = new List<RunReport>();
        foreach (var policy in policies)
        {
            var report = Simulator.Run(scenario, o.Seed, policy, control: new RunControl(terminal.Stop, null));
            runs.Add(report);
            WriteSummary(report, o, stdout, stderr, terminal);
            if (report.Partial) break;
        }
        bool written = TryWrite(o.Report, Report, () => HtmlReportWriter.RenderComparison(runs), stdout, stderr);
        return Exit(runs, written);
    }

    /// <summary>The summary as asked (sections, width, rows); with an output on '-', standard output carries that output alone and the summary goes to standard error.</summary>
    private static void WriteSummary(RunReport report, RunOptions o, TextWriter stdout, TextWriter stderr, Terminal terminal)
    {
        if (o.Quiet) return;
        bool outputOnStdout = new[] { o.Json, o.Trace, o.Report, o.Ftrace }.Contains(RunOptions.StandardOutput);
        SummaryWriter.Write(report, outputOnStdout ? stderr : stdout, terminal.SummaryWidth(o.Width), o.Sections.Count == 0 ? null : o.Sections,
            o.Rows == 0 ? int.MaxValue : o.Rows);
    }

    /// <summary>
    /// Broken invariants in any run first: a run's result is never hidden by a stop or an output error (issue 13); then
    /// a run stopped by Ctrl-C; then an output that could not be written.
    /// </summary>
    private static int Exit(IReadOnlyList<RunReport> runs, bool written) =>
        runs.Any(r => r.InvariantCounts.Count > 0) ? ExitCodes.InvariantsBroken
        : runs.Any(r => r.Partial) ? ExitCodes.Interrupted
        : written ? ExitCodes.Ok
        : ExitCodes.BadInput;

    private static int Fail(TextWriter stderr, string message)
    {
        ErrorLine.Write(stderr, $"faultline run: {message}");
        return ExitCodes.BadInput;
    }

    /// <summary>Writes <paramref name="text"/> to the file at <paramref name="path"/> (with <paramref name="toFile"/> if given) or, for '-', to standard output.</summary>
    private static bool TryWrite(string? path, string what, Func<string> text, TextWriter stdout, TextWriter stderr, Action<string>? toFile = null)
    {
        if (path is null) return true;
        try
        {
            if (path == RunOptions.StandardOutput) stdout.Write(text());
            else if (toFile is not null) toFile(path);
            else File.WriteAllText(path, text(), new UTF8Encoding(false));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(stderr, $"cannot write {what} to '{path}': {e.Message}");
            return false;
        }
    }
}
