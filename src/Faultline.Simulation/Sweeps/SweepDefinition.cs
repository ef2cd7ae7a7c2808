namespace Faultline.Simulation.Sweeps;

/// <summary>One swept parameter: a scenario path (as <c>--set</c> writes it) and the values it takes, in order.</summary>
public sealed record SweepParameter(TreePath Path, IReadOnlyList<string> Values);

/// <summary>
/// A sweep file (docs/sweeps.md): a base scenario, settings for every point, parameters whose values combine
/// (the first varies slowest), policies and seeds (replications), and the metrics taken from each run's report.
/// </summary>
public sealed record SweepDefinition
{
    /// <summary>The base scenario's path, resolved against the sweep file's folder.</summary>
    public required string ScenarioPath { get; init; }

    /// <summary>The base scenario's text, read once: every point parses it with its own settings.</summary>
    public required string ScenarioText { get; init; }

    public IReadOnlyList<ScenarioOverride> Set { get; init; } = [];

    public IReadOnlyList<SweepParameter> Parameters { get; init; } = [];

    /// <summary>linux and/or hardened; empty for the scenario's own.</summary>
    public IReadOnlyList<string> Policies { get; init; } = [];

    public required IReadOnlyList<ulong> Seeds { get; init; }

    public required IReadOnlyList<Metric> Metrics { get; init; }

    /// <summary>Metrics when the file names none: fault and access latency, groups and auto-responses.</summary>
    public static readonly IReadOnlyList<string> DefaultMetrics =
        ["fault_latency.p50_ns", "fault_latency.p99_ns", "access_latency.p99_ns", "framework.groups", "end_time_ns"];
}
