using Faultline.Simulation;

namespace Faultline.Cli;

/// <summary>What <c>faultline run</c> was asked, as bound from its command line.</summary>
internal sealed record RunOptions
{
    /// <summary>The output path that means standard output (the summary then goes to standard error).</summary>
    public const string StandardOutput = "-";

    /// <summary>The narrowest --width: a table's name column and one other still fit side by side.</summary>
    public const int MinWidth = 40;

    public string? Scenario { get; init; }
    /// <summary>--set PATH=VALUE, in order, applied to the scenario before it is read.</summary>
    public IReadOnlyList<string> Overrides { get; init; } = [];
    /// <summary>The reader's limits, the defaults unless <c>--limit</c> changed some.</summary>
    public ScenarioLimits Limits { get; init; } = ScenarioLimits.Default;

    public ulong? Seed { get; init; }
    public string? Policy { get; init; }
    /// <summary>--kernel X.Y: the release the linux policy is pinned to (<see cref="KernelOption"/>).</summary>
    public string? Kernel { get; init; }
    public string? Json { get; init; }
    public string? Trace { get; init; }
    /// <summary>--trace-filter: categories and device=NAME terms the trace keeps.</summary>
    public string? TraceFilter { get; init; }
    public string? Report { get; init; }
    public string? Ftrace { get; init; }
    public bool Quiet { get; init; }
    public IReadOnlyList<string> Sections { get; init; } = [];
    public int? Width { get; init; }

    /// <summary>Rows per summary table, the rest counted; 0 for all (--rows).</summary>
    public int Rows { get; init; } = DefaultRows;

    /// <summary>Enough for every example and benchmark scenario's tables, not for a 10 000-function run's.</summary>
    public const int DefaultRows = 100;

    /// <summary><c>--limit NAME=N</c> applied to <paramref name="limits"/>, or what is wrong with it.</summary>
    public static (ScenarioLimits? Limits, string? Error) ParseLimit(string token, ScenarioLimits limits)
    {
        int eq = token.IndexOf('=', StringComparison.Ordinal);
        if (eq < 0) return (null, "expected NAME=N");
        string name = token[..eq];
        if (!ScenarioLimits.Names.Contains(name)) return (null, $"'{name}' is not one of: {string.Join(", ", ScenarioLimits.Names)}");
        if (!long.TryParse(token[(eq + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long value)
            || limits.With(name, value) is not { } raised)
            return (null, $"'{token[(eq + 1)..]}' is not a whole number from 1 that fits {name}");
        return (raised, null);
    }
}
