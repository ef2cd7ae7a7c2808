using Faultline.Simulation;
using Faultline.Tests.Golden;

namespace Faultline.Tests.Cli;

/// <summary>
/// Issue 13: every section of every example scenario's summary fits the page (the widest tables were 251 columns),
/// loses nothing by fitting, and leaves out what is empty.
/// </summary>
public sealed class SummaryLayoutTests
{
    private static readonly Dictionary<string, RunReport> Reports = new(StringComparer.Ordinal);

    public static TheoryData<string, string> Runs() => GoldenDigestTests.Runs();

    [Theory]
    [MemberData(nameof(Runs))]
    public void Every_line_of_every_example_summary_fits_80_100_and_200_columns(string scenario, string policy)
    {
        var report = Report(scenario, policy);
        var whole = Words(Render(report, int.MaxValue));
        foreach (int width in new[] { 80, 100, 200 })
        {
            string text = Render(report, width);
            var lines = text.ReplaceLineEndings("\n").Split('\n');
            Assert.All(lines, l => Assert.True(l.Length <= width, $"{scenario} {policy} at {width}: {l.Length} columns: '{l}'"));
            // Fitting moves words to other lines, never drops one (a cut word would show here too).
            Assert.Empty(whole.Except(Words(text)));
        }
    }

    [Fact]
    public void An_smmuv2_only_run_prints_no_devices_table_and_no_zero_latencies()
    {
        string text = Render(Report("smmuv2-stall.yaml", "hardened"), 100);
        Assert.DoesNotContain("Devices", text, StringComparison.Ordinal);
        Assert.DoesNotContain(" 0 ns", text, StringComparison.Ordinal);
        Assert.Contains("Stall masters", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Sections_print_alone_and_the_invariant_status_always()
    {
        var report = Report("default.yaml", "hardened");
        var text = new StringWriter();
        SummaryWriter.Write(report, text, 100, ["latency"]);
        Assert.Contains("Latency (virtual time)", text.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("IOMMUs", text.ToString(), StringComparison.Ordinal);
        Assert.EndsWith("Invariants: all held" + Environment.NewLine, text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Invariant_violations_past_those_listed_are_counted()
    {
        var report = Report("prq-overflow.yaml", "linux");
        long violations = report.InvariantCounts.Values.Sum();
        Assert.True(violations > report.Invariants.Count, "the example keeps fewer violations than it counts");
        Assert.Contains($"... and {violations - report.Invariants.Count} more invariant violations", Render(report, 100), StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_wider_than_the_page_goes_on_in_panels_that_repeat_the_name()
    {
        var table = new TextTable("device", "a-long-header", "another-long-header", "third");
        table.Add("nic0", 1, 2, 3);
        var w = new StringWriter();
        table.Write(w, 40);
        Assert.Equal(
            """
            device  a-long-header
            ------  -------------
            nic0                1
            device  another-long-header  third
            ------  -------------------  -----
            nic0                      2      3

            """.ReplaceLineEndings(), w.ToString());
    }

    [Fact]
    public void A_page_too_narrow_for_one_column_beside_the_name_stacks_each_row()
    {
        var table = new TextTable("tenant", "rejected", "lost");
        table.Add("guest-with-a-name", "bad-code:3 unknown-cookie:5 already-answered:7", 0);
        var w = new StringWriter();
        table.Write(w, 40);
        var lines = w.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(["guest-with-a-name", "  rejected bad-code:3 unknown-cookie:5", "    already-answered:7", "  lost 0"], lines);
    }

    private static RunReport Report(string scenario, string policy)
    {
        lock (Reports)
        {
            string key = $"{scenario} {policy}";
            if (!Reports.TryGetValue(key, out var report))
                Reports[key] = report = Simulator.Run(ScenarioReader.Load(Path.Combine(GoldenDigests.ScenarioFolder, scenario)), policy: policy);
            return report;
        }
    }

    private static string Render(RunReport report, int width)
    {
        var w = new StringWriter();
        SummaryWriter.Write(report, w, width, null);
        return w.ToString();
    }

    private static HashSet<string> Words(string text) =>
        text.Split([' ', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries).Where(t => t.Trim('-').Length > 0).ToHashSet(StringComparer.Ordinal);
}
