using Faultline.Cli;
using Faultline.Tests.Golden;

namespace Faultline.Tests.Traces;

/// <summary><c>faultline run --ftrace</c>, <c>check</c> and <c>replay</c> as a user runs them: files, exit codes, output.</summary>
public sealed class TraceCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faultline-ftrace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Scenario(string name) => Path.Combine(GoldenDigests.ScenarioFolder, name);

    [Fact]
    public void A_clean_runs_trace_checks_clean_and_replays_to_the_same_responses()
    {
        string trace = Path.Combine(_dir, "run.trace"), json = Path.Combine(_dir, "check.json"), derived = Path.Combine(_dir, "derived.yaml");
        Assert.Equal(ExitCodes.Ok, CommandLine.Invoke("run", Scenario("teardown-under-load.yaml"), "--ftrace", trace).Exit);
        Assert.StartsWith("# tracer: nop", File.ReadAllText(trace), StringComparison.Ordinal);

        var (exit, stdout, stderr) = CommandLine.Invoke("check", trace, "--json", json);
        Assert.True(exit == ExitCodes.Ok, stderr + stdout);
        Assert.Contains("Violations: none", stdout, StringComparison.Ordinal);
        Assert.Contains("\"violation_counts\": {}", File.ReadAllText(json), StringComparison.Ordinal);

        (exit, stdout, stderr) = CommandLine.Invoke("replay", trace, "--policy", "hardened", "--emit-scenario", derived);
        Assert.True(exit == ExitCodes.Ok, stderr + stdout);
        Assert.Contains("reproduces every captured response", stdout, StringComparison.Ordinal);
        (exit, stdout, stderr) = CommandLine.Invoke("replay", trace, "--scenario", derived);
        Assert.True(exit == ExitCodes.Ok, stderr + stdout);
    }

    [Fact]
    public void Check_exits_1_on_a_protocol_violation()
    {
        string trace = Path.Combine(_dir, "overflow.trace");
        Assert.Equal(ExitCodes.InvariantsBroken, CommandLine.Invoke("run", Scenario("prq-overflow.yaml"), "--policy", "linux", "--ftrace", trace).Exit);
        var (exit, stdout, _) = CommandLine.Invoke("check", trace);
        Assert.Equal(ExitCodes.InvariantsBroken, exit);
        Assert.Contains("VIOLATION H-PCI-10 nic1", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_exits_2_for_input_it_cannot_read()
    {
        string garbage = Path.Combine(_dir, "garbage.txt");
        File.WriteAllText(garbage, "not\na\ntrace\n");
        Assert.Equal(ExitCodes.BadInput, CommandLine.Invoke("check", garbage).Exit);
        Assert.Equal(ExitCodes.BadInput, CommandLine.Invoke("check", Path.Combine(_dir, "missing.trace")).Exit);
        Assert.Equal(ExitCodes.BadInput, CommandLine.Invoke("replay", garbage).Exit);
    }
}
