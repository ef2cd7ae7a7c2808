using System.Text;
using Faultline.Simulation;
using Microsoft.Playwright;

namespace Faultline.BrowserTests;

/// <summary>
/// The HTML reports in a real browser (issue 13 item 4): a single run's page for several example scenarios and a
/// comparison page read back from JSON load with no console error, every chart has data marks, and a screenshot of
/// each page is kept under the test output's screenshots/ folder.
/// </summary>
public sealed class ReportPageTests(Chromium chromium) : IClassFixture<Chromium>
{
    private static readonly string Output = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "screenshots")).FullName;

    private static RunReport Run(string scenario, string policy) =>
        Simulator.Run(ScenarioReader.Load(Path.Combine(Repository.Root, "scenarios", scenario)), policy: policy);

    [Theory]
    [InlineData("default.yaml", "hardened")]
    [InlineData("stall-contention.yaml", "hardened")]
    [InlineData("smmuv2-stall.yaml", "linux")]
    [InlineData("same-workload-every-iommu.yaml", "hardened")]
    [InlineData("hostile-guests.yaml", "linux")]
    public async Task A_run_report_loads_without_error_and_every_chart_has_data(string scenario, string policy)
    {
        string html = HtmlReportWriter.Render(Run(scenario, policy));
        await Check($"{Path.GetFileNameWithoutExtension(scenario)}-{policy}", html);
    }

    [Fact]
    public async Task The_comparison_page_of_two_policies_read_back_from_json_loads_and_every_chart_has_data()
    {
        var runs = new[] { "linux", "hardened" }
            .Select(policy => JsonReportReader.Parse(Encoding.UTF8.GetBytes(JsonReportWriter.Serialize(Run("stall-contention.yaml", policy))), policy))
            .ToList();
        await Check("compare-stall-contention", HtmlReportWriter.RenderComparison(runs));
    }

    private async Task Check(string name, string html)
    {
        string path = Path.Combine(Output, name + ".html");
        await File.WriteAllTextAsync(path, html);
        var page = await chromium.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1150, Height = 900 } });
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning") errors.Add($"console {message.Type}: {message.Text}");
        };
        page.PageError += (_, error) => errors.Add($"page error: {error}");
        page.RequestFailed += (_, request) => errors.Add($"request failed: {request.Url}"); // a self-contained page asks for nothing
        var response = await page.GotoAsync(new Uri(path).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        Assert.True(response?.Ok ?? true, $"{name}: loading gave {response?.Status}");

        // Each chart: its size as laid out, and how many data marks it draws (the writer's class="mark") that show:
        // a bar of some length and height, a line that goes somewhere.
        var charts = await page.EvaluateAsync<ChartFacts[]>(
            "() => { const drawn = m => { const b = m.getBBox(); return m.tagName === 'rect' ? b.width > 0 && b.height > 0 : b.width + b.height > 0; }; "
            + "return [...document.querySelectorAll('h2 + p + svg')].map(s => ({ title: s.getAttribute('aria-label'), marks: [...s.querySelectorAll('.mark')].filter(drawn).length, "
            + "width: s.getBoundingClientRect().width, height: s.getBoundingClientRect().height, texts: s.querySelectorAll('text').length })); }");
        Assert.NotEmpty(charts);
        foreach (var chart in charts)
        {
            Assert.True(chart.Marks > 0, $"{name}: the chart '{chart.Title}' draws no data");
            Assert.True(chart.Width > 100 && chart.Height > 50, $"{name}: the chart '{chart.Title}' is laid out {chart.Width}x{chart.Height}");
            Assert.True(chart.Texts > 2, $"{name}: the chart '{chart.Title}' has no axis labels");
        }
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Output, name + ".png"), FullPage = true });
        await page.CloseAsync();
        Assert.Empty(errors);
    }

    // Playwright fills the result by property, through a parameterless constructor.
    private sealed class ChartFacts
    {
        public string Title { get; set; } = "";
        public int Marks { get; set; }
        public double Width { get; set; }
        public double Height { get; set; }
        public int Texts { get; set; }
    }
}
