using System.Globalization;

namespace Faultline.Simulation.Sweeps;

/// <summary>What a size search must reach: a metric's mean across seeds compared with a bound, e.g. <c>drop_rate &lt;= 0.01</c>.</summary>
public sealed record SizeTarget(Metric Metric, string Operator, double Bound)
{
    private static readonly string[] Operators = ["<=", ">=", "<", ">"];

    public bool IsMetBy(double mean) => !double.IsNaN(mean) && Operator switch
    {
        "<=" => mean <= Bound,
        ">=" => mean >= Bound,
        "<" => mean < Bound,
        _ => mean > Bound,
    };

    public override string ToString() => $"{Metric.Name} {Operator} {SweepOutput.Number(Bound)}";

    /// <summary>Parses <c>METRIC OP NUMBER</c>; METRIC is one of <paramref name="named"/> by name, or a report path or ratio.</summary>
    public static SizeTarget? TryParse(string text, IReadOnlyList<Metric> named, out string problem)
    {
        problem = "";
        foreach (var op in Operators)
        {
            int at = text.IndexOf(op, StringComparison.Ordinal);
            if (at < 0) continue;
            string left = text[..at].Trim(), right = text[(at + op.Length)..].Trim();
            if (!double.TryParse(right, NumberStyles.Float, CultureInfo.InvariantCulture, out double bound))
            {
                problem = $"'{right}' is not a number";
                return null;
            }
            var metric = named.FirstOrDefault(m => m.Name == left) ?? Metric.TryParse(left, left, out problem);
            return metric is null ? null : new SizeTarget(metric, op, bound);
        }
        problem = "expected METRIC OP NUMBER with OP one of <=, >=, <, >, e.g. 'fault_latency.p99_ns <= 50000'";
        return null;
    }
}
