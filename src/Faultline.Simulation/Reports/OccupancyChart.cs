using System.Text;
using Faultline.Host;
using static Faultline.Simulation.Svg;

namespace Faultline.Simulation;

/// <summary>A buffer's occupancy over one run: equal slices of the run, against what the buffer holds at most.</summary>
/// <param name="EndNs">The end of the time axis: the longest of the runs drawn together, so they share it.</param>
internal sealed record OccupancySeries(string Title, IReadOnlyList<OccupancySlice> Slices, int Capacity, string CapacityName, long EndNs);

/// <summary>
/// Occupancy over time (the SMMUv3 stall buffer against STALL_MAX): per slice the most held (bar) and the mean (line),
/// against the capacity. Runs compared share the time axis, so a longer run is seen to be longer.
/// </summary>
internal sealed class OccupancyPanel(OccupancySeries panel) : IPanel
{
    private const int Left = 64, PlotHeight = 150, Top = 26, Bottom = 48;
    private static double PlotWidth => Width - LegendWidth - Left - 10;

    public int Height => Top + PlotHeight + Bottom;

    /// <summary>The panel, or null when the run has no slice.</summary>
    public static OccupancyPanel? Of(OccupancySeries occupancy) => occupancy.Slices.Count == 0 ? null : new OccupancyPanel(occupancy);

    public void Draw(StringBuilder svg, int top)
    {
        var timeTicks = Ticks.Linear(panel.EndNs);
        double plotTop = top + Top, plotBottom = plotTop + PlotHeight, end = timeTicks[^1];
        var levels = Ticks.Linear(panel.Capacity, Math.Min(5, Math.Max(1, panel.Capacity)));
        double top1 = levels[^1];
        double X(double ns) => Left + ns / end * PlotWidth;
        double Y(double held) => plotBottom - held / top1 * PlotHeight;

        Title(svg, Left, top + 16, panel.Title);
        foreach (double t in timeTicks)
        {
            Line(svg, X(t), plotTop, X(t), plotBottom, "#eee");
            Text(svg, X(t), plotBottom + 14, Ticks.Time(t), "middle");
        }
        foreach (double level in levels)
        {
            Line(svg, Left, Y(level), Left + PlotWidth, Y(level), "#eee");
            Text(svg, Left - 6, Y(level) + 4, Ticks.Count(level), "end");
        }
        Line(svg, Left, plotTop, Left, plotBottom, "#888");
        Line(svg, Left, plotBottom, Left + PlotWidth, plotBottom, "#888");
        Text(svg, Left + PlotWidth / 2, plotBottom + 32, "virtual time", "middle", " fill=\"#444\"");
        YTitle(svg, 14, plotTop, PlotHeight, "transactions held");

        var mean = new StringBuilder();
        foreach (var s in panel.Slices)
        {
            double x = X(s.StartNs), w = X(s.EndNs) - x;
            svg.Append(Invariant($"<rect class=\"mark\" x=\"{x:0.#}\" y=\"{Y(s.Max):0.#}\" width=\"{Math.Max(1, w - 1):0.#}\" height=\"{plotBottom - Y(s.Max):0.#}\" fill=\"#9ecae1\">"))
                .Append(Invariant($"<title>{Ticks.Time(s.StartNs)} to {Ticks.Time(s.EndNs)}: most {s.Max}, mean {Number(s.Mean)}</title></rect>"));
            mean.Append(Invariant($"{x + w / 2:0.#},{Y(s.Mean):0.#} "));
        }
        svg.Append(Invariant($"<polyline class=\"mark\" fill=\"none\" stroke=\"#08519c\" stroke-width=\"2\" points=\"{mean.ToString().TrimEnd()}\"/>"));
        Line(svg, Left, Y(panel.Capacity), Left + PlotWidth, Y(panel.Capacity), "#d62728", " stroke-dasharray=\"4 3\"");
        Legend(svg, plotTop, 0, "most held in the slice", "#9ecae1", swatch: true);
        Legend(svg, plotTop, 1, "mean held in the slice", "#08519c");
        Legend(svg, plotTop, 2, $"{panel.CapacityName} {panel.Capacity}", "#d62728", " stroke-dasharray=\"4 3\"");
    }
}
