using Faultline.Simulation.Sweeps;
using YamlDotNet.Core;

namespace Faultline.Simulation;

/// <summary>
/// One <c>--set PATH=VALUE</c>: the scalar at <see cref="Path"/> of the scenario's YAML tree becomes
/// <see cref="Value"/>, or is added (with any mapping on the way) when the file does not have it. Lists are
/// addressed by index or by their items' <c>name</c>: <c>iommus[0].prq_order=6</c>, <c>devices[nic0].capacity=64</c>.
/// </summary>
public sealed record ScenarioOverride(TreePath Path, string Value)
{
    /// <summary>Parses <c>PATH=VALUE</c> (the value is everything after the first '='; it is read as a plain scalar).</summary>
    /// <exception cref="ScenarioOverrideException">The text is not a path, an '=' and a value.</exception>
    public static ScenarioOverride Parse(string setting)
    {
        int eq = setting.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0) throw new ScenarioOverrideException(setting, "expected PATH=VALUE, e.g. iommus[0].prq_order=6");
        var path = TreePath.TryParse(setting[..eq].Trim(), out string problem)
            ?? throw new ScenarioOverrideException(setting, $"not a path: {problem}");
        return new ScenarioOverride(path, setting[(eq + 1)..].Trim());
    }

    public override string ToString() => $"{Path.Text}={Value}";
}

/// <summary>A <c>--set</c> that cannot apply, or whose value the strict reader refuses: the setting stands where a file's place would.</summary>
public sealed class ScenarioOverrideException(string setting, string problem) : Exception($"--set {setting}: {problem}")
{
    public string Setting { get; } = setting;
    public string Problem { get; } = problem;
}

// Overrides are applied to the tree YamlTree.Read builds, before the strict reader walks it.
public static partial class ScenarioReader
{
    /// <summary>
    /// Nodes a setting writes are placed at line <c>SettingLine + k</c> for the k-th setting, a line no file under
    /// <see cref="ScenarioLimits.FileBytes"/> reaches: an error the reader places there is that setting's.
    /// </summary>
    private const long SettingLine = 1L << 40;

    private static Scenario ReadOverridden(YamlTree.Element tree, IReadOnlyList<ScenarioOverride> overrides, Func<YamlTree.Element, Scenario> read)
    {
        for (int k = 0; k < overrides.Count; k++)
            tree = Set(tree, overrides[k], 0, new Mark(0, SettingLine + k, 1));
        try
        {
            return read(tree);
        }
        catch (ScenarioException e) when (e.Line >= SettingLine)
        {
            var setting = overrides[(int)(e.Line - SettingLine)];
            throw new ScenarioOverrideException(setting.ToString(), e.Key == setting.Path.Text || e.Problem.StartsWith(UnknownKey, StringComparison.Ordinal)
                ? Explain(e)
                : $"{e.Key}: {e.Problem}");
        }
    }

    /// <summary>A copy of <paramref name="node"/> with the setting's value at its path from <paramref name="step"/> on; the file's nodes stay as read (an anchor's other uses keep theirs).</summary>
    private static YamlTree.Element Set(YamlTree.Element? node, ScenarioOverride setting, int step, Mark at)
    {
        var steps = setting.Path.Steps;
        if (step == steps.Count) return new YamlTree.Scalar(at, setting.Value);
        var s = steps[step];
        if (s.Kind == TreeStepKind.Key)
        {
            if (node is not null and not YamlTree.Mapping) throw NotA(setting, step, node, "a mapping");
            var map = (YamlTree.Mapping?)node;
            var copy = new YamlTree.Mapping(map?.Start ?? at);
            bool found = false;
            foreach (var (key, value) in map?.Entries ?? [])
            {
                bool here = key.Value == s.Key;
                copy.Add(key, here ? Set(value, setting, step + 1, at) : value);
                found |= here;
            }
            if (!found) copy.Add(new YamlTree.Scalar(at, s.Key), Set(null, setting, step + 1, at));
            return copy;
        }
        if (node is not YamlTree.Sequence list) throw NotA(setting, step, node, "a list");
        int index = s.Kind == TreeStepKind.Index
            ? s.Index
            : list.Items.FindIndex(item => item is YamlTree.Mapping m && m.Get("name") is YamlTree.Scalar { Value: var name } && name == s.Key);
        if (index < 0 || index >= list.Items.Count)
        {
            string names = string.Join(", ", list.Items.Select(item => item is YamlTree.Mapping m && m.Get("name") is YamlTree.Scalar { Value: var name } ? name : "?"));
            throw new ScenarioOverrideException(setting.ToString(), s.Kind == TreeStepKind.Index
                ? $"{setting.Path.Prefix(step)} has {list.Items.Count} items, numbered from 0"
                : $"no item of {setting.Path.Prefix(step)} is named '{s.Key}'; names: {names}");
        }
        var items = new YamlTree.Sequence(list.Start);
        items.Items.AddRange(list.Items);
        items.Items[index] = Set(list.Items[index], setting, step + 1, at);
        return items;
    }

    private static ScenarioOverrideException NotA(ScenarioOverride setting, int step, YamlTree.Element? node, string expected) =>
        new(setting.ToString(), $"{(step == 0 ? "the scenario" : setting.Path.Prefix(step))} is {node switch
        {
            null => "not in the scenario",
            YamlTree.Scalar => "a single value",
            YamlTree.Sequence => "a list",
            _ => "a mapping",
        }}, not {expected}");

    private const string UnknownKey = "unknown key; expected one of: ";

    /// <summary>The reader's problem, an unknown key named with the nearest known one (a typo in a setting is the usual cause).</summary>
    private static string Explain(ScenarioException e)
    {
        if (!e.Problem.StartsWith(UnknownKey, StringComparison.Ordinal)) return e.Problem;
        string key = e.Key[(e.Key.LastIndexOf('.') + 1)..];
        var known = e.Problem[UnknownKey.Length..].Split(", ");
        var (nearest, distance) = known.Select(k => (k, Distance(k, key))).MinBy(p => p.Item2);
        return distance <= Math.Max(2, key.Length / 3)
            ? $"unknown key '{key}' (did you mean {nearest}?)"
            : $"unknown key '{key}'; expected one of: {string.Join(", ", known)}";
    }

    /// <summary>Levenshtein distance: insertions, deletions and substitutions.</summary>
    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
