using System.Text;

namespace Faultline.Simulation;

/// <summary>
/// A plain fixed-width table: first column left-aligned, the rest right-aligned. On a page narrower than the table,
/// the columns go on in further panels, each repeating the row's name (the first column) when the table is keyed;
/// on a page too narrow for even one column beside the name, each row stacks as name-value pairs. Every line fits
/// the page (issue 13: the widest tables were 251 columns).
/// </summary>
internal sealed class TextTable
{
    private const string Gap = "  ";
    private readonly string[] _headers;
    private readonly bool _keyed;
    private readonly List<string[]> _rows = [];

    /// <summary>A table whose first column names the row (a device, an IOMMU): every panel repeats it.</summary>
    public TextTable(params string[] headers) : this(keyed: true, headers)
    {
    }

    private TextTable(bool keyed, string[] headers)
    {
        _keyed = keyed;
        _headers = headers;
    }

    /// <summary>A table of counters with no name column (the fault framework's, a stall buffer's).</summary>
    public static TextTable Unkeyed(params string[] headers) => new(keyed: false, headers);

    public int Rows => _rows.Count;

    public void Add(params object[] cells) => _rows.Add(cells.Select(c => c switch
    {
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => c?.ToString() ?? "",
    }).ToArray());

    /// <summary>Writes the table on one panel, however wide.</summary>
    public void Write(TextWriter writer) => Write(writer, int.MaxValue);

    /// <summary>Writes the table in lines of at most <paramref name="width"/> characters.</summary>
    public void Write(TextWriter writer, int width)
    {
        var widths = _headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => r[i].Length))).ToArray();
        if (Panels(widths, width) is not { } panels)
        {
            Stack(writer, width);
            return;
        }
        // As many panels, but as narrow as they can be: the columns shared out evenly, not a last panel of one.
        for (int narrower = width - 1; panels.Count > 1 && Panels(widths, narrower) is { } fewer && fewer.Count == panels.Count; narrower--)
            panels = fewer;
        foreach (var columns in panels)
        {
            writer.WriteLine(Line(_headers, widths, columns));
            writer.WriteLine(string.Join(Gap, columns.Select(c => new string('-', widths[c]))));
            foreach (var row in _rows) writer.WriteLine(Line(row, widths, columns));
        }
    }

    /// <summary>The columns of each panel, packed greedily in order; null when one column beside the name is too wide.</summary>
    private List<int[]>? Panels(int[] widths, int width)
    {
        int first = _keyed ? 1 : 0;
        var panels = new List<int[]>();
        var panel = new List<int>();
        int used = 0;
        for (int c = first; c < widths.Length; c++)
        {
            if (panel.Count == 0)
            {
                if (_keyed) panel.Add(0);
                used = _keyed ? widths[0] : -Gap.Length;
            }
            int needed = used + Gap.Length + widths[c];
            if (needed > width && panel.Count > first)
            {
                panels.Add([.. panel]);
                panel.Clear();
                c--;
                continue;
            }
            if (needed > width) return null;
            panel.Add(c);
            used = needed;
        }
        if (panel.Count > 0 || panels.Count == 0) panels.Add(panel.Count > 0 ? [.. panel] : [0]);
        return panels;
    }

    private static string Line(string[] cells, int[] widths, int[] columns)
    {
        var sb = new StringBuilder();
        foreach (int c in columns)
        {
            if (sb.Length > 0) sb.Append(Gap);
            sb.Append(c == 0 ? cells[c].PadRight(widths[c]) : cells[c].PadLeft(widths[c]));
        }
        return sb.ToString().TrimEnd();
    }

    /// <summary>Each row as its name, then "header value" pairs packed into indented lines.</summary>
    private void Stack(TextWriter writer, int width)
    {
        const string Indent = "  ";
        foreach (var row in _rows)
        {
            int first = _keyed ? 1 : 0;
            if (_keyed)
                foreach (var line in Wrap(row[0], width, Indent)) writer.WriteLine(line);
            string indent = _keyed ? Indent : "";
            var line2 = new StringBuilder(indent);
            for (int c = first; c < row.Length; c++)
            {
                string pair = $"{_headers[c]} {row[c]}";
                if (line2.Length > indent.Length && line2.Length + Gap.Length + pair.Length > width)
                {
                    writer.WriteLine(line2.ToString());
                    line2.Clear().Append(indent);
                }
                if (line2.Length + pair.Length > width)
                {
                    foreach (var part in Wrap(indent + pair, width, indent + Indent)) writer.WriteLine(part);
                    line2.Clear().Append(indent);
                    continue;
                }
                line2.Append(line2.Length > indent.Length ? Gap : "").Append(pair);
            }
            if (line2.Length > indent.Length) writer.WriteLine(line2.ToString());
        }
    }

    /// <summary>
    /// <paramref name="text"/> broken at spaces into lines of at most <paramref name="width"/> characters, the lines
    /// after the first starting with <paramref name="indent"/>; a word longer than a line is cut where the line ends.
    /// </summary>
    public static IEnumerable<string> Wrap(string text, int width, string indent)
    {
        if (text.Length <= width) return [text];
        var lines = new List<string>();
        var line = new StringBuilder();
        int lead = text.Length - text.TrimStart(' ').Length;
        line.Append(' ', lead);
        foreach (var word in text[lead..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            bool empty = line.Length == 0 || line.ToString().Trim().Length == 0;
            if (!empty && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear().Append(indent);
                empty = true;
            }
            string rest = word;
            if (!empty) line.Append(' ');
            while (line.Length + rest.Length > width)
            {
                int take = Math.Max(1, width - line.Length);
                line.Append(rest[..take]);
                rest = rest[take..];
                lines.Add(line.ToString());
                line.Clear().Append(indent);
            }
            line.Append(rest);
        }
        if (line.ToString().Trim().Length > 0) lines.Add(line.ToString());
        return lines;
    }
}
