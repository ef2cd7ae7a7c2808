using Faultline.Simulation;

namespace Faultline.Tests.Reports;

/// <summary>Axis ticks of the HTML report: 1-2-5 steps and SI units (issue 13: ticks like 141/282/422/563).</summary>
public sealed class TicksTests
{
    [Theory]
    [InlineData(563, new double[] { 0, 200, 400, 600 })]
    [InlineData(8, new double[] { 0, 2, 4, 6, 8 })]
    [InlineData(1.05, new double[] { 0, 0.5, 1, 1.5 })]
    [InlineData(27_030_000, new double[] { 0, 10e6, 20e6, 30e6 })]
    [InlineData(400, new double[] { 0, 100, 200, 300, 400 })]
    public void Linear_ticks_step_by_one_two_or_five_and_cover_the_maximum(double max, double[] expected) =>
        Assert.Equal(expected, Ticks.Linear(max).Select(t => Math.Round(t, 9)));

    [Theory]
    [InlineData(800, "800 ns")]
    [InlineData(1000, "1 µs")]
    [InlineData(18_900, "18.9 µs")]
    [InlineData(2_000_000, "2 ms")]
    [InlineData(1_500_000_000, "1.5 s")]
    public void Times_are_written_in_si_units(double ns, string text) => Assert.Equal(text, Ticks.Time(ns));

    [Fact]
    public void Log_ticks_are_one_two_five_per_decade_and_only_powers_of_ten_are_labelled_past_four_decades()
    {
        Assert.Equal([(100, true), (200, true), (500, true), (1000, true)], Ticks.Log(2, 3));
        var wide = Ticks.Log(1, 7);
        Assert.Equal(7, wide.Count(t => t.Major));
        Assert.All(wide.Where(t => t.Major), t => Assert.Equal(0, Math.Log10(t.Value) % 1, 9));
    }
}
