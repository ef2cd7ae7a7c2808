using Faultline.Tests.Golden;

namespace Faultline.Tests.Cli;

/// <summary><c>faultline run --policy linux,hardened --report FILE</c>: both runs, one summary each, one comparison page (issue 13 item 3).</summary>
public sealed class PolicyComparisonRunTests
{
    [Fact]
    public void Two_policies_run_in_turn_and_the_report_compares_them_on_one_page()
    {
        string scenario = Path.Combine(GoldenDigests.RepositoryRoot, "scenarios", "prq-overflow.yaml");
        string page = Path.Combine(Path.GetTempPath(), $"faultline-cmp-{Guid.NewGuid():N}.html");
        try
        {
            var (exit, stdout, stderr) = CommandLine.Invoke("run", scenario, "--policy", "linux,hardened", "--report", page, "--width", "100");

            Assert.True(exit == 1, stderr); // linux breaks H-PCI-10 on this scenario (POL-1); hardened holds
            Assert.Equal(2, stdout.Split('\n').Count(l => l.Contains("policy", StringComparison.Ordinal) && l.Contains("seed", StringComparison.Ordinal)));
            string html = File.ReadAllText(page);
            Assert.Contains("linux", html, StringComparison.Ordinal);
            Assert.Contains("hardened", html, StringComparison.Ordinal);
            Assert.Contains("Δ", html, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(page);
        }
    }

    [Theory]
    [InlineData("--json")]
    [InlineData("--trace")]
    public void One_runs_outputs_are_refused_with_several_policies(string option)
    {
        var (exit, _, stderr) = CommandLine.Invoke("run", "--policy", "linux,hardened", option, Path.Combine(Path.GetTempPath(), "never-written"));
        Assert.Equal(2, exit);
        Assert.Contains("faultline compare", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_policy_in_the_list_is_named()
    {
        var (exit, _, stderr) = CommandLine.Invoke("run", "--policy", "linux,paranoid");
        Assert.Equal(2, exit);
        Assert.Contains("'paranoid' is not one of: linux, hardened", stderr, StringComparison.Ordinal);
    }
}
