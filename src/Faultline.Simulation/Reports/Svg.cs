using System.Globalization;
using System.Text;

namespace Faultline.Simulation;

/// <summary>
/// What every chart of the HTML report shares: the frame, colours, line styles, text and the legend. Data marks
/// carry <c>class="mark"</c>, so a test (or a reader's script) finds what a chart plots apart from its axes.
/// </summary>
internal static class Svg
{
    public const int Width = 900;
    public const int LegendWidth = 230;
    public const double CharWidth = 6.2; // of the 11 px sans-serif labels, to size margins

    // Tableau 10, then its lighter companions: twenty colours before one repeats (issue 13: tenants shared colours).
    private static readonly string[] Palette =
    [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
        "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
    ];

    // One line style per run of a comparison.
    private static readonly string[] Dashes = ["", "7 4", "2 3", "9 3 2 3"];

    public static string Colour(int index) => Palette[index % Palette.Length];

    public static string Dash(int index) => Dashes[index % Dashes.Length] is { Length: > 0 } d ? $" stroke-dasharray=\"{d}\"" : "";

    public static StringBuilder Open(int height, string label) =>
        new StringBuilder().Append(Invariant($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{height}\" viewBox=\"0 0 {Width} {height}\" role=\"img\" aria-label=\"{Encode(label)}\">"));

    public static string Close(StringBuilder svg) => svg.Append("</svg>").ToString();

    /// <summary>Panels stacked in one frame (small multiples of one figure), or null when none has anything to draw.</summary>
    public static string? Figure(string label, IEnumerable<IPanel?> panels)
    {
        var drawn = panels.OfType<IPanel>().ToList();
        if (drawn.Count == 0) return null;
        var svg = Open(drawn.Sum(p => p.Height), label);
        int top = 0;
        foreach (var panel in drawn)
        {
            panel.Draw(svg, top);
            top += panel.Height;
        }
        return Close(svg);
    }

    /// <summary>A panel's title, bold above its plot.</summary>
    public static void Title(StringBuilder svg, double x, double y, string title) => Text(svg, x, y, title, extra: " font-weight=\"bold\"");

    public static void Text(StringBuilder svg, double x, double y, string text, string anchor = "start", string? extra = null) =>
        svg.Append(Invariant($"<text x=\"{x:0.#}\" y=\"{y:0.#}\" text-anchor=\"{anchor}\" font-size=\"11\"{extra ?? ""}>{Encode(text)}</text>"));

    public static void Line(StringBuilder svg, double x1, double y1, double x2, double y2, string stroke, string? extra = null) =>
        svg.Append(Invariant($"<line x1=\"{x1:0.#}\" y1=\"{y1:0.#}\" x2=\"{x2:0.#}\" y2=\"{y2:0.#}\" stroke=\"{stroke}\"{extra ?? ""}/>"));

    /// <summary>A vertical axis title, turned to read bottom to top, centred on the plot's height.</summary>
    public static void YTitle(StringBuilder svg, double x, double top, double height, string title) =>
        svg.Append(Invariant($"<text transform=\"translate({x:0.#},{top + height / 2:0.#}) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\" fill=\"#444\">{Encode(title)}</text>"));

    /// <summary>A legend entry at row <paramref name="row"/> from <paramref name="top"/>: a line sample (with a dash) or a swatch.</summary>
    public static void Legend(StringBuilder svg, double top, int row, string text, string colour, string? dash = null, bool swatch = false)
    {
        double x = Width - LegendWidth + 12, y = top + 8 + row * 16;
        if (swatch) svg.Append(Invariant($"<rect x=\"{x:0.#}\" y=\"{y - 8:0.#}\" width=\"18\" height=\"10\" fill=\"{colour}\"/>"));
        else Line(svg, x, y - 3, x + 18, y - 3, colour, $" stroke-width=\"2\"{dash ?? ""}");
        Text(svg, x + 24, y + 1, Fit(text, (int)((LegendWidth - 40) / CharWidth)));
    }

    /// <summary>The text cut to <paramref name="chars"/> characters with an ellipsis, the whole of it in a tooltip elsewhere.</summary>
    public static string Fit(string text, int chars) => text.Length <= chars ? text : text[..(chars - 1)] + "…";

    /// <summary>The text safe in an element or an attribute; other characters stay as they are (the page is UTF-8: µs, Δ).</summary>
    public static string Encode(string text) =>
        text.AsSpan().IndexOfAny("&<>\"'") < 0 ? text : text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;").Replace("'", "&#39;");

    public static string Invariant(FormattableString text) => FormattableString.Invariant(text);

    public static string Number(double v, string format = "0.##") => v.ToString(format, CultureInfo.InvariantCulture);
}

/// <summary>A plot of a figure: how tall it is, and its drawing at a height in the frame.</summary>
internal interface IPanel
{
    int Height { get; }

    void Draw(StringBuilder svg, int top);
}
