namespace Faultline.Simulation.Sweeps;

/// <summary>One step of a <see cref="TreePath"/>: a mapping key, a list index, or the list item whose <c>name</c> is given.</summary>
public readonly record struct TreeStep(TreeStepKind Kind, string Key, int Index)
{
    public override string ToString() => Kind switch
    {
        TreeStepKind.Key => Key,
        TreeStepKind.Index => $"[{Index}]",
        _ => $"[{Key}]",
    };
}

public enum TreeStepKind
{
    Key,
    Index,
    Name,
}

/// <summary>
/// A place in a YAML or JSON tree, written as keys joined by dots with list items in brackets, by index or by name:
/// <c>iommus[0].prq_order</c>, <c>iommus[dmar0].discarded_full</c>, <c>fault_latency.p99_ns</c>. The same syntax
/// addresses a scenario (<c>--set</c>) and a run's JSON report (sweep metrics).
/// </summary>
public sealed class TreePath
{
    private TreePath(string text, IReadOnlyList<TreeStep> steps)
    {
        Text = text;
        Steps = steps;
    }

    public string Text { get; }

    public IReadOnlyList<TreeStep> Steps { get; }

    /// <summary>The path of the first <paramref name="count"/> steps, as written, for messages.</summary>
    public string Prefix(int count) =>
        string.Concat(Steps.Take(count).Select((s, i) => i > 0 && s.Kind == TreeStepKind.Key ? "." + s : s.ToString()));

    public override string ToString() => Text;

    /// <summary>Parses <paramref name="text"/>; null with <paramref name="problem"/> set when it is not a path.</summary>
    public static TreePath? TryParse(string text, out string problem)
    {
        var steps = new List<TreeStep>();
        int i = 0;
        problem = "";
        while (true)
        {
            int start = i;
            while (i < text.Length && text[i] is not ('.' or '[' or ']')) i++;
            if (i == start)
            {
                problem = i == text.Length ? "the path ends where a key should be" : $"a key is missing before '{text[i]}' at character {i + 1}";
                return null;
            }
            steps.Add(new TreeStep(TreeStepKind.Key, text[start..i].Trim(), 0));
            while (i < text.Length && text[i] == '[')
            {
                int close = text.IndexOf(']', i);
                string item = close < 0 ? "" : text[(i + 1)..close].Trim();
                if (item.Length == 0)
                {
                    problem = $"'[' at character {i + 1} needs an index or a name and a ']'";
                    return null;
                }
                steps.Add(item.All(char.IsAsciiDigit) && int.TryParse(item, System.Globalization.CultureInfo.InvariantCulture, out int index)
                    ? new TreeStep(TreeStepKind.Index, "", index)
                    : new TreeStep(TreeStepKind.Name, item, 0));
                i = close + 1;
            }
            if (i == text.Length) return new TreePath(text, steps);
            if (text[i] != '.')
            {
                problem = $"unexpected '{text[i]}' at character {i + 1}";
                return null;
            }
            i++;
        }
    }
}
