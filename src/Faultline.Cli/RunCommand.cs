using Faultline.Simulation;

namespace Faultline.Cli;

/// <summary><c>faultline run [SCENARIO] [--seed N] [--policy P] [--json FILE]</c>.</summary>
internal static class RunCommand
{
    public static int Run(string? scenarioPath, ulong? seed, string? policy, string? jsonPath, TextWriter stdout, TextWriter stderr)
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
        try
        {
            report = Simulator.Run(scenario, seed, policy);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // A model error, not bad input and not a broken invariant: say so, and exit apart from both.
            stderr.WriteLine($"faultline run: internal error in scenario '{scenario.Name}': {e.Message}");
            return ExitCodes.InternalError;
        }
        SummaryWriter.Write(report, stdout);
        if (jsonPath is not null)
        {
            try
            {
                JsonReportWriter.Write(report, jsonPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"faultline run: cannot write JSON to '{jsonPath}': {e.Message}");
                return ExitCodes.BadInput;
            }
        }
        return report.InvariantCounts.Count == 0 ? ExitCodes.Ok : ExitCodes.InvariantsBroken;
    }
}
