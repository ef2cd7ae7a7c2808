using System.Globalization;

namespace Faultline.Simulation;

/// <summary>
/// Axis ticks a reader takes in at a glance (issue 13: ticks like 141/282/422/563 were not): steps of 1, 2 or 5
/// times a power of ten, times in SI units (ns, µs, ms, s) and counts with k and M.
/// </summary>
internal static class Ticks
{
    /// <summary>0, step, 2·step, ... up to the first tick at or past <paramref name="max"/>, with about <paramref name="target"/> steps.</summary>
    public static IReadOnlyList<double> Linear(double max, int target = 5)
    {
        if (max <= 0) max = 1;
        double raw = max / target, magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw))), normal = raw / magnitude;
        double step = (normal <= 1 ? 1 : normal <= 2 ? 2 : normal <= 5 ? 5 : 10) * magnitude;
        var ticks = new List<double>();
        for (int i = 0; ; i++)
        {
            ticks.Add(i * step);
            if (i * step >= max * (1 - 1e-9)) return ticks;
        }
    }

    /// <summary>Ticks of a log axis from 10^<paramref name="fromDecade"/> to 10^<paramref name="toDecade"/>: 1, 2, 5 per decade, labelled when <c>Major</c>.</summary>
    public static IReadOnlyList<(double Value, bool Major)> Log(int fromDecade, int toDecade)
    {
        bool crowded = toDecade - fromDecade > 4; // past four decades only the powers of ten carry labels
        var ticks = new List<(double, bool)>();
        for (int d = fromDecade; d <= toDecade; d++)
            foreach (int m in new[] { 1, 2, 5 })
                if (d < toDecade || m == 1) ticks.Add((m * Math.Pow(10, d), m == 1 || !crowded));
        return ticks;
    }

    /// <summary>A time in nanoseconds in the largest SI unit it is at least one of: 500 ns, 2 µs, 1.5 ms, 3 s.</summary>
    public static string Time(double ns) =>
        ns >= 1e9 ? Number(ns / 1e9) + " s"
        : ns >= 1e6 ? Number(ns / 1e6) + " ms"
        : ns >= 1e3 ? Number(ns / 1e3) + " µs"
        : Number(ns) + " ns";

    /// <summary>A count: 750, 1.5k, 2M.</summary>
    public static string Count(double n) =>
        n >= 1e6 ? Number(n / 1e6) + "M" : n >= 1e3 ? Number(n / 1e3) + "k" : Number(n);

    private static string Number(double v) => v.ToString(Math.Abs(v - Math.Round(v)) < 1e-9 ? "0" : "0.##", CultureInfo.InvariantCulture);
}
