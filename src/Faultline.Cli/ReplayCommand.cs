using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Faultline.Faults;
using Faultline.Simulation;
using Faultline.Simulation.Traces;

namespace Faultline.Cli;

/// <summary>
/// <c>faultline replay TRACE [--policy P] [--scenario FILE] [--emit-scenario FILE] [--json FILE]</c>: the capture's
/// page requests through the model, its responses compared with the captured ones and with the other policy's.
/// <c>--kernel X.Y</c> (issue 10) is not offered yet: the model runs one kernel's rules.
/// </summary>
internal static class ReplayCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var trace = new Argument<string>("trace") { Description = "The capture: /sys/kernel/tracing/trace text, 'trace-cmd report' output, or a kernel log" };
        var policy = new Option<string?>("--policy") { Description = "Host policy the requests are replayed under: hardened (default) or linux; the other one is shown beside it" };
        policy.AcceptOnlyFromAmong("linux", "hardened");
        var scenario = new Option<string?>("--scenario") { Description = "Replay on this topology (a file --emit-scenario wrote, edited) instead of the one derived from the capture" };
        var emit = new Option<string?>("--emit-scenario") { Description = "Also write the topology derived from the capture as a scenario file, to edit and pass back with --scenario" };
        var json = new Option<string?>("--json") { Description = "Also write the comparison as JSON to this file" };
        var replay = new Command("replay", "Run a capture's page requests through the model and compare its responses with the captured ones") { trace, policy, scenario, emit, json };
        replay.SetAction(r => Run(r.GetValue(trace)!, r.GetValue(policy), r.GetValue(scenario), r.GetValue(emit), r.GetValue(json), stdout, stderr));
        return replay;
    }

    private static int Run(string tracePath, string? policyName, string? scenarioPath, string? emitPath, string? jsonPath, TextWriter stdout, TextWriter stderr)
    {
        ReplayPlan plan;
        try
        {
            using var input = new StreamReader(tracePath, detectEncodingFromByteOrderMarks: true);
            plan = ReplayPlan.FromCapture(input);
            if (scenarioPath is not null) plan = plan.With(ScenarioReader.Load(scenarioPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"faultline replay: cannot read: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (ScenarioException e)
        {
            stderr.WriteLine($"faultline replay: {e.Message}");
            return ExitCodes.BadInput;
        }
        if (plan.Requests.Count == 0)
        {
            stderr.WriteLine($"faultline replay: '{tracePath}' has no page request to replay");
            return ExitCodes.BadInput;
        }
        var missing = plan.Requests.Select(r => r.Device).Distinct().Where(d => plan.Scenario.Devices.All(s => s.Name != d)).ToList();
        if (missing.Count > 0)
        {
            stderr.WriteLine($"faultline replay: the scenario has no device named {string.Join(", ", missing)}, which the capture's requests come from");
            return ExitCodes.BadInput;
        }

        ReplayReport report;
        try
        {
            report = ReplayReport.Run(plan, FaultPolicy.ByName(policyName ?? plan.Scenario.Policy) ?? FaultPolicy.Hardened);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException)
        {
            stderr.WriteLine($"faultline replay: internal error: {e.Message}");
            return ExitCodes.InternalError;
        }
        report.Write(stdout);
        try
        {
            if (emitPath is not null) File.WriteAllText(emitPath, plan.ToYaml());
            if (jsonPath is not null)
                File.WriteAllText(jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions
                {
                    WriteIndented = true,
                    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
                    DictionaryKeyPolicy = null,
                    Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
                }) + "\n");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"faultline replay: cannot write: {e.Message}");
            return ExitCodes.BadInput;
        }
        return report.Reproduced ? ExitCodes.Ok : ExitCodes.InvariantsBroken;
    }
}
