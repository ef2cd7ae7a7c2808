using System.Text;
using System.Text.Json.Nodes;
using Faultline.Simulation;
using Faultline.Tests.Simulation;

namespace Faultline.Tests.Reports;

/// <summary>Reading back the JSON report (<c>faultline compare</c>, issue 13 item 3).</summary>
public sealed class JsonReportReaderTests
{
    private static string Json(string scenario, string policy) =>
        JsonReportWriter.Serialize(Simulator.Run(ScenarioReader.Load(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", scenario)), policy: policy));

    public static TheoryData<string> Scenarios() => [.. Directory.GetFiles(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios"), "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(Scenarios))]
    public void Every_example_report_reads_back_to_the_same_json(string scenario)
    {
        foreach (string policy in new[] { "linux", "hardened" })
        {
            string json = Json(scenario, policy);
            Assert.Equal(json, JsonReportWriter.Serialize(JsonReportReader.Parse(Encoding.UTF8.GetBytes(json), scenario)));
        }
    }

    [Fact]
    public void Fields_it_does_not_know_are_skipped()
    {
        var json = JsonNode.Parse(Json("stall-contention.yaml", "linux"))!;
        json["statistics"] = new JsonObject { ["mean_ns"] = 12.5, ["stages"] = new JsonArray(1, 2) };
        json["tenants"]![0]!["stddev_ns"] = 3;
        var report = JsonReportReader.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "more.json");
        Assert.Equal("stall-contention", report.Scenario);
        Assert.Equal(150, report.Masters.Single(m => m.Name == "slow0").Completed);
    }

    [Theory]
    [InlineData("{\"scenario\": 3}", "bad.json:1:15: ", "the value is not a string (at $.scenario)")]
    [InlineData("{\n  \"scenario\": \"x\",\n  \"seed\": }", "bad.json:3:11: ", "(at $.seed)")]
    [InlineData("{\"scenario\": \"x\", \"seed\": \"one\"}", "bad.json:1:32: ", "the value is not an integer (at $.seed)")]
    [InlineData("null", "bad.json:1:1: ", "null")]
    [InlineData("[1, 2]", "bad.json:1:2: ", "not a faultline JSON report: the value is not an object")]
    [InlineData("{\"scenario\": \"x\"}", "bad.json:1:18: ", "required fields missing: 'seed', 'policy'")]
    public void A_malformed_report_is_an_error_that_says_where(string json, string place, string what)
    {
        var e = Assert.Throws<ReportFormatException>(() => JsonReportReader.Parse(Encoding.UTF8.GetBytes(json), "bad.json"));
        Assert.StartsWith(place, e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain("System.", e.Message, StringComparison.Ordinal); // the report's terms, not .NET's
        Assert.DoesNotContain("Faultline.", e.Message, StringComparison.Ordinal);
    }
}
