using System.Text.Json.Serialization;

namespace Faultline.Simulation.Distributions;

/// <summary>The families a <see cref="Distribution"/> draws from (docs/scenarios.md, "Distributions").</summary>
public enum DistributionKind
{
    /// <summary>Always <see cref="Distribution.Mean"/>.</summary>
    Constant,
    /// <summary>Exponential with <see cref="Distribution.Mean"/> (memoryless: Poisson arrivals, M/M/c service).</summary>
    Exponential,
    /// <summary>Uniform over [<see cref="Distribution.Min"/>, <see cref="Distribution.Max"/>].</summary>
    Uniform,
    /// <summary>Normal with <see cref="Distribution.Mean"/> and <see cref="Distribution.Cv"/>, negative draws taken as 0.</summary>
    Normal,
    /// <summary>Lognormal with <see cref="Distribution.Mean"/> and <see cref="Distribution.Cv"/> of the variate itself.</summary>
    Lognormal,
    /// <summary>Erlang: the sum of <see cref="Distribution.Shape"/> exponentials, of mean <see cref="Distribution.Mean"/> in all (cv = 1/√k).</summary>
    Erlang,
    /// <summary>One of <see cref="Distribution.Values"/> (a CSV file's column), each as likely.</summary>
    Empirical,
}

/// <summary>
/// A random duration or size, drawn from a run's <see cref="SimRandom"/> stream in whole units (nanoseconds,
/// pages). The transforms are written here (inverse CDF, Marsaglia's polar method, a sum of exponentials) on
/// <see cref="SimRandom"/>'s uniform and its own IEEE-exact <see cref="SimRandom.Log"/> and <see cref="Exp"/>,
/// so a variate has the same bits on every machine (DESIGN rule 2); MathNet.Numerics is not used, as its
/// samplers call the platform's libm.
/// </summary>
public sealed record Distribution
{
    public required DistributionKind Kind { get; init; }
    /// <summary>The mean of the variate (for <see cref="DistributionKind.Uniform"/>, the midpoint; for <see cref="DistributionKind.Empirical"/>, the values' mean).</summary>
    public double Mean { get; init; }
    // A report's resolved scenario shows only the parameters of the distribution's family, and a file's name, not its values.
    /// <summary>Coefficient of variation (standard deviation over mean), for normal and lognormal.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Cv { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Min { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Max { get; init; }
    /// <summary>Erlang's number of phases.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Shape { get; init; }
    /// <summary>The empirical values, and the file they came from (relative to the scenario).</summary>
    [JsonIgnore]
    public IReadOnlyList<long>? Values { get; init; }
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? File { get; init; }

    /// <summary>A constant: what the old one-number form of every key reads as (except <c>interval</c>, an exponential).</summary>
    public static Distribution Fixed(long value) => new() { Kind = DistributionKind.Constant, Mean = value };

    /// <summary>The exponential of that mean: a workload's <c>interval</c> in the one-number form.</summary>
    public static Distribution Exponential(long mean) => new() { Kind = DistributionKind.Exponential, Mean = mean };

    /// <summary>Whether every draw is the same number (it then takes nothing from the random stream).</summary>
    [JsonIgnore]
    public bool IsConstant => Kind == DistributionKind.Constant;

    /// <summary>One variate, rounded to a whole unit, never negative.</summary>
    public long Sample(SimRandom random)
    {
        double x = Kind switch
        {
            DistributionKind.Constant => Mean,
            DistributionKind.Exponential => Mean <= 0 ? 0 : -Mean * SimRandom.Log(1.0 - random.NextDouble()), // as SimRandom.NextExponential
            DistributionKind.Uniform => Min + (Max - Min) * random.NextDouble(),
            DistributionKind.Normal => Mean + Mean * Cv * StandardNormal(random),
            DistributionKind.Lognormal => Lognormal(random),
            DistributionKind.Erlang => Erlang(random),
            _ => Values![(int)random.NextInclusive(0, Values.Count - 1)],
        };
        // Rounded as SimRandom.NextExponential always did, so a one-number interval keeps its bits.
        return x <= 0 ? 0 : (long)Math.Round(Math.Min(x, 1e15));
    }

    private double Lognormal(SimRandom random)
    {
        // For a variate of mean m and cv c: σ² = ln(1 + c²), μ = ln m − σ²/2.
        double sigma2 = SimRandom.Log(1.0 + Cv * Cv);
        double mu = SimRandom.Log(Mean) - sigma2 / 2;
        return Exp(mu + Math.Sqrt(sigma2) * StandardNormal(random));
    }

    private double Erlang(SimRandom random)
    {
        // ln of a product of uniforms is a sum of exponentials: one logarithm for all k phases.
        double product = 1.0;
        for (int i = 0; i < Shape; i++) product *= 1.0 - random.NextDouble();
        return product > 0 ? -Mean / Shape * SimRandom.Log(product) : 0;
    }

    /// <summary>Marsaglia's polar method: needs only a logarithm and a square root (IEEE-exact), no sine or cosine.</summary>
    private static double StandardNormal(SimRandom random)
    {
        while (true)
        {
            double u = 2.0 * random.NextDouble() - 1.0;
            double v = 2.0 * random.NextDouble() - 1.0;
            double s = u * u + v * v;
            if (s > 0 && s < 1) return u * Math.Sqrt(-2.0 * SimRandom.Log(s) / s);
        }
    }

    /// <summary>
    /// e^x from IEEE additions, multiplications and an exact power of two, the same bits everywhere (Math.Exp's last
    /// bit is the platform's): x = k·ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor series to r^20.
    /// </summary>
    internal static double Exp(double x)
    {
        if (x > 709) return double.PositiveInfinity;
        if (x < -745) return 0;
        const double Ln2Hi = 0.693147180369123816490;
        const double Ln2Lo = 1.90821492927058770002e-10;
        double k = Math.Round(x / 0.6931471805599453);
        double r = (x - k * Ln2Hi) - k * Ln2Lo;
        double sum = 1.0;
        for (int n = 20; n >= 1; n--) sum = 1.0 + r / n * sum;
        return Math.ScaleB(sum, (int)k);
    }
}
