using Faultline.Simulation;

namespace Faultline.Cli;

/// <summary><c>faultline run [SCENARIO] [--seed N] [--policy P] [--json FILE] [--trace FILE [--trace-filter TERMS]] [--report FILE] [--ftrace FILE]</c>.</summary>
internal static class RunCommand
{
    private const string Json = "JSON", Trace = "the trace", Report = "the report", Ftrace = "the ftrace";

    /// <summary>Checks the paths, reads the scenario and, if <paramref name="simulate"/>, runs it and writes its outputs.</summary>
    public static int Run(string? scenarioPath, ulong? seed, string? policy, string? jsonPath, string? tracePath, string? reportPath,
        TextWriter stdout, TextWriter stderr, bool simulate, string? ftracePath = null, string? traceFilterText = null)
    {
        // Every path is checked before the run, so a bad one costs no run; the words are those of a failed write.
        foreach (var (path, what) in new[] { (jsonPath, Json), (tracePath, Trace), (reportPath, Report), (ftracePath, Ftrace) })
        {
            if (path is not null && Paths.OutputProblem(path) is { } problem)
                return Fail(stderr, $"cannot write {what} to '{path}': {problem}");
        }
        if (scenarioPath is not null && Paths.InputProblem(scenarioPath) is { } inputProblem)
            return Fail(stderr, $"cannot read scenario '{scenarioPath}': {inputProblem}");

        Scenario scenario;
        try
        {
            scenario = scenarioPath is null ? ScenarioReader.Default() : ScenarioReader.Load(scenarioPath);
        }
        catch (ScenarioException e)
        {
            return Fail(stderr, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(stderr, $"cannot read scenario '{scenarioPath}': {e.Message}");
        }
        TraceFilter? traceFilter = null;
        try
        {
            traceFilter = traceFilterText is null ? null : TraceFilter.Parse(traceFilterText);
        }
        catch (FormatException e)
        {
            return Fail(stderr, e.Message);
        }
        if (traceFilter?.UnknownDevice(scenario) is { } device) return Fail(stderr, $"trace filter names device '{device}', which the scenario does not have");
        if (!simulate) return ExitCodes.Ok;

        // The trace streams to its file while the run goes (issue 13 item 5), so it is opened first.
        TraceRecorder? trace = null;
        if (tracePath is not null && !TryWrite(tracePath, Trace, () => trace = TraceRecorder.Create(tracePath, traceFilter), stderr)) return ExitCodes.BadInput;
        using var traceFile = trace;
        if (!FtraceFile.TryOpen(ftracePath, stderr, out var ftrace)) return ExitCodes.BadInput;
        using var ftraceFile = ftrace;
        var report = Simulator.Run(scenario, seed, policy, trace, ftrace?.Writer);
        SummaryWriter.Write(report, stdout);
        if (trace is not null && !TryWrite(tracePath!, Trace, trace.Complete, stderr)) return ExitCodes.BadInput;
        if (jsonPath is not null && !TryWrite(jsonPath, Json, () => JsonReportWriter.Write(report, jsonPath), stderr)) return ExitCodes.BadInput;
        if (reportPath is not null && !TryWrite(reportPath, Report, () => HtmlReportWriter.Write(report, reportPath), stderr)) return ExitCodes.BadInput;
        return report.InvariantCounts.Count == 0 ? ExitCodes.Ok : ExitCodes.InvariantsBroken;
    }

    private static int Fail(TextWriter stderr, string message)
    {
        ErrorLine.Write(stderr, $"faultline run: {message}");
        return ExitCodes.BadInput;
    }

    private static bool TryWrite(string path, string what, Action write, TextWriter stderr)
    {
        try
        {
            write();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(stderr, $"cannot write {what} to '{path}': {e.Message}");
            return false;
        }
    }
}
