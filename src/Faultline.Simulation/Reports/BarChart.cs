using System.Text;
using static Faultline.Simulation.Svg;

namespace Faultline.Simulation;

/// <summary>A row of a bar chart: its parts stacked left to right, and optionally the full scale drawn behind them.</summary>
internal sealed record BarRow(string Label, IReadOnlyList<double> Parts, double? Full = null);

/// <summary>What a bar chart's parts are: a name for the legend and a colour that means it (failures red).</summary>
internal sealed record BarPart(string Name, string Colour);

/// <summary>
/// Horizontal stacked bars on a linear axis from zero with 1-2-5 ticks and a titled unit: one row per item (per run
/// and item in a comparison, the runs of an item side by side). Each row ends with its total.
/// </summary>
internal sealed class BarPanel : IPanel
{
    private const int RowHeight = 18, Bottom = 46, ValueRoom = 56;
    private readonly string _title, _xTitle, _fullName;
    private readonly IReadOnlyList<BarRow> _rows;
    private readonly IReadOnlyList<BarPart> _parts;
    private readonly Func<double, string> _tick;
    private readonly (double Value, string Name)? _mark;
    private readonly int _top, _legendRows;

    private BarPanel(string title, IReadOnlyList<BarRow> rows, IReadOnlyList<BarPart> parts, string xTitle, Func<double, string> tick, (double, string)? mark, string fullName)
    {
        (_title, _rows, _parts, _xTitle, _tick, _mark, _fullName) = (title, rows, parts, xTitle, tick, mark, fullName);
        _top = title.Length > 0 ? 26 : 10;
        _legendRows = parts.Count + (mark is null ? 0 : 1) + (fullName.Length > 0 ? 1 : 0);
    }

    public int Height => Math.Max(_top + _rows.Count * RowHeight + Bottom, _top + _legendRows * 16 + 12);

    /// <summary>The panel, or null when no row has anything to draw.</summary>
    public static BarPanel? Of(string title, IReadOnlyList<BarRow> rows, IReadOnlyList<BarPart> parts, string xTitle, Func<double, string> tick,
        (double Value, string Name)? mark = null, string fullName = "") =>
        rows.Count == 0 || rows.All(r => r.Parts.Sum() <= 0 && (r.Full ?? 0) <= 0) ? null : new BarPanel(title, rows, parts, xTitle, tick, mark, fullName);

    public void Draw(StringBuilder svg, int panelTop)
    {
        var (rows, parts, tick, mark, fullName) = (_rows, _parts, _tick, _mark, _fullName);
        int left = (int)Math.Clamp(rows.Max(r => r.Label.Length) * CharWidth + 14, 80, 320);
        double plotWidth = Width - LegendWidth - left - ValueRoom;
        var ticks = Ticks.Linear(Math.Max(rows.Max(r => Math.Max(r.Parts.Sum(), r.Full ?? 0)), mark?.Value ?? 0));
        double max = ticks[^1];
        int top = panelTop + _top;
        double plotBottom = top + rows.Count * RowHeight;
        double X(double v) => left + v / max * plotWidth;

        if (_title.Length > 0) Title(svg, left, panelTop + 16, _title);
        foreach (double t in ticks)
        {
            Line(svg, X(t), top, X(t), plotBottom, "#eee");
            Text(svg, X(t), plotBottom + 14, tick(t), "middle");
        }
        Line(svg, left, top, left, plotBottom, "#888");
        Line(svg, left, plotBottom, left + plotWidth, plotBottom, "#888");
        Text(svg, left + plotWidth / 2, plotBottom + 32, _xTitle, "middle", " fill=\"#444\"");
        for (int r = 0; r < rows.Count; r++)
        {
            var row = rows[r];
            double y = top + r * RowHeight;
            Text(svg, left - 6, y + RowHeight * 0.7, Fit(row.Label, (int)((left - 10) / CharWidth)), "end");
            if (row.Full is { } full)
                svg.Append(Invariant($"<rect x=\"{left}\" y=\"{y + 2:0.#}\" width=\"{X(full) - left:0.#}\" height=\"{RowHeight - 4}\" fill=\"#e4e4e4\"><title>{Encode(row.Label)}: {fullName} {Number(full, "0.####")}</title></rect>"));
            double x = left;
            for (int p = 0; p < parts.Count; p++)
            {
                double w = X(row.Parts[p]) - left;
                if (w <= 0) continue;
                svg.Append(Invariant($"<rect class=\"mark\" x=\"{x:0.#}\" y=\"{y + 2:0.#}\" width=\"{Math.Max(w, 0.5):0.#}\" height=\"{RowHeight - 4}\" fill=\"{parts[p].Colour}\">"))
                    .Append(Invariant($"<title>{Encode(row.Label)}: {Number(row.Parts[p], "0.####")} {Encode(parts[p].Name)}</title></rect>"));
                x += w;
            }
            Text(svg, Math.Max(x, X(row.Full ?? 0)) + 4, y + RowHeight * 0.7, tick(row.Parts.Sum()), extra: " fill=\"#444\"");
        }
        for (int p = 0; p < parts.Count; p++) Legend(svg, top, p, parts[p].Name, parts[p].Colour, swatch: true);
        if (fullName.Length > 0) Legend(svg, top, parts.Count, fullName, "#e4e4e4", swatch: true);
        if (mark is { } m)
        {
            Line(svg, X(m.Value), top, X(m.Value), plotBottom, "#d62728", " stroke-dasharray=\"4 3\"");
            Legend(svg, top, _legendRows - 1, m.Name, "#d62728", " stroke-dasharray=\"4 3\"");
        }
    }
}
