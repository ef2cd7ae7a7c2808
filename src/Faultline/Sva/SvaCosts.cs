namespace Faultline.Sva;

/// <summary>Model time the SVA handler spends per fault (numbers.md §3: every hop is a parameter).</summary>
public sealed record SvaCosts(long PresentNanoseconds, long MinorFaultNanoseconds, long MajorFaultNanoseconds)
{
    /// <summary>200 ns for a page already present, 2 µs for a minor fault, 50 µs for a major one.</summary>
    public static SvaCosts Default { get; } = new(200, 2_000, 50_000);

    /// <summary>Draws each fault's cost instead of the constants above, when given; they stay its means.</summary>
    public IFaultCostSampler? Sampler { get; init; }

    internal long Of(bool present, FaultCost cost) =>
        Sampler?.Sample(present, cost) ?? (present ? PresentNanoseconds : cost == FaultCost.Major ? MajorFaultNanoseconds : MinorFaultNanoseconds);
}
