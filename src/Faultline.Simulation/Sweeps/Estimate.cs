namespace Faultline.Simulation.Sweeps;

/// <summary>
/// A metric over replications (seeds): sample mean, sample standard deviation (n − 1) and the 95 % confidence
/// interval of the mean by Student's t. Values that are no number (NaN) are left out; under two values there is
/// no deviation and no interval (NaN).
/// </summary>
public sealed record Estimate(int Count, double Mean, double StandardDeviation, double Low, double High)
{
    public const double Confidence = 0.95;

    public static Estimate Of(IEnumerable<double> values)
    {
        var xs = values.Where(v => !double.IsNaN(v)).ToArray();
        if (xs.Length == 0) return new(0, double.NaN, double.NaN, double.NaN, double.NaN);
        double mean = xs.Average();
        if (xs.Length < 2) return new(1, mean, double.NaN, double.NaN, double.NaN);
        double sd = Math.Sqrt(xs.Sum(x => (x - mean) * (x - mean)) / (xs.Length - 1));
        double half = StudentT.TwoSidedQuantile(Confidence, xs.Length - 1) * sd / Math.Sqrt(xs.Length);
        return new(xs.Length, mean, sd, mean - half, mean + half);
    }
}
