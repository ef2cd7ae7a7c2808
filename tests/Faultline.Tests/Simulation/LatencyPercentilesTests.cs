using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>A report reads all its percentiles of a recorder in one pass (issue 9): in any order, with repeats, each as asked alone.</summary>
public class LatencyPercentilesTests
{
    [Theory]
    [InlineData(1_000)]
    [InlineData(3 * LatencyRecorder.ExactLimit)] // past the limit: the histogram
    public void Percentiles_in_one_pass_equal_each_percentile_asked_alone(int count)
    {
        var random = new Random(count);
        var r = new LatencyRecorder();
        for (int i = 0; i < count; i++) r.Add((long)Math.Exp(random.NextDouble() * 12));
        double[] asked = [99.9, 50, 1, 100, 50, 0.001, 75, 5, 99.99, 25];
        var all = r.Percentiles(asked);
        for (int i = 0; i < asked.Length; i++)
        {
            var alone = new LatencyRecorder();
            alone.Add(r); // the same samples, in a recorder asked this percentile alone
            Assert.Equal(alone.Percentiles([asked[i]])[0], all[i]);
        }
        Assert.All(new LatencyRecorder().Percentiles(asked), p => Assert.Equal(0, p));
    }
}
