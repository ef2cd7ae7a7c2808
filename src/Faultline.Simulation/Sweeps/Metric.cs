using System.Text.Json.Nodes;

namespace Faultline.Simulation.Sweeps;

/// <summary>
/// A number taken from a run's JSON report (the bytes <see cref="JsonReportWriter"/> writes, so every field it gains
/// is a metric with no change here): a path, a sum of paths, or a ratio of sums,
/// e.g. <c>(iommus[0].discarded_full + iommus[0].discarded_while_overflowed) / iommus[0].page_requests_received</c>.
/// A ratio over zero, and a null field, are no number (NaN: an empty cell, left out of means).
/// </summary>
public sealed class Metric
{
    private readonly IReadOnlyList<TreePath> _numerator;
    private readonly IReadOnlyList<TreePath> _denominator;

    private Metric(string name, string expression, IReadOnlyList<TreePath> numerator, IReadOnlyList<TreePath> denominator)
    {
        Name = name;
        Expression = expression;
        _numerator = numerator;
        _denominator = denominator;
    }

    /// <summary>The column's name: given in the sweep file, or the expression itself.</summary>
    public string Name { get; }

    public string Expression { get; }

    /// <summary>Parses <paramref name="expression"/>; null with <paramref name="problem"/> set when it is not one.</summary>
    public static Metric? TryParse(string name, string expression, out string problem)
    {
        var parts = expression.Split('/');
        problem = parts.Length > 2 ? "at most one '/' (a ratio of two sums)" : "";
        if (problem.Length > 0) return null;
        var numerator = Sum(parts[0], ref problem);
        var denominator = parts.Length == 2 ? Sum(parts[1], ref problem) : [];
        return problem.Length > 0 ? null : new Metric(name, expression, numerator!, denominator!);

        static List<TreePath>? Sum(string text, ref string problem)
        {
            text = text.Trim();
            if (text.StartsWith('(') && text.EndsWith(')')) text = text[1..^1];
            var paths = new List<TreePath>();
            foreach (var term in text.Split('+'))
            {
                if (TreePath.TryParse(term.Trim(), out string why) is not { } path)
                {
                    problem = $"'{term.Trim()}' is not a report path: {why}";
                    return null;
                }
                paths.Add(path);
            }
            return paths;
        }
    }

    /// <summary>The metric's value in <paramref name="report"/> (a run's JSON report, parsed).</summary>
    /// <exception cref="MetricException">A path leads nowhere in the report, or to something that is not a number.</exception>
    public double Evaluate(JsonNode report)
    {
        double numerator = _numerator.Sum(p => Value(report, p));
        if (_denominator.Count == 0) return numerator;
        double denominator = _denominator.Sum(p => Value(report, p));
        return denominator == 0 ? double.NaN : numerator / denominator;
    }

    private double Value(JsonNode report, TreePath path)
    {
        JsonNode? node = report;
        for (int i = 0; i < path.Steps.Count; i++)
        {
            var step = path.Steps[i];
            string at = i == 0 ? "the report" : path.Prefix(i);
            node = (step.Kind, node) switch
            {
                (TreeStepKind.Key, JsonObject o) => o.TryGetPropertyValue(step.Key, out var child) ? child
                    : throw Fail(path, $"{at} has no '{step.Key}'{Nearest(step.Key, o.Select(p => p.Key))}"),
                (TreeStepKind.Index, JsonArray a) => step.Index < a.Count ? a[step.Index]
                    : throw Fail(path, $"{at} has {a.Count} items, numbered from 0"),
                (TreeStepKind.Name, JsonArray a) => a.FirstOrDefault(item => item is JsonObject o && o["name"]?.GetValueKind() == System.Text.Json.JsonValueKind.String && (string?)o["name"] == step.Key)
                    ?? throw Fail(path, $"no item of {at} is named '{step.Key}'; names: {string.Join(", ", a.Select(item => (string?)(item as JsonObject)?["name"]))}"),
                (_, null) => throw Fail(path, $"{at} is null"),
                _ => throw Fail(path, $"{at} is {Kind(node)}, not {(step.Kind == TreeStepKind.Key ? "a mapping" : "a list")}"),
            };
        }
        return node switch
        {
            null => double.NaN,
            JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => v.GetValue<double>(),
            JsonValue v when v.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => v.GetValue<bool>() ? 1 : 0,
            JsonObject o => throw Fail(path, $"is a mapping; name one of its keys: {string.Join(", ", o.Select(p => p.Key))}"),
            _ => throw Fail(path, $"is {Kind(node)}, not a number"),
        };
    }

    private static string Kind(JsonNode? node) => node switch
    {
        JsonObject => "a mapping",
        JsonArray => "a list",
        _ => "a single value",
    };

    private static string Nearest(string key, IEnumerable<string> keys) =>
        keys.FirstOrDefault(k => k.StartsWith(key, StringComparison.Ordinal) || key.StartsWith(k, StringComparison.Ordinal)) is { } near
            ? $" (did you mean {near}?)"
            : $"; its keys: {string.Join(", ", keys)}";

    private MetricException Fail(TreePath path, string problem) => new($"metric '{Name}': {path.Text}: {problem}");
}

/// <summary>A metric that does not lead to a number in a run's report.</summary>
public sealed class MetricException(string message) : Exception(message);
