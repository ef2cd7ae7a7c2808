using System.CommandLine;
using System.Globalization;
using Faultline.Simulation.Sweeps;

namespace Faultline.Cli;

/// <summary>
/// <c>faultline size SWEEP --target 'METRIC OP NUMBER' [--jobs N]</c> (docs/sizing.md): the smallest value of the sweep
/// file's one parameter, over its range, whose mean across the sweep's seeds meets the target, by bisection.
/// </summary>
internal static class SizeCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<string>("sweep") { Description = "Sweep file with one integer parameter (its values are the bracket), one policy at most, and seeds" };
        var target = new Option<string>("--target") { Required = true, Description = "METRIC OP NUMBER, OP one of <= >= < >; METRIC a name from the file's metrics or a report path or ratio, e.g. 'fault_latency.p99_ns <= 50000'" };
        var jobs = SweepCommand.JobsOption();
        var size = new Command("size", "Find the smallest value of a parameter that meets a target, by bisection over sweeps with replications") { file, target, jobs };
        size.SetAction(r => Run(r.GetValue(file)!, r.GetValue(target)!, r.GetValue(jobs), stdout, stderr));
        return size;
    }

    private static int Run(string path, string targetText, int jobs, TextWriter stdout, TextWriter stderr)
    {
        if (jobs < 1) return Fail(stderr, "--jobs: expected at least 1");
        if (SweepCommand.Load(path, stderr) is not { } plan) return ExitCodes.BadInput;
        var d = plan.Definition;
        if (d.Parameters.Count != 1)
            return Fail(stderr, $"{path}: size searches one parameter; the file has {d.Parameters.Count}");
        if (plan.Policies.Count != 1)
            return Fail(stderr, $"{path}: size runs one policy; the file has {plan.Policies.Count}");
        var parameter = d.Parameters[0];
        var values = new List<long>();
        foreach (var v in parameter.Values)
        {
            if (!long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
                return Fail(stderr, $"{path}: parameters.{parameter.Path.Text}: '{v}' is not an integer; size bisects integers");
            values.Add(n);
        }
        if (SizeTarget.TryParse(targetText, d.Metrics, out string problem) is not { } target)
            return Fail(stderr, $"--target {targetText}: {problem}");

        SizeAnswer answer;
        try
        {
            // The sweep's policy is pinned, so each probe is one configuration under it.
            answer = SizeSearch.Find(d with { Policies = plan.Policies }, parameter.Path, values.Min(), values.Max(), target, jobs,
                p => stderr.WriteLine($"faultline size: {parameter.Path.Text}={p.Value}: {target.Metric.Name} mean {SweepOutput.Number(p.Estimate.Mean)} ({(p.Meets ? "meets" : "misses")})"));
        }
        catch (Exception e) when (e is MetricException or Simulation.ScenarioOverrideException or Simulation.ScenarioException)
        {
            return Fail(stderr, e.Message);
        }
        SweepTables.WriteSize(answer, parameter.Path, target, stdout);
        if (answer.Problem is not null) return ExitCodes.BadInput;
        return answer.Probes.Any(p => p.InvariantsBroken > 0) ? ExitCodes.InvariantsBroken : ExitCodes.Ok;
    }

    private static int Fail(TextWriter stderr, string message)
    {
        ErrorLine.Write(stderr, $"faultline size: {message}");
        return ExitCodes.BadInput;
    }
}
