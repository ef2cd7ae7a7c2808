using System.Globalization;

namespace Faultline.Simulation.Sweeps;

/// <summary>What <c>faultline sweep</c> and <c>faultline size</c> print: estimates as mean [95 % interval].</summary>
public static class SweepTables
{
    /// <summary>A row per configuration and policy, a column per metric.</summary>
    public static void WriteSummary(SweepPlan plan, IReadOnlyList<SweepOutput.Group> groups, TextWriter writer)
    {
        var d = plan.Definition;
        var table = new TextTable([.. d.Parameters.Select(p => p.Path.Text), "policy", "seeds", "broken", .. d.Metrics.Select(m => m.Name)]);
        foreach (var g in groups)
            table.Add([.. plan.Configurations[g.Configuration].Values, g.Policy, g.Results.Count, g.Results.Sum(r => r.InvariantsBroken), .. g.Estimates.Select(Cell)]);
        table.Write(writer);
    }

    /// <summary>The probes of a size search, by value, and the answer with the interval at it and at its neighbour below.</summary>
    public static void WriteSize(SizeAnswer answer, TreePath parameter, SizeTarget target, TextWriter writer)
    {
        var table = new TextTable(parameter.Text, "seeds", "broken", $"{target.Metric.Name} mean [95% CI]", "meets");
        foreach (var p in answer.Probes) table.Add(p.Value, p.Estimate.Count, p.InvariantsBroken, Cell(p.Estimate), p.Meets ? "yes" : "no");
        table.Write(writer);
        if (answer.Problem is { } problem)
        {
            writer.WriteLine($"No answer: {problem}.");
            return;
        }
        if (answer.Value is not { } value)
        {
            writer.WriteLine($"No value from {answer.Probes[0].Value} to {answer.Probes[^1].Value} meets {target}.");
            return;
        }
        var at = answer.At(value)!;
        writer.Write($"Smallest {parameter.Text} meeting {target}: {value}, {target.Metric.Name} {Cell(at.Estimate)}");
        writer.WriteLine(answer.At(value - 1) is { } below ? $"; at {value - 1}: {Cell(below.Estimate)}." : " (the bracket's low end).");
        if (Straddles(at.Estimate, target) || (answer.At(value - 1) is { } b && Straddles(b.Estimate, target)))
            writer.WriteLine("The interval at the answer or its neighbour contains the bound: more seeds would settle it.");
    }

    private static bool Straddles(Estimate e, SizeTarget target) => e.Low <= target.Bound && target.Bound <= e.High;

    private static string Cell(Estimate e) =>
        e.Count == 0 ? "-" : double.IsNaN(e.Low) ? Short(e.Mean) : $"{Short(e.Mean)} [{Short(e.Low)}, {Short(e.High)}]";

    /// <summary>Four significant digits, no exponent under a billion.</summary>
    private static string Short(double x) =>
        Math.Abs(x) >= 1000 && Math.Abs(x) < 1e9 ? x.ToString("F0", CultureInfo.InvariantCulture) : x.ToString("G4", CultureInfo.InvariantCulture);
}
