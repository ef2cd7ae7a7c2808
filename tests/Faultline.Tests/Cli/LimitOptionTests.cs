using Faultline.Cli;
using Faultline.Tests.Golden;

namespace Faultline.Tests.Cli;

/// <summary>
/// <c>faultline run --limit NAME=N</c>: a scenario larger than the reader's defaults (issue 9's 10 000 functions each
/// with its own process and pages) runs when the user raises the limit it breaks; a bad name or value exits 2 naming it.
/// </summary>
public sealed class LimitOptionTests
{
    private static string Example(string name) => Path.Combine(GoldenDigests.RepositoryRoot, "scenarios", name);

    [Fact]
    public void A_lowered_limit_refuses_the_scenario_naming_it_and_raising_it_again_runs_it()
    {
        var (exit, _, stderr) = CommandLine.Invoke("run", Example("teardown-under-load.yaml"), "--quiet", "--limit", "processes=1");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("processes", stderr, StringComparison.Ordinal);

        (exit, _, stderr) = CommandLine.Invoke("run", Example("teardown-under-load.yaml"), "--quiet", "--limit", "processes=1", "--limit", "processes=64");
        Assert.Equal((ExitCodes.Ok, ""), (exit, stderr));
    }

    [Theory]
    [InlineData("vma_page=5", "'vma_page' is not one of: file_size,")]
    [InlineData("vma_pages", "expected NAME=N")]
    [InlineData("vma_pages=0", "'0' is not a whole number from 1 that fits vma_pages")]
    [InlineData("depth=99999999999", "'99999999999' is not a whole number from 1 that fits depth")]
    public void A_bad_limit_exits_2_naming_what_is_wrong(string token, string message)
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("run", "--quiet", "--limit", token);
        Assert.Equal((ExitCodes.BadInput, ""), (exit, stdout));
        Assert.Contains($"--limit {token}: {message}", stderr, StringComparison.Ordinal);
    }
}
