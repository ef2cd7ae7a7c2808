using System.Text.RegularExpressions;
using Faultline.Simulation;
using Faultline.Tests.Simulation;

namespace Faultline.Tests.Reports;

/// <summary>The HTML pages of issue 13 item 3: failures apart, shared axes, a chart per IOMMU kind, no empty chart.</summary>
public sealed partial class HtmlComparisonTests
{
    [GeneratedRegex("<h2>[^<]*</h2>\n<p>[^\n]*</p>\n<svg.*?</svg>\n", RegexOptions.Singleline)]
    private static partial Regex Chart();

    private static RunReport Run(string scenario, string policy) =>
        Simulator.Run(ScenarioReader.Load(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", scenario)), policy: policy);

    internal static string StallContentionWithoutRetry() =>
        Regex.Replace(File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "stall-contention.yaml")), @", retry: \{[^}]*\}", "");

    [Fact]
    public void A_master_that_completed_nothing_draws_no_curve_and_runs_share_their_axes()
    {
        // stall-contention.yaml with a slow0 that does not retry an abort: under hardened it completes nothing (POL-12).
        var scenario = ScenarioReader.Parse(StallContentionWithoutRetry(), "stall-contention.yaml");
        var runs = new[] { Simulator.Run(scenario, policy: "linux"), Simulator.Run(scenario, policy: "hardened") };
        string html = HtmlReportWriter.RenderComparison(runs);
        Assert.Equal(html, HtmlReportWriter.RenderComparison(runs));
        // Under hardened the slow master's 150 accesses all abort: no curve of it, a line that says so, its bar red.
        Assert.DoesNotContain("<title>slow0 · hardened:", html, StringComparison.Ordinal);
        Assert.Contains("<title>slow0 · linux:", html, StringComparison.Ordinal);
        Assert.Contains("slow0 · hardened: 0 of 150 accesses completed", html, StringComparison.Ordinal);
        Assert.Contains("<title>slow0 (master) · hardened: 150 failed</title>", html, StringComparison.Ordinal);
        // The hardened run is 8x shorter, yet both stall-buffer panels run to the same end of time.
        string stalls = Chart().Matches(html).Single(m => m.Value.StartsWith("<h2>Stall buffer of smmu0", StringComparison.Ordinal)).Value;
        Assert.Equal(2, Regex.Matches(stalls, ">30 ms</text>").Count);
        Assert.Contains("<td>Δ hardened</td>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("smmuv2-stall.yaml", "Context banks of smmu0 (SMMUv2)", "Stall masters behind Arm SMMUv2")]
    [InlineData("same-workload-every-iommu.yaml", "Fault latency", "PCIe functions behind AMD IOMMU")]
    public void Every_iommu_kind_gets_its_chart(string scenario, string section, string panel)
    {
        string html = HtmlReportWriter.Render(Run(scenario, "hardened"));
        Assert.Contains($"<h2>{section}</h2>", html, StringComparison.Ordinal);
        Assert.Contains($">{panel}</text>", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("default.yaml")]
    [InlineData("prq-overflow.yaml")]
    [InlineData("teardown-under-load.yaml")]
    [InlineData("hostile-guests.yaml")]
    [InlineData("same-workload-every-iommu.yaml")]
    public void No_chart_is_empty_and_every_chart_names_its_axes(string scenario)
    {
        foreach (string policy in new[] { "linux", "hardened" })
        {
            var charts = Chart().Matches(HtmlReportWriter.Render(Run(scenario, policy))).Select(m => m.Value).ToList();
            Assert.NotEmpty(charts);
            Assert.All(charts, c => Assert.Contains("class=\"mark\"", c, StringComparison.Ordinal));
            Assert.All(charts, c => Assert.Contains("fill=\"#444\"", c, StringComparison.Ordinal)); // the axis title
        }
    }
}
