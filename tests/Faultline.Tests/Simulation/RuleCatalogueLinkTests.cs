using System.Text.RegularExpressions;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>Issue 10 item 5: the summary sends a broken rule's reader to the catalogue file that holds its entry.</summary>
public sealed partial class RuleCatalogueLinkTests
{
    [GeneratedRegex(@"^### (?<id>(?:R|F)\d+|(?:H-[A-Za-z0-9]+|POL|BUG)-\d+) — ", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [Fact]
    public void Every_catalogue_entry_is_found_in_the_file_the_summary_names()
    {
        string root = ScenarioReaderTests.RepoRoot();
        int entries = 0;
        foreach (var path in Directory.GetFiles(Path.Combine(root, "docs", "rules"), "*.md"))
        {
            if (Path.GetFileName(path) is "README.md" or "scenarios.md") continue; // the format's example; scenario ids name no invariant
            foreach (Match m in Heading().Matches(File.ReadAllText(path)))
            {
                Assert.Equal($"docs/rules/{Path.GetFileName(path)}", RuleCatalogue.FileOf(m.Groups["id"].Value));
                entries++;
            }
        }
        Assert.True(entries > 150, $"{entries} entries");
        Assert.Equal("docs/outputs.md", RuleCatalogue.FileOf("conservation"));
    }

    [Fact]
    public void A_summary_with_broken_invariants_names_where_each_rule_is_explained()
    {
        var yaml = File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "prq-overflow.yaml"));
        var r = Scenarios.Run(yaml, policy: "linux");
        var text = new StringWriter();
        SummaryWriter.Write(r, text);
        Assert.Contains("Rules explained in: docs/rules/pcie.md (H-PCI-10)", text.ToString(), StringComparison.Ordinal);
    }
}
