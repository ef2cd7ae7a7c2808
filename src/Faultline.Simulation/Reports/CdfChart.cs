using System.Text;
using static Faultline.Simulation.Svg;

namespace Faultline.Simulation;

/// <summary>One latency distribution to draw: its legend text, its colour and line style (a run of a comparison).</summary>
internal sealed record CdfSeries(string Label, int Colour, int Dash, LatencyReport Latency);

/// <summary>
/// Cumulative latency distributions as steps through the report's percentiles (1st, 2nd, ... 100th) on a log time axis. Every latency panel of a page takes the same decades (<see cref="Decades"/>), so curves
/// compare by position across panels and runs.
/// </summary>
internal sealed class CdfPanel(string title, string yTitle, IReadOnlyList<CdfSeries> series, (int From, int To) decades) : IPanel
{
    private const int Left = 64, PlotHeight = 170, Top = 26, Bottom = 48;
    private static double PlotWidth => Width - LegendWidth - Left - 10;

    public int Height => Math.Max(Top + PlotHeight + Bottom, Top + series.Count * 16 + 12);

    /// <summary>The panel, or null when it has no series.</summary>
    public static CdfPanel? Of(string title, string yTitle, IReadOnlyList<CdfSeries> series, (int From, int To) decades) =>
        series.Count == 0 ? null : new CdfPanel(title, yTitle, series, decades);

    /// <summary>The decades that hold every positive percentile of <paramref name="latencies"/>: the page's shared time axis.</summary>
    public static (int From, int To) Decades(IEnumerable<LatencyReport> latencies)
    {
        var values = latencies.Where(l => l.Samples > 0).SelectMany(l => l.Cdf.Append(l.P99Ns).Concat(l.Quantiles ?? [])).Where(v => v > 0).ToList();
        if (values.Count == 0) return (2, 3);
        int from = (int)Math.Floor(Math.Log10(values.Min())), to = (int)Math.Ceiling(Math.Log10(values.Max()));
        return (from, Math.Max(to, from + 1));
    }

    public void Draw(StringBuilder svg, int top)
    {
        double plotTop = top + Top, plotBottom = plotTop + PlotHeight;
        Title(svg, Left, top + 16, title);
        double X(double ns) => Left + (Math.Log10(Math.Max(ns, Math.Pow(10, decades.From))) - decades.From) / (decades.To - decades.From) * PlotWidth;
        double Y(double share) => plotBottom - share * PlotHeight;

        foreach (var (value, major) in Ticks.Log(decades.From, decades.To))
        {
            double x = X(value);
            Line(svg, x, plotTop, x, plotBottom, major ? "#ddd" : "#f0f0f0");
            if (major) Text(svg, x, plotBottom + 14, Ticks.Time(value), "middle");
        }
        foreach (double share in new[] { 0, 0.25, 0.5, 0.75, 1 })
        {
            Line(svg, Left, Y(share), Left + PlotWidth, Y(share), "#eee");
            Text(svg, Left - 6, Y(share) + 4, Invariant($"{share * 100:0} %"), "end");
        }
        Line(svg, Left, plotTop, Left, plotBottom, "#888");
        Line(svg, Left, plotBottom, Left + PlotWidth, plotBottom, "#888");
        Text(svg, Left + PlotWidth / 2, plotBottom + 32, "latency (log scale)", "middle", " fill=\"#444\"");
        YTitle(svg, 14, plotTop, PlotHeight, yTitle);

        for (int s = 0; s < series.Count; s++)
        {
            var (label, colour, dash, l) = series[s];
            var quantiles = Quantiles(l);
            var points = new StringBuilder(Invariant($"{X(quantiles[0].Ns):0.#},{Y(0):0.#}"));
            double lastShare = 0;
            foreach (var (share, ns) in quantiles)
            {
                points.Append(Invariant($" {X(ns):0.#},{Y(lastShare):0.#} {X(ns):0.#},{Y(share):0.#}"));
                lastShare = share;
            }
            svg.Append(Invariant($"<polyline class=\"mark\" fill=\"none\" stroke=\"{Colour(colour)}\" stroke-width=\"2\"{Dash(dash)} points=\"{points}\">"))
                .Append(Invariant($"<title>{Encode(label)}: {l.Samples} samples, p50 {Ticks.Time(l.P50Ns)}, p99 {Ticks.Time(l.P99Ns)}, max {Ticks.Time(l.MaxNs)}</title></polyline>"));
            Legend(svg, plotTop, s, $"{label} (p99 {Ticks.Time(l.P99Ns)})", Colour(colour), Dash(dash));
        }
    }

    /// <summary>
    /// The report's percentiles as (share, latency): its hundredths, or, in a report from before them, its twentieths
    /// with the 99th put in its place.
    /// </summary>
    private static List<(double Share, long Ns)> Quantiles(LatencyReport latency)
    {
        if (latency.Quantiles is { Count: > 0 } hundredths) return [.. hundredths.Select((ns, i) => ((i + 1.0) / hundredths.Count, ns))];
        var steps = latency.Cdf.Select((ns, i) => ((i + 1.0) / latency.Cdf.Count, ns)).ToList();
        int at = steps.FindIndex(p => p.Item1 > 0.99);
        if (at >= 0) steps.Insert(at, (0.99, latency.P99Ns));
        return steps;
    }
}
