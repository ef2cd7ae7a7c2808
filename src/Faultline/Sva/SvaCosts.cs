namespace Faultline.Sva;

/// <summary>Model time the SVA handler spends per fault (numbers.md §3: every hop is a parameter).</summary>
public sealed record SvaCosts(long PresentNanoseconds, long MinorFaultNanoseconds, long MajorFaultNanoseconds)
{
    /// <summary>200 ns for a page already present, 2 µs for a minor fault, 50 µs for a major one.</summary>
    public static SvaCosts Default { get; } = new(200, 2_000, 50_000);
}
