using System.Text.Json.Nodes;

namespace Faultline.Simulation.Sweeps;

/// <summary>What one point gave: its metrics in the sweep's order (NaN for no number) and the invariants its run broke.</summary>
public sealed record PointResult(int Point, long InvariantsBroken, IReadOnlyList<double> Values)
{
    /// <summary>Runs <paramref name="point"/> of <paramref name="plan"/> and takes its metrics from the run's JSON report.</summary>
    /// <exception cref="MetricException">A metric is not in the report.</exception>
    public static PointResult Run(SweepPlan plan, SweepPoint point)
    {
        var report = Simulator.Run(plan.Configurations[point.Configuration].Scenario, point.Seed, point.Policy);
        var json = JsonNode.Parse(JsonReportWriter.Serialize(report))!;
        return new PointResult(point.Index, report.InvariantCounts.Values.Sum(), [.. plan.Definition.Metrics.Select(m => m.Evaluate(json))]);
    }
}
