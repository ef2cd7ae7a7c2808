using Faultline.Faults;
using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Faultline.Simulation.Sweeps;

/// <summary>
/// Reads a sweep file strictly, errors located as the scenario reader locates them (file:line:col: key: problem).
/// The base scenario is read with every combination of settings before anything runs, so a bad value costs no run.
/// </summary>
public static class SweepReader
{
    private static readonly string[] Keys = ["scenario", "set", "parameters", "policies", "seeds", "metrics"];

    /// <summary>Points at most in one sweep: a bound on what a typo in a range can ask for.</summary>
    public const int MaxPoints = 1 << 20;

    public static SweepDefinition Load(string path)
    {
        var text = File.ReadAllText(path);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new ScenarioException(path, e.Start.Line, e.Start.Column, "(syntax)", e.InnerException?.Message ?? e.Message);
        }
        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ScenarioException(path, 1, 1, "(root)", "expected one mapping of keys to values");
        foreach (var (key, _) in root.Children)
        {
            if (!Keys.Contains(Text(path, key, "(key)")))
                throw Error(path, key, ((YamlScalarNode)key).Value!, $"unknown key; expected one of: {string.Join(", ", Keys)}");
        }

        var scenarioNode = Get(root, "scenario") ?? throw Error(path, root, "scenario", "is required: the base scenario file, relative to this one");
        string scenario = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, Text(path, scenarioNode, "scenario"));
        string scenarioText;
        try
        {
            scenarioText = File.ReadAllText(scenario);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw Error(path, scenarioNode, "scenario", $"cannot read '{scenario}': {e.Message}");
        }

        var set = Mapping(path, root, "set").Select(kv => Setting(path, "set", kv.Key, kv.Value)).ToList();
        var parameters = Mapping(path, root, "parameters").Select(kv =>
        {
            var setting = Setting(path, "parameters", kv.Key, new YamlScalarNode("0"));
            return new SweepParameter(setting.Path, Values(path, $"parameters.{setting.Path.Text}", kv.Value));
        }).ToList();
        var policiesNode = Get(root, "policies");
        // A policy as a scenario's policy key takes it, linux@X.Y included, under the name the run reports.
        var policies = (policiesNode is null ? [] : Strings(path, "policies", policiesNode)).Select(policy =>
            FaultPolicy.ByName(policy)?.Name ?? throw Error(path, policiesNode!, "policies",
                $"'{policy}' is no policy; use linux, hardened or linux@X.Y, a release from {KernelRelease.Oldest} to {KernelRelease.Newest}")).ToList();
        var seeds = Get(root, "seeds") is { } s ? Seeds(path, s) : [1];
        var metrics = Metrics(path, Get(root, "metrics"));

        long points = parameters.Aggregate(1L, (n, x) => n * x.Values.Count) * Math.Max(1, policies.Count) * seeds.Count;
        if (points > MaxPoints) throw Error(path, root, "(sweep)", $"{points} points, over the limit of {MaxPoints}");
        return new SweepDefinition
        {
            ScenarioPath = scenario,
            ScenarioText = scenarioText,
            Set = set,
            Parameters = parameters,
            Policies = policies,
            Seeds = seeds,
            Metrics = metrics,
        };
    }

    private static ScenarioOverride Setting(string file, string section, YamlNode key, YamlNode value)
    {
        string path = Text(file, key, section);
        try
        {
            return ScenarioOverride.Parse($"{path}={Text(file, value, $"{section}.{path}")}");
        }
        catch (ScenarioOverrideException e)
        {
            throw Error(file, key, $"{section}.{path}", e.Problem);
        }
    }

    /// <summary>A list of values, or an integer range <c>{ from: A, to: B, step: S }</c> (both ends included).</summary>
    private static List<string> Values(string file, string key, YamlNode node)
    {
        if (node is YamlSequenceNode) return Strings(file, key, node);
        if (node is not YamlMappingNode range) throw Error(file, node, key, "expected a list of values or a range { from: A, to: B, step: S }");
        foreach (var (k, _) in range.Children)
        {
            if (Text(file, k, key) is not ("from" or "to" or "step")) throw Error(file, k, key, "a range has from, to and step (1 when left out)");
        }
        long from = Integer(file, key, Get(range, "from") ?? throw Error(file, range, $"{key}.from", "is required"));
        long to = Integer(file, key, Get(range, "to") ?? throw Error(file, range, $"{key}.to", "is required"));
        long step = Get(range, "step") is { } st ? Integer(file, key, st) : 1;
        if (step <= 0 || to < from) throw Error(file, range, key, "a range needs from <= to and a step above 0");
        // In doubles: to - from may not fit a long; counted, so the last value cannot wrap around.
        if ((((double)to - from) / step) >= MaxPoints) throw Error(file, range, key, $"more than {MaxPoints} values");
        long count = ((to - from) / step) + 1;
        return [.. Enumerable.Range(0, (int)count).Select(i => (from + (i * step)).ToString(CultureInfo.InvariantCulture))];
    }

    /// <summary><c>seeds: N</c> for 1..N, a list, or a range.</summary>
    private static List<ulong> Seeds(string file, YamlNode node)
    {
        var texts = node is YamlScalarNode ? null : Values(file, "seeds", node);
        if (texts is null)
        {
            long n = Integer(file, "seeds", node);
            if (n < 1 || n > MaxPoints) throw Error(file, node, "seeds", $"expected a count in [1, {MaxPoints}], a list or a range");
            return [.. Enumerable.Range(1, (int)n).Select(i => (ulong)i)];
        }
        var seeds = new List<ulong>();
        foreach (var t in texts)
        {
            if (!ulong.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out ulong seed)) throw Error(file, node, "seeds", $"'{t}' is not a seed (an integer from 0)");
            if (seeds.Contains(seed)) throw Error(file, node, "seeds", $"seed {seed} appears twice");
            seeds.Add(seed);
        }
        return seeds.Count > 0 ? seeds : throw Error(file, node, "seeds", "no seeds");
    }

    /// <summary>A list of expressions (each its own name), or a mapping of names to expressions.</summary>
    private static List<Metric> Metrics(string file, YamlNode? node)
    {
        var named = node switch
        {
            null => SweepDefinition.DefaultMetrics.Select(m => (m, m, (YamlNode)new YamlScalarNode(m))).ToList(),
            YamlSequenceNode list => list.Children.Select(item => (Text(file, item, "metrics"), Text(file, item, "metrics"), item)).ToList(),
            YamlMappingNode map => map.Children.Select(kv => (Text(file, kv.Key, "metrics"), Text(file, kv.Value, "metrics"), kv.Value)).ToList(),
            _ => throw Error(file, node, "metrics", "expected a list of report paths or a mapping of names to them"),
        };
        var metrics = new List<Metric>();
        foreach (var (name, expression, at) in named)
        {
            if (metrics.Any(m => m.Name == name)) throw Error(file, at, "metrics", $"'{name}' appears twice");
            metrics.Add(Metric.TryParse(name, expression, out string problem) ?? throw Error(file, at, $"metrics.{name}", problem));
        }
        return metrics.Count > 0 ? metrics : throw Error(file, node!, "metrics", "no metrics");
    }

    private static IEnumerable<KeyValuePair<YamlNode, YamlNode>> Mapping(string file, YamlMappingNode root, string key) => Get(root, key) switch
    {
        null => [],
        YamlMappingNode map => map.Children,
        var other => throw Error(file, other, key, "expected a mapping of scenario paths to values"),
    };

    private static List<string> Strings(string file, string key, YamlNode node) => node is YamlSequenceNode list && list.Children.Count > 0
        ? list.Children.Select(item => Text(file, item, key)).ToList()
        : throw Error(file, node, key, "expected a list with at least one value");

    private static long Integer(string file, string key, YamlNode node) =>
        long.TryParse(Text(file, node, key).Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
            ? v
            : throw Error(file, node, key, $"expected an integer, got '{((YamlScalarNode)node).Value}'");

    private static string Text(string file, YamlNode node, string key) =>
        node is YamlScalarNode { Value: { } v } ? v : throw Error(file, node, key, "expected a single value");

    private static YamlNode? Get(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    private static ScenarioException Error(string file, YamlNode at, string key, string problem) =>
        new(file, at.Start.Line, at.Start.Column, key, problem);
}
