using System.Globalization;
using System.Net;
using System.Text;

using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>
/// The run report as one self-contained HTML page with SVG plots: fault and access latency
/// distributions, PRG responses by code, hardware queue fill, the stall buffer over time, tenants'
/// throughput against their baseline; then the text summary. No script, no external file, and the
/// same report gives the same bytes.
/// </summary>
public static class HtmlReportWriter
{
    private const int Width = 720;
    private const int Height = 300;
    private const int Left = 70, Right = 180, Top = 20, Bottom = 40;
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    public static string Render(RunReport r)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>faultline: ").Append(Encode(r.Scenario)).Append("</title>\n");
        html.Append("<style>body{font-family:sans-serif;margin:2em;max-width:1100px}h2{margin-top:1.6em}svg{background:#fafafa;border:1px solid #ddd}")
            .Append("pre{font-size:12px;background:#f4f4f4;padding:1em;overflow-x:auto}.bad{color:#b00}.ok{color:#070}</style></head><body>\n");
        html.Append("<h1>").Append(Encode(r.Scenario)).Append("</h1>\n<p>");
        html.Append(Invariant($"seed {r.Seed}, policy {r.Policy}, virtual time {SummaryWriter.Ns(r.EndTimeNs)}, {r.Events} events, "));
        html.Append(r.Quiesced ? "quiesced" : "<span class=\"bad\">stopped at the time limit</span>").Append(". ");
        html.Append(r.InvariantCounts.Count == 0
            ? "<span class=\"ok\">Invariants: all held.</span>"
            : $"<span class=\"bad\">Invariants: {r.InvariantCounts.Values.Sum()} violations ({Encode(string.Join(", ", r.InvariantCounts.Select(kv => $"{kv.Key} x{kv.Value}")))}).</span>");
        html.Append("</p>\n");

        Section(html, "Fault latency", "From a group's first page request to its PRG Response, per device (cumulative distribution, log time axis).",
            Cdf(r.Devices.Where(d => d.FaultLatency.Samples > 0).Select(d => (d.Name, d.FaultLatency)).ToList()));
        var accessSeries = r.Tenants.Where(t => t.AccessLatency.Samples > 0).Select(t => (t.Name, t.AccessLatency))
            .Concat(r.Masters.Where(m => m.AccessLatency.Samples > 0 && r.Tenants.Count == 0).Select(m => (m.Name, m.AccessLatency))).ToList();
        Section(html, "Access latency", "From an access's start to its end, per tenant (cumulative distribution, log time axis).", Cdf(accessSeries));
        Section(html, "PRG responses by code", "What each PCIe function received.",
            StackedBars(r.Devices.Select(d => (d.Name, new[] { d.ResponsesSuccess, d.ResponsesInvalid, d.ResponsesFailure, d.ResponsesReserved })).ToList(),
                ["success", "invalid request", "response failure", "reserved"]));
        Section(html, "Hardware queues", "Most entries held at once against the queue's size (VT-d PRQ, SMMUv3 PRI queue, AMD PPR log).",
            Bars(r.Iommus.Where(i => i.RingEntries > 0).Select(i => ($"{i.Name} ({i.Kind})", (double)i.RingHighWater, (double)i.RingEntries)).ToList(), "entries"));
        foreach (var i in r.Iommus.Where(i => i.Stall is not null))
            Section(html, $"Stall buffer of {i.Name}", Invariant($"Stalls held over time: most (bars) and mean (line) per slice, against STALL_MAX {i.Stall!.StallMax} ({i.Stall.WhenFull} when full)."),
                Occupancy(i.Stall!));
        var ratios = r.Tenants.Where(t => t.ThroughputRatio is not null).ToList();
        if (ratios.Count > 0)
            Section(html, "Throughput against the run without hostile guests", "Each honest tenant's completed accesses per millisecond, as a share of its baseline; the line marks 95 %.",
                Bars(ratios.Select(t => (t.Name, t.ThroughputRatio!.Value, 1.0)).ToList(), "ratio", mark: 0.95));

        var summary = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        SummaryWriter.Write(r, summary);
        html.Append("<h2>Summary</h2>\n<pre>").Append(Encode(summary.ToString())).Append("</pre>\n</body></html>\n");
        return html.ToString();
    }

    public static void Write(RunReport report, string path) => File.WriteAllText(path, Render(report), new UTF8Encoding(false));

    private static void Section(StringBuilder html, string title, string caption, string? svg)
    {
        if (svg is null) return;
        html.Append("<h2>").Append(Encode(title)).Append("</h2>\n<p>").Append(Encode(caption)).Append("</p>\n").Append(svg).Append('\n');
    }

    /// <summary>Cumulative distributions from <see cref="LatencyReport.Cdf"/>, one line per series, x in log10 of nanoseconds.</summary>
    private static string? Cdf(List<(string Name, LatencyReport Latency)> series)
    {
        if (series.Count == 0) return null;
        var values = series.SelectMany(s => s.Latency.Cdf).Where(v => v > 0).ToList();
        if (values.Count == 0) return null;
        double lo = Math.Floor(Math.Log10(values.Min())), hi = Math.Ceiling(Math.Log10(values.Max()));
        if (hi <= lo) hi = lo + 1;
        var svg = Open();
        for (double decade = lo; decade <= hi; decade++)
        {
            double x = Left + (decade - lo) / (hi - lo) * PlotWidth;
            svg.Append(Invariant($"<line x1=\"{x:0.#}\" y1=\"{Top}\" x2=\"{x:0.#}\" y2=\"{Top + PlotHeight}\" stroke=\"#ddd\"/>"));
            svg.Append(Invariant($"<text x=\"{x:0.#}\" y=\"{Height - 20}\" text-anchor=\"middle\" font-size=\"11\">{SummaryWriter.Ns((long)Math.Pow(10, decade))}</text>"));
        }
        YAxis(svg, 1.0, v => Invariant($"{v * 100:0}%"));
        for (int s = 0; s < series.Count; s++)
        {
            var cdf = series[s].Latency.Cdf;
            var points = new StringBuilder();
            for (int i = 0; i < cdf.Count; i++)
            {
                double lx = Math.Log10(Math.Max(cdf[i], Math.Pow(10, lo)));
                double x = Left + (lx - lo) / (hi - lo) * PlotWidth;
                double y = Top + PlotHeight * (1 - (i + 1.0) / cdf.Count);
                points.Append(Invariant($"{x:0.#},{y:0.#} "));
            }
            svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"{Palette[s % Palette.Length]}\" stroke-width=\"2\" points=\"{points.ToString().TrimEnd()}\"/>"));
            Legend(svg, s, $"{series[s].Name} (p99 {SummaryWriter.Ns(series[s].Latency.P99Ns)})");
        }
        return Close(svg);
    }

    /// <summary>Horizontal stacked bars: one row per item, one colour per part.</summary>
    private static string? StackedBars(List<(string Name, long[] Parts)> rows, string[] parts)
    {
        if (rows.Count == 0) return null;
        long max = Math.Max(1, rows.Max(r => r.Parts.Sum()));
        int rowHeight = Math.Max(14, Math.Min(40, PlotHeight / rows.Count));
        var svg = Open(Top + rows.Count * rowHeight + Bottom);
        for (int r = 0; r < rows.Count; r++)
        {
            double x = Left, y = Top + r * rowHeight;
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{y + rowHeight * 0.65:0.#}\" text-anchor=\"end\" font-size=\"11\">{Encode(rows[r].Name)}</text>"));
            for (int p = 0; p < parts.Length; p++)
            {
                double w = (double)rows[r].Parts[p] / max * PlotWidth;
                if (w <= 0) continue;
                svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{y + 2:0.#}\" width=\"{w:0.#}\" height=\"{rowHeight - 4}\" fill=\"{Palette[p]}\"><title>{Encode(parts[p])}: {rows[r].Parts[p]}</title></rect>"));
                x += w;
            }
        }
        for (int p = 0; p < parts.Length; p++) Legend(svg, p, parts[p]);
        return Close(svg);
    }

    /// <summary>Vertical bars of value against a full scale (drawn behind), with an optional marker line.</summary>
    private static string? Bars(List<(string Name, double Value, double Full)> bars, string unit, double? mark = null)
    {
        if (bars.Count == 0) return null;
        double top = Math.Max(bars.Max(b => Math.Max(b.Value, b.Full)), mark ?? 0) * 1.1;
        var svg = Open();
        YAxis(svg, top, v => unit == "ratio" ? Invariant($"{v:0.00}") : Invariant($"{v:0}"));
        double slot = (double)PlotWidth / bars.Count, barWidth = Math.Min(60, slot * 0.6);
        for (int b = 0; b < bars.Count; b++)
        {
            double x = Left + b * slot + (slot - barWidth) / 2;
            double full = bars[b].Full / top * PlotHeight, value = bars[b].Value / top * PlotHeight;
            svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{Top + PlotHeight - full:0.#}\" width=\"{barWidth:0.#}\" height=\"{full:0.#}\" fill=\"#e4e4e4\"/>"));
            svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{Top + PlotHeight - value:0.#}\" width=\"{barWidth:0.#}\" height=\"{value:0.#}\" fill=\"{Palette[b % Palette.Length]}\"><title>{Encode(bars[b].Name)}: {bars[b].Value:0.####} of {bars[b].Full:0.####}</title></rect>"));
            svg.Append(Invariant($"<text x=\"{x + barWidth / 2:0.#}\" y=\"{Height - 20}\" text-anchor=\"middle\" font-size=\"11\">{Encode(bars[b].Name)}</text>"));
        }
        if (mark is { } m)
        {
            double y = Top + PlotHeight - m / top * PlotHeight;
            svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{y:0.#}\" x2=\"{Left + PlotWidth}\" y2=\"{y:0.#}\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>"));
        }
        return Close(svg);
    }

    /// <summary>The stall buffer over time: per slice the most held (bar) and the mean (line), against STALL_MAX.</summary>
    private static string? Occupancy(StallReport stall)
    {
        var slices = stall.Occupancy;
        if (slices.Count == 0) return null;
        long end = slices[^1].EndNs;
        var svg = Open();
        YAxis(svg, stall.StallMax, v => Invariant($"{v:0}"));
        var mean = new StringBuilder();
        foreach (var s in slices)
        {
            double x = Left + (double)s.StartNs / end * PlotWidth, w = (double)(s.EndNs - s.StartNs) / end * PlotWidth;
            double h = (double)s.Max / stall.StallMax * PlotHeight;
            svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{Top + PlotHeight - h:0.#}\" width=\"{Math.Max(1, w - 1):0.#}\" height=\"{h:0.#}\" fill=\"#9ecae1\"><title>{SummaryWriter.Ns(s.StartNs)}: max {s.Max}, mean {s.Mean}</title></rect>"));
            mean.Append(Invariant($"{x + w / 2:0.#},{Top + PlotHeight - s.Mean / stall.StallMax * PlotHeight:0.#} "));
        }
        svg.Append(Invariant($"<polyline fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\" points=\"{mean.ToString().TrimEnd()}\"/>"));
        svg.Append(Invariant($"<text x=\"{Left}\" y=\"{Height - 20}\" font-size=\"11\">0</text><text x=\"{Left + PlotWidth}\" y=\"{Height - 20}\" text-anchor=\"end\" font-size=\"11\">{SummaryWriter.Ns(end)}</text>"));
        Legend(svg, 0, "most held", "#9ecae1");
        Legend(svg, 1, "mean", "#08519c");
        return Close(svg);
    }

    private static int PlotWidth => Width - Left - Right;
    private static int PlotHeight => Height - Top - Bottom;

    private static StringBuilder Open(int height = Height) =>
        new StringBuilder().Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\">"));

    private static string Close(StringBuilder svg) => svg.Append("</svg>").ToString();

    private static void YAxis(StringBuilder svg, double top, Func<double, string> label)
    {
        svg.Append(Invariant($"<line x1=\"{Left}\" y1=\"{Top}\" x2=\"{Left}\" y2=\"{Top + PlotHeight}\" stroke=\"#888\"/><line x1=\"{Left}\" y1=\"{Top + PlotHeight}\" x2=\"{Left + PlotWidth}\" y2=\"{Top + PlotHeight}\" stroke=\"#888\"/>"));
        for (int i = 0; i <= 4; i++)
        {
            double y = Top + PlotHeight * (1 - i / 4.0);
            svg.Append(Invariant($"<text x=\"{Left - 6}\" y=\"{y + 4:0.#}\" text-anchor=\"end\" font-size=\"11\">{label(top * i / 4)}</text>"));
        }
    }

    private static void Legend(StringBuilder svg, int index, string text, string? colour = null)
    {
        double y = Top + 6 + index * 16;
        svg.Append(Invariant($"<rect x=\"{Width - Right + 10}\" y=\"{y - 8:0.#}\" width=\"10\" height=\"10\" fill=\"{colour ?? Palette[index % Palette.Length]}\"/>"));
        svg.Append(Invariant($"<text x=\"{Width - Right + 26}\" y=\"{y + 1:0.#}\" font-size=\"11\">{Encode(text)}</text>"));
    }

    private static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
