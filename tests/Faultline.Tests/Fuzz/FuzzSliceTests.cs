using Faultline.Fuzz;

namespace Faultline.Tests.Fuzz;

/// <summary>
/// Issue 14: a short seeded slice of the fuzz harness (scripts/fuzz.sh runs it long) over every target, so a change
/// that lets an exception escape a codec, the reader or the command line fails here. Same seed, same inputs; no timing.
/// </summary>
public sealed class FuzzSliceTests
{
    private static readonly string Root = FuzzTargets.RepositoryRoot(AppContext.BaseDirectory);

    public static TheoryData<string> Targets() => [.. FuzzTargets.All(Root).Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public void A_seeded_slice_finds_nothing(string name)
    {
        var target = FuzzTargets.All(Root).Single(t => t.Name == name);
        int inputs = name is "scenario" or "scenario-tight" or "args" ? 1000 : 5000;

        var report = new Fuzzer(target, seed: 14, new FuzzBounds(), Path.Combine(Root, "fuzz", "corpus")).Run(inputs);

        Assert.Equal(inputs, report.Inputs);
        Assert.True(report.Failures.Count == 0, string.Join("\n", report.Failures.Take(5).Select(f => $"{f.Problem} <- {Convert.ToHexString(f.Input.AsSpan(0, Math.Min(f.Input.Length, 256)))}")));
    }
}
