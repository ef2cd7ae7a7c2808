using System.Text.RegularExpressions;
using Faultline.Simulation;

namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// What one run of a random scenario says about the model. Under <c>hardened</c> every broken invariant is a
/// failure; under <c>linux</c> upstream's documented breaks are expected, so only a crash or a run that never
/// goes quiet is. Each failure is named by a signature — the rule id and its message with numbers as N (the kind of
/// break, not its size), or <c>crash:Type@Method</c> — that a shrunk scenario must keep, so minimizing never trades
/// one bug for another.
/// </summary>
internal sealed record Verdict(string Policy, IReadOnlyList<string> Failures, string Detail)
{
    public bool Failed => Failures.Count > 0;

    public static Verdict Of(Scenario scenario, string policy)
    {
        RunReport report;
        try
        {
            report = Simulator.Run(scenario, policy: policy);
        }
        catch (Exception e) // any exception out of the simulator is the finding
        {
            var frame = new System.Diagnostics.StackTrace(e).GetFrames().FirstOrDefault(f => f.GetMethod() is not null)?.GetMethod();
            return new Verdict(policy, [$"crash:{e.GetType().Name}@{frame?.DeclaringType?.Name}.{frame?.Name}"], e.ToString());
        }
        // In the order first broken: every broken rule keeps its first violations (InvariantLog). A run that
        // never went quiet reports the quiescence invariant itself (Platform.CheckEnd); Quiesced is checked too.
        var counted = report.Invariants.Where(v => policy == "hardened" || v.Rule == "quiescence").ToList();
        var failures = counted.Select(v => $"{v.Rule}: {Numberless(v.Message)}").Distinct().ToList();
        if (!report.Quiesced && counted.All(v => v.Rule != "quiescence")) failures.Add("quiescence: stopped at the time limit");
        return new Verdict(policy, failures, string.Join('\n', counted.Take(8)));
    }

    /// <summary>A message with its counts and times as N (rule ids kept), so one kind of break has one signature.</summary>
    public static string Numberless(string message) =>
        Regex.Replace(message, @"\b(?:R|F|POL-|BUG-|H-[A-Za-z0-9]+-)\d+\b|\d+", m => char.IsAsciiDigit(m.Value[0]) ? "N" : m.Value);
}
