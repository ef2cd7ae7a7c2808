using System.Text.RegularExpressions;
using Faultline.Simulation;
using Faultline.Tests.Simulation;

namespace Faultline.Tests.Kernels;

/// <summary>
/// scenarios/bugs/BUG-N.yaml (issue 10 item 2): under <c>linux</c> pinned to the release its header calls buggy, each
/// breaks the invariant its header names; pinned to the release it calls fixed, it breaks none.
/// </summary>
public partial class BugScenarioTests
{
    private static string Folder => Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "bugs");

    public static TheoryData<string> Files() => [.. Directory.GetFiles(Folder, "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"^# Buggy: (?<buggy>\S+)\. Fixed: (?<fixed>\S+)\. Breaks: (?<rule>\S+)\.$", RegexOptions.Multiline)]
    private static partial Regex Header();

    [Theory]
    [MemberData(nameof(Files))]
    public void Each_bug_scenario_shows_its_bug_on_the_buggy_release_and_not_on_the_fixed_one(string file)
    {
        var path = Path.Combine(Folder, file);
        var header = Header().Match(File.ReadAllText(path));
        Assert.True(header.Success, $"{file} needs a header line '# Buggy: X.Y. Fixed: X.Y. Breaks: RULE.'");
        var scenario = ScenarioReader.Load(path);

        var buggy = Simulator.Run(scenario, null, $"linux@{header.Groups["buggy"].Value}");
        Assert.True(buggy.InvariantCounts.GetValueOrDefault(header.Groups["rule"].Value) > 0,
            $"{file} under {buggy.Policy}: expected {header.Groups["rule"].Value} broken, got [{string.Join(", ", buggy.InvariantCounts.Keys)}]");

        var fixedRun = Simulator.Run(scenario, null, $"linux@{header.Groups["fixed"].Value}");
        Assert.Empty(fixedRun.InvariantCounts);
    }

    [Fact]
    public void Every_bug_scenario_file_is_named_after_its_bug() =>
        Assert.All(Directory.GetFiles(Folder, "*.yaml"), f => Assert.Matches(@"^BUG-\d+\.yaml$", Path.GetFileName(f)));
}
