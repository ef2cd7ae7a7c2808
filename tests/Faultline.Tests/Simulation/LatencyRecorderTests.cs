using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

public sealed class LatencyRecorderTests
{
    private static readonly double[] Percentiles = [0.001, 1, 5, 25, 50, 75, 90, 99, 99.9, 99.99, 100];

    [Fact]
    public void Below_the_limit_percentiles_are_exact_nearest_rank()
    {
        var r = new LatencyRecorder();
        foreach (var v in new long[] { 50, 10, 40, 20, 30 }) r.Add(v);
        Assert.Equal(30, r.Percentile(50));
        Assert.Equal(50, r.Percentile(99));
        Assert.Equal(10, r.Percentile(1));
        Assert.Equal(50, r.Max);
        Assert.Equal(0, new LatencyRecorder().Percentile(50));
    }

    [Fact]
    public void Past_the_limit_every_percentile_is_within_a_tenth_of_a_percent_and_count_and_max_stay_exact()
    {
        var samples = Samples(seed: 7, count: 3 * LatencyRecorder.ExactLimit);
        var r = new LatencyRecorder();
        foreach (long s in samples) r.Add(s);

        Array.Sort(samples);
        Assert.Equal(samples.Length, r.Count);
        Assert.Equal(samples[^1], r.Max);
        foreach (double p in Percentiles)
        {
            long exact = samples[Math.Clamp((int)Math.Ceiling(p / 100 * samples.Length), 1, samples.Length) - 1];
            long got = r.Percentile(p);
            Assert.True(got >= exact && got <= exact + exact / 1000 + 1, $"p{p}: {got} against exact {exact}");
        }
    }

    [Fact]
    public void Merging_a_histogram_and_a_list_equals_recording_every_sample_in_one()
    {
        var big = Samples(seed: 1, count: LatencyRecorder.ExactLimit + 10);
        var small = Samples(seed: 2, count: 1000);
        var merged = new LatencyRecorder();
        var list = new LatencyRecorder();
        foreach (long s in small) list.Add(s);
        var histogram = new LatencyRecorder();
        foreach (long s in big) histogram.Add(s);
        merged.Add(list);
        merged.Add(histogram);

        var one = new LatencyRecorder();
        foreach (long s in big.Concat(small)) one.Add(s);
        Assert.Equal(one.Count, merged.Count);
        Assert.Equal(one.Max, merged.Max);
        foreach (double p in Percentiles) Assert.Equal(one.Percentile(p), merged.Percentile(p));
    }

    /// <summary>Latency-like samples: a long tail over five decades, from 100 ns to ~10 ms.</summary>
    private static long[] Samples(int seed, int count)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (long)(100 * Math.Pow(10, 5 * random.NextDouble() * random.NextDouble())))];
    }
}
