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
}
