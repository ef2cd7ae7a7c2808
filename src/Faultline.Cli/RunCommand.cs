using Faultline.Simulation;

namespace Faultline.Cli;

/// <summary><c>faultline run [SCENARIO] [--seed N] [--policy P] [--json FILE] [--trace FILE] [--report FILE] [--ftrace FILE]</c>.</summary>
internal static class RunCommand
{
    public static int Run(string? scenarioPath, ulong? seed, string? policy, string? jsonPath, string? tracePath, string? reportPath, TextWriter stdout, TextWriter stderr, string? ftracePath = null)
    {
        Scenario scenario;
        try
        {
            scenario = scenarioPath is null ? ScenarioReader.Default() : ScenarioReader.Load(scenarioPath);
        }
        catch (ScenarioException e)
        {
            stderr.WriteLine($"faultline run: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (IOException e)
        {
            stderr.WriteLine($"faultline run: cannot read scenario '{scenarioPath}': {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (UnauthorizedAccessException e)
        {
            stderr.WriteLine($"faultline run: cannot read scenario '{scenarioPath}': {e.Message}");
            return ExitCodes.BadInput;
        }

        RunReport report;
        using var trace = tracePath is null ? null : new TraceRecorder();
        if (!FtraceFile.TryOpen(ftracePath, stderr, out var ftrace)) return ExitCodes.BadInput;
        using var ftraceFile = ftrace;
        try
        {
            report = Simulator.Run(scenario, seed, policy, trace, ftrace?.Writer);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // A model error, not bad input and not a broken invariant: say so, and exit apart from both.
            stderr.WriteLine($"faultline run: internal error in scenario '{scenario.Name}': {e.Message}");
            return ExitCodes.InternalError;
        }
        SummaryWriter.Write(report, stdout);
        if (jsonPath is not null && !TryWrite(jsonPath, "JSON", () => JsonReportWriter.Write(report, jsonPath), stderr)) return ExitCodes.BadInput;
        if (reportPath is not null && !TryWrite(reportPath, "the report", () => HtmlReportWriter.Write(report, reportPath), stderr)) return ExitCodes.BadInput;
        if (trace is not null && !TryWrite(tracePath!, "the trace", () => File.WriteAllBytes(tracePath!, trace.ToArray()), stderr)) return ExitCodes.BadInput;
        return report.InvariantCounts.Count == 0 ? ExitCodes.Ok : ExitCodes.InvariantsBroken;
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
            stderr.WriteLine($"faultline run: cannot write {what} to '{path}': {e.Message}");
            return false;
        }
    }
}
