using Faultline.Cli;
using Faultline.Tests.Simulation;

namespace Faultline.Tests.Reports;

/// <summary><c>faultline compare A.json B.json [--report FILE]</c>.</summary>
public sealed class CompareCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faultline-compare-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string RunJson(string policy)
    {
        string path = Path.Combine(_dir, $"{policy}.json");
        // stall-contention.yaml with a slow0 that does not retry an abort: under hardened it completes nothing (POL-12).
        string scenario = Path.Combine(_dir, "stall-contention.yaml");
        File.WriteAllText(scenario, HtmlComparisonTests.StallContentionWithoutRetry());
        var (exit, _, stderr) = CommandLine.Invoke("run", scenario, "--policy", policy, "--json", path);
        Assert.True(exit == ExitCodes.Ok, stderr);
        return path;
    }

    [Fact]
    public void Two_policies_compare_on_the_terminal_and_in_one_page()
    {
        string linux = RunJson("linux"), hardened = RunJson("hardened"), page = Path.Combine(_dir, "cmp.html");
        var (exit, stdout, stderr) = CommandLine.Invoke("compare", linux, hardened, "--report", page);
        Assert.True(exit == ExitCodes.Ok, stderr);
        Assert.Equal("", stderr);
        // The slow master completes all 150 under linux and none under hardened: the delta says so.
        Assert.Matches(@"master slow0\s+100\.00\s+0\.00\s+-100\.00", stdout);
        string html = File.ReadAllText(page);
        Assert.Contains("<h1>linux vs hardened (stall-contention)</h1>", html, StringComparison.Ordinal);
        Assert.Contains("slow0 · hardened: 0 of 150 accesses completed", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_malformed_or_missing_report_is_bad_input_with_its_place()
    {
        string bad = Path.Combine(_dir, "bad.json");
        File.WriteAllText(bad, "{\n  \"scenario\": \"x\",\n  \"seed\": -1\n}");
        var (exit, stdout, stderr) = CommandLine.Invoke("compare", bad);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith($"faultline compare: {bad}:3:", stderr, StringComparison.Ordinal);
        Assert.Single(stderr.TrimEnd().Split('\n'));

        (exit, _, stderr) = CommandLine.Invoke("compare", Path.Combine(_dir, "missing.json"));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("cannot read", stderr, StringComparison.Ordinal);
        (exit, _, stderr) = CommandLine.Invoke("compare", bad, "--report", "/nonexistent-dir/cmp.html");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("cannot write the report to '/nonexistent-dir/cmp.html'", stderr, StringComparison.Ordinal);
    }
}
