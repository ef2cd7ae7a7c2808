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

        var report = Simulator.Run(scenario, seed, policy);
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
