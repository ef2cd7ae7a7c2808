using System.Text.RegularExpressions;
using System.Xml.Linq;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>The HTML report with plots (<c>faultline run --report</c>).</summary>
public sealed partial class HtmlReportTests
{
    [GeneratedRegex("<svg.*?</svg>", RegexOptions.Singleline)]
    private static partial Regex SvgElement();

    private static RunReport Example(string file, string? policy = null) =>
        Simulator.Run(ScenarioReader.Load(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", file)), policy: policy);

    [Fact]
    public void The_default_report_plots_latency_responses_queues_and_the_stall_buffer_inside_its_frame()
    {
        string html = HtmlReportWriter.Render(Simulator.Run(ScenarioReader.Default()));
        foreach (var title in new[] { "Fault latency", "Access latency", "PRG responses by code", "Hardware queues", "Stall buffer of smmu0", "Summary" })
            Assert.Contains($"<h2>{title}</h2>", html, StringComparison.Ordinal);
        var svgs = SvgElement().Matches(html).Select(m => XElement.Parse(m.Value)).ToList();
        Assert.Equal(5, svgs.Count);
        foreach (var svg in svgs)
        {
            double width = (double)svg.Attribute("width")!, height = (double)svg.Attribute("height")!;
            foreach (var element in svg.Descendants())
            {
                foreach (var name in new[] { "x", "x1", "x2" })
                    if (element.Attribute(name) is { } a) Assert.InRange((double)a, 0, width);
                foreach (var name in new[] { "y", "y1", "y2" })
                    if (element.Attribute(name) is { } a) Assert.InRange((double)a, 0, height);
            }
        }
        Assert.Contains("nic0 (p99 ", html, StringComparison.Ordinal);
        Assert.Contains("Invariants: all held.", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_with_hostile_guests_plots_throughput_against_its_baseline_and_names_broken_invariants()
    {
        string html = HtmlReportWriter.Render(Example("hostile-guests.yaml", "linux"));
        Assert.Contains("<h2>Throughput against the run without hostile guests</h2>", html, StringComparison.Ordinal);
        Assert.Contains("class=\"bad\">Invariants: ", html, StringComparison.Ordinal);
        Assert.Contains("honest-vm: 1", html, StringComparison.Ordinal); // the bar's tooltip: ratio 1.0...
    }

    [Fact]
    public void Same_report_gives_the_same_bytes_and_the_cli_writes_it()
    {
        Assert.Equal(HtmlReportWriter.Render(Simulator.Run(ScenarioReader.Default())), HtmlReportWriter.Render(Simulator.Run(ScenarioReader.Default())));
        string path = Path.Combine(Path.GetTempPath(), $"faultline-report-{Environment.ProcessId}.html");
        try
        {
            var (exit, _, _) = CommandLine.Invoke("run", "--report", path);
            Assert.Equal(Faultline.Cli.ExitCodes.Ok, exit);
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(path), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
