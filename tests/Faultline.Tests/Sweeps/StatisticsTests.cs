using Faultline.Simulation.Sweeps;

namespace Faultline.Tests.Sweeps;

/// <summary>Issue 11 item 4: the 95 % interval across seeds, against published t quantiles and a hand computation.</summary>
public sealed class StatisticsTests
{
    [Theory]
    [InlineData(1, 12.706204736174698)]
    [InlineData(2, 4.302652729749464)]
    [InlineData(3, 3.182446305284263)]
    [InlineData(4, 2.7764451051977934)]
    [InlineData(9, 2.262157162798205)]
    [InlineData(29, 2.045229642132703)]
    [InlineData(120, 1.9799304050824413)]
    public void The_two_sided_95_percent_t_quantile_matches_the_tables(int df, double expected)
    {
        Assert.Equal(expected, StudentT.TwoSidedQuantile(0.95, df), 1e-9);
    }

    [Fact]
    public void The_central_probability_has_the_closed_forms_of_one_and_two_degrees_of_freedom()
    {
        foreach (double t in new[] { 0.1, 1, 2.5, 10 })
        {
            Assert.Equal(2 / Math.PI * Math.Atan(t), StudentT.CentralProbability(t, 1), 1e-12); // Cauchy
            Assert.Equal(t / Math.Sqrt(2 + (t * t)), StudentT.CentralProbability(t, 2), 1e-12);
        }
    }

    [Fact]
    public void An_estimate_has_the_sample_mean_deviation_and_t_interval()
    {
        var e = Estimate.Of([1, 2, 3, 4, 5]);
        Assert.Equal(5, e.Count);
        Assert.Equal(3, e.Mean, 1e-12);
        Assert.Equal(Math.Sqrt(2.5), e.StandardDeviation, 1e-12);
        double half = 2.7764451051977934 * Math.Sqrt(2.5) / Math.Sqrt(5);
        Assert.Equal(3 - half, e.Low, 1e-9);
        Assert.Equal(3 + half, e.High, 1e-9);
    }

    [Fact]
    public void No_number_is_left_out_and_one_value_has_no_interval()
    {
        var e = Estimate.Of([double.NaN, 7]);
        Assert.Equal(1, e.Count);
        Assert.Equal(7, e.Mean);
        Assert.True(double.IsNaN(e.Low) && double.IsNaN(e.StandardDeviation));
        Assert.Equal(0, Estimate.Of([double.NaN]).Count);
    }
}
