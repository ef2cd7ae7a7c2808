using System.Text.Json;
using Faultline.Cli;

namespace Faultline.Tests.Simulation;

public class RunCommandTests
{
    [Fact]
    public void Run_without_a_file_runs_the_default_and_writes_json_with_an_empty_invariants_list()
    {
        var json = Path.Combine(Path.GetTempPath(), $"faultline-{Guid.NewGuid():N}.json");
        try
        {
            var (code, stdout, stderr) = CommandLine.Invoke("run", "--json", json);
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Equal("", stderr);
            Assert.Contains("scenario 'default'", stdout, StringComparison.Ordinal);
            Assert.Contains("Invariants: all held", stdout, StringComparison.Ordinal);
            using var doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal(0, doc.RootElement.GetProperty("invariants").GetArrayLength());
            Assert.Equal("hardened", doc.RootElement.GetProperty("policy").GetString());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void Seed_and_policy_options_override_the_scenario()
    {
        var (code, stdout, _) = CommandLine.Invoke("run", "--seed", "9", "--policy", "linux");
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("seed 9, policy linux", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_scenario_file_exits_2_naming_file_line_column_and_key()
    {
        var file = Path.Combine(Path.GetTempPath(), $"faultline-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, "name: x\nseeed: 4\n");
        try
        {
            var (code, stdout, stderr) = CommandLine.Invoke("run", file);
            Assert.Equal(ExitCodes.BadInput, code);
            Assert.Equal("", stdout);
            Assert.Contains($"{file}:2:1: seeed: unknown key", stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("run", "/nonexistent/faultline.yaml")]
    [InlineData("run", "--policy", "lenient")]
    [InlineData("run", "--seed", "minus-one")]
    [InlineData("frobnicate")]
    public void Bad_command_lines_exit_2(params string[] args)
    {
        var (code, _, stderr) = CommandLine.Invoke(args);
        Assert.Equal(ExitCodes.BadInput, code);
        Assert.NotEqual("", stderr);
    }

    [Fact]
    public void A_run_that_breaks_invariants_exits_1_and_lists_them()
    {
        var file = Path.Combine(Path.GetTempPath(), $"faultline-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, Scenarios.Burst("none"));
        try
        {
            var (code, stdout, _) = CommandLine.Invoke("run", file);
            Assert.Equal(ExitCodes.InvariantsBroken, code);
            Assert.Contains("[R8]", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
