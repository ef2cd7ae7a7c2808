namespace Faultline.Simulation.Sweeps;

/// <summary>
/// Student's t distribution for integer degrees of freedom, enough for confidence intervals over seeds: the two-sided
/// probability P(|T| &lt; t) by its finite series in θ = atan(t/√ν) (Abramowitz and Stegun 26.7.3-4), and its
/// quantile by bisection on it (monotone in t), so no table and no package is needed.
/// </summary>
public static class StudentT
{
    /// <summary>P(|T| &lt; <paramref name="t"/>) with <paramref name="df"/> degrees of freedom.</summary>
    public static double CentralProbability(double t, int df)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(df, 1);
        if (t <= 0) return 0;
        double theta = Math.Atan(t / Math.Sqrt(df));
        double c = Math.Cos(theta), s = Math.Sin(theta), c2 = c * c;
        if (df % 2 == 1)
        {
            // (2/π)(θ + sinθ(cosθ + (2/3)cos³θ + ... + (2·4···(ν−3))/(1·3···(ν−2))cos^(ν−2)θ))
            double sum = 0, term = c;
            for (int k = 1; k <= df - 2; k += 2)
            {
                sum += term;
                term *= c2 * (k + 1) / (k + 2);
            }
            return 2 / Math.PI * (theta + s * sum);
        }
        else
        {
            // sinθ(1 + (1/2)cos²θ + (1·3)/(2·4)cos⁴θ + ... + (1·3···(ν−3))/(2·4···(ν−2))cos^(ν−2)θ)
            double sum = 0, term = 1;
            for (int k = 0; k <= df - 2; k += 2)
            {
                sum += term;
                term *= c2 * (k + 1) / (k + 2);
            }
            return s * sum;
        }
    }

    /// <summary>The t with P(|T| &lt; t) = <paramref name="confidence"/>: the half-width factor of a two-sided interval.</summary>
    public static double TwoSidedQuantile(double confidence, int df)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(confidence, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(confidence, 1);
        double low = 0, high = 1;
        while (CentralProbability(high, df) < confidence) high *= 2;
        // Bisection to the last bit: the same answer on every machine with the same libm.
        for (int i = 0; i < 200 && low < high; i++)
        {
            double mid = low + ((high - low) / 2);
            if (mid == low || mid == high) break;
            if (CentralProbability(mid, df) < confidence) low = mid;
            else high = mid;
        }
        return high;
    }
}
