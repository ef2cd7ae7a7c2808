using Faultline.Faults;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Faultline.Simulation.Sweeps;

/// <summary>One combination of parameter values, its scenario read with them.</summary>
public sealed record SweepConfiguration(IReadOnlyList<string> Values, Scenario Scenario);

/// <summary>One run of a sweep: its place in point order, its configuration, policy and seed.</summary>
public readonly record struct SweepPoint(int Index, int Configuration, string Policy, ulong Seed);

/// <summary>
/// A sweep resolved into points. Point order is configuration (parameters combined, the first varying slowest), then
/// policy, then seed; a point's index is its place in that order whatever machine or shard runs it.
/// </summary>
public sealed class SweepPlan
{
    private SweepPlan(SweepDefinition definition, IReadOnlyList<SweepConfiguration> configurations, IReadOnlyList<string> policies)
    {
        Definition = definition;
        Configurations = configurations;
        Policies = policies;
        Count = configurations.Count * policies.Count * definition.Seeds.Count;
        Digest = DigestOf(definition, policies);
    }

    public SweepDefinition Definition { get; }

    public IReadOnlyList<SweepConfiguration> Configurations { get; }

    /// <summary>The policies run, the scenario's own when the sweep names none.</summary>
    public IReadOnlyList<string> Policies { get; }

    public int Count { get; }

    /// <summary>SHA-256 of everything that decides the points' results: a journal written for another plan is refused.</summary>
    public string Digest { get; }

    /// <summary>Reads the base scenario once per combination of parameter values with the sweep's settings and them.</summary>
    /// <exception cref="ScenarioException">The base scenario is bad, or a policy's kernel release lacks part of a configuration (<see cref="Scenario.MissingIn"/>).</exception>
    /// <exception cref="ScenarioOverrideException">A setting or a parameter value does not apply, or the reader refuses it.</exception>
    public static SweepPlan Build(SweepDefinition definition)
    {
        var combinations = definition.Parameters.Aggregate(
            (IEnumerable<IReadOnlyList<string>>)[[]],
            (sofar, parameter) => sofar.SelectMany(values => parameter.Values.Select(v => (IReadOnlyList<string>)[.. values, v])));
        var configurations = combinations.Select(values => new SweepConfiguration(values, ScenarioReader.Parse(
            definition.ScenarioText, definition.ScenarioPath, overrides:
            [.. definition.Set, .. definition.Parameters.Select((p, i) => new ScenarioOverride(p.Path, values[i]))]))).ToList();
        var policies = definition.Policies.Count > 0 ? definition.Policies : [configurations[0].Scenario.Policy];
        // A release that lacks part of a configuration is refused before any point runs, as `run` refuses it.
        foreach (var c in configurations)
            foreach (var policy in policies)
                if (c.Scenario.MissingIn(FaultPolicy.ByName(policy)!.Kernel) is { } missing)
                    throw new ScenarioException(definition.ScenarioPath, 1, 1, "policies",
                        $"{policy} cannot run {(c.Values.Count == 0 ? "the scenario" : $"the configuration {string.Join(", ", c.Values)}")}: {missing}");
        return new SweepPlan(definition, configurations, policies);
    }

    public SweepPoint Point(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        int seeds = Definition.Seeds.Count;
        int seed = index % seeds, rest = index / seeds;
        return new SweepPoint(index, rest / Policies.Count, Policies[rest % Policies.Count], Definition.Seeds[seed]);
    }

    /// <summary>The points of shard <paramref name="shard"/> (1-based) of <paramref name="shards"/>: every shards-th point, so each shard has every configuration's share.</summary>
    public IEnumerable<int> Shard(int shard, int shards)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shards, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(shard, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shard, shards);
        for (int i = shard - 1; i < Count; i += shards) yield return i;
    }

    private static string DigestOf(SweepDefinition d, IReadOnlyList<string> policies)
    {
        var text = new StringBuilder(d.ScenarioText).Append("\n\0");
        foreach (var s in d.Set) text.Append("set ").Append(s).Append('\n');
        foreach (var p in d.Parameters) text.Append("parameter ").Append(p.Path.Text).Append(" = ").AppendJoin(" | ", p.Values).Append('\n');
        text.Append("policies ").AppendJoin(' ', policies).Append('\n');
        text.Append("seeds ").AppendJoin(' ', d.Seeds.Select(s => s.ToString(CultureInfo.InvariantCulture))).Append('\n');
        foreach (var m in d.Metrics) text.Append("metric ").Append(m.Name).Append(" = ").Append(m.Expression).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }
}
