using Faultline.Simulation.Sweeps;

namespace Faultline.Tests.Sweeps;

/// <summary>Issue 11 item 5: bisection for the smallest value that meets a target, on a metric known to be monotone.</summary>
public sealed class SizeSearchTests
{
    // The PRQ's entries (128 << order) grow with the order: a metric whose answer is known.
    private const string Queue = """
        scenario: scenario.yaml
        seeds: 2
        metrics:
          entries: iommus[0].ring_entries
        """;

    private static (SizeAnswer Answer, SizeTarget Target) Size(string target, long from = 0, long to = 8)
    {
        using var folder = new SweepFolder(Queue);
        var sweep = SweepReader.Load(folder.Sweep);
        var t = SizeTarget.TryParse(target, sweep.Metrics, out string problem) ?? throw new InvalidOperationException(problem);
        return (SizeSearch.Find(sweep, TreePath.TryParse("iommus[0].prq_order", out _)!, from, to, t, jobs: 2), t);
    }

    [Fact]
    public void The_smallest_value_meeting_the_target_is_found_with_its_neighbour_probed()
    {
        var (answer, _) = Size("entries >= 1000");
        Assert.Null(answer.Problem);
        Assert.Equal(3, answer.Value); // 128 << 3 = 1024
        Assert.Equal(1024, answer.At(3)!.Estimate.Mean);
        Assert.False(answer.At(2)!.Meets);
        Assert.True(answer.Probes.Count <= 6, $"{answer.Probes.Count} probes for a bracket of 9 values");
    }

    [Fact]
    public void A_target_met_at_the_low_end_is_the_low_end_and_one_met_nowhere_has_no_answer()
    {
        Assert.Equal(0, Size("entries >= 100").Answer.Value);
        var (none, _) = Size("entries > 1e9");
        Assert.Null(none.Value);
        Assert.Null(none.Problem);
    }

    [Fact]
    public void Ends_that_contradict_monotonicity_are_reported_not_bisected()
    {
        var (answer, target) = Size("entries <= 300");
        Assert.Null(answer.Value);
        Assert.Contains("met at 0 but not at 8", answer.Problem);
        var text = new StringWriter();
        SweepTables.WriteSize(answer, TreePath.TryParse("iommus[0].prq_order", out _)!, target, text);
        Assert.Contains("No answer", text.ToString());
    }

    [Theory]
    [InlineData("entries", "expected METRIC OP NUMBER")]
    [InlineData("entries <= lots", "'lots' is not a number")]
    public void A_bad_target_is_refused(string target, string problem)
    {
        Assert.Null(SizeTarget.TryParse(target, [], out string why));
        Assert.StartsWith(problem, why);
    }
}
