using System.Text.Json;
using Faultline.Cli;
using Faultline.Simulation;
using Faultline.Tests.Golden;

namespace Faultline.Tests.Cli;

/// <summary>Issue 13 item 2: what `faultline run` prints and writes, and the exit code it gives for it.</summary>
public sealed class RunOutputTests
{
    [Fact]
    public void Quiet_prints_nothing_and_the_exit_code_still_tells()
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("run", "--quiet");
        Assert.Equal((ExitCodes.Ok, "", ""), (exit, stdout, stderr));
    }

    [Fact]
    public void Section_is_repeatable_and_names_only_known_sections()
    {
        var (exit, stdout, _) = CommandLine.Invoke("run", "--section", "devices", "--section", "tenants");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("Devices", stdout, StringComparison.Ordinal);
        Assert.Contains("Tenants", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("IOMMUs", stdout, StringComparison.Ordinal);

        (exit, _, var stderr) = CommandLine.Invoke("run", "--section", "device");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("'device'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Rows_past_the_limit_are_counted_not_printed()
    {
        var (exit, stdout, _) = CommandLine.Invoke("run", "--rows", "1", "--section", "devices", "--section", "latency");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.DoesNotContain("accel0", stdout, StringComparison.Ordinal);
        Assert.Equal(2, stdout.Split("... and 1 more device (the JSON has every one)").Length - 1);
        Assert.Contains("access (start to end)", stdout, StringComparison.Ordinal); // the totals stay
        Assert.Contains("accel0", CommandLine.Invoke("run", "--rows", "0").Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_terminal_the_summary_is_100_columns_wide()
    {
        var (_, stdout, _) = CommandLine.Invoke("run", Path.Combine(GoldenDigests.ScenarioFolder, "hostile-guests.yaml"));
        var widths = stdout.ReplaceLineEndings("\n").Split('\n').Select(l => l.Length).ToList();
        Assert.InRange(widths.Max(), 81, Terminal.DefaultWidth);
        (_, stdout, _) = CommandLine.Invoke("run", Path.Combine(GoldenDigests.ScenarioFolder, "hostile-guests.yaml"), "--width", "200");
        Assert.True(stdout.ReplaceLineEndings("\n").Split('\n').Max(l => l.Length) > Terminal.DefaultWidth);
    }

    [Fact]
    public void The_width_is_the_option_then_the_terminal_then_COLUMNS_then_100()
    {
        var terminal = Terminal.None with { WindowWidth = 90, OutputIsTerminal = true, Columns = "120" };
        Assert.Equal(60, terminal.SummaryWidth(60));
        Assert.Equal(90, terminal.SummaryWidth(null));
        Assert.Equal(120, (terminal with { OutputIsTerminal = false }).SummaryWidth(null)); // output redirected: the window is not the page
        Assert.Equal(Terminal.DefaultWidth, (terminal with { OutputIsTerminal = false, Columns = "wide" }).SummaryWidth(null));
        Assert.Equal(Terminal.DefaultWidth, Terminal.None.SummaryWidth(null));
    }

    [Theory]
    [InlineData("--seed", "abc", "faultline: --seed: 'abc' is not a whole number from 0 to 18446744073709551615")]
    [InlineData("--seed", "-1", "faultline: --seed: '-1' is not a whole number from 0 to 18446744073709551615")]
    [InlineData("--width", "20", "faultline: --width: '20' is not a whole number from 40 to 100000")]
    [InlineData("--section", "device", "faultline: --section: 'device' is not one of: devices, iommus, masters, stall, banks, framework, teardowns, tenants, latency, failures, notes, invariants")]
    [InlineData("--policy", "lenient", "faultline: --policy: 'lenient' is not one of: linux, hardened")]
    [InlineData("--bogus", null, "faultline: unknown option '--bogus' (a scenario file whose name starts with '-' is written ./--bogus)")]
    public void A_bad_option_says_what_is_wrong_in_words(string option, string? value, string message)
    {
        var (exit, stdout, stderr) = value is null ? CommandLine.Invoke("run", option) : CommandLine.Invoke("run", option, value);
        Assert.Equal((ExitCodes.BadInput, ""), (exit, stdout));
        Assert.Equal(message, stderr.ReplaceLineEndings("\n").Split('\n')[0]);
    }

    [Fact]
    public void A_dash_writes_the_json_to_standard_output_and_the_summary_to_standard_error()
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("run", "--json", "-");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Equal("default", JsonDocument.Parse(stdout).RootElement.GetProperty("scenario").GetString());
        Assert.StartsWith("faultline run: scenario 'default'", stderr, StringComparison.Ordinal);

        (exit, stdout, stderr) = CommandLine.Invoke("run", "--json", "-", "--report", "-");
        Assert.Equal((ExitCodes.BadInput, ""), (exit, stdout));
        Assert.Contains("only one output can be '-'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Broken_invariants_exit_1_even_when_an_output_fails_and_the_other_outputs_are_still_written()
    {
        if (!File.Exists("/dev/full")) return; // Linux: every write there fails with ENOSPC
        var report = Path.Combine(Path.GetTempPath(), $"faultline-{Guid.NewGuid():N}.html");
        try
        {
            var (exit, _, stderr) = CommandLine.Invoke("run", Path.Combine(GoldenDigests.ScenarioFolder, "prq-overflow.yaml"), "--policy", "linux",
                "--json", "/dev/full", "--report", report);
            Assert.Equal(ExitCodes.InvariantsBroken, exit);
            Assert.Contains("cannot write JSON to '/dev/full'", stderr, StringComparison.Ordinal);
            Assert.True(File.Exists(report), "the report after the failed JSON is written");

            (exit, _, _) = CommandLine.Invoke("run", "--quiet", "--json", "/dev/full");
            Assert.Equal(ExitCodes.BadInput, exit); // invariants held: the failed output decides
        }
        finally
        {
            File.Delete(report);
        }
    }

    [Fact]
    public void A_stopped_run_writes_every_output_marked_partial_and_exits_130()
    {
        var json = Path.Combine(Path.GetTempPath(), $"faultline-{Guid.NewGuid():N}.json");
        using var stop = new CancellationTokenSource();
        stop.Cancel();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        try
        {
            int exit = Program.Run(["run", "--json", json], stdout, stderr, simulate: true, Terminal.None with { Stop = stop.Token });
            Assert.Equal(ExitCodes.Interrupted, exit);
            Assert.Contains("STOPPED BY REQUEST", stdout.ToString(), StringComparison.Ordinal);
            Assert.Contains("marked partial", stderr.ToString(), StringComparison.Ordinal);
            Assert.True(JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("partial").GetBoolean());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Theory]
    [InlineData("default.yaml", "hardened")]
    [InlineData("hostile-guests.yaml", "linux")]
    [InlineData("prq-overflow.yaml", "linux")]
    public void A_watched_run_gives_the_golden_report_and_a_stop_midway_gives_a_partial_one(string scenario, string policy)
    {
        var loaded = ScenarioReader.Load(Path.Combine(GoldenDigests.ScenarioFolder, scenario));
        var seen = new List<RunProgress>();
        var watched = Simulator.Run(loaded, 1, policy, control: new RunControl(CancellationToken.None, seen.Add, progressEvery: 500));
        Assert.Equal(GoldenDigests.Load()[GoldenDigests.Key(scenario, policy, 1)], GoldenDigests.Digest(JsonReportWriter.Serialize(watched)));
        Assert.True(seen.Count > 3, $"{seen.Count} progress reports");
        Assert.Equal(watched.Events, seen.Where(p => !p.Baseline).Max(p => p.Events));
        Assert.DoesNotContain("\"partial\"", JsonReportWriter.Serialize(watched), StringComparison.Ordinal);

        using var stop = new CancellationTokenSource();
        var partial = Simulator.Run(loaded, 1, policy, control: new RunControl(stop.Token, p =>
        {
            if (p.Events >= watched.Events / 2) stop.Cancel();
        }, progressEvery: 500));
        Assert.True(partial.Partial);
        Assert.InRange(partial.Events, watched.Events / 2, watched.Events - 1);
        Assert.Contains("\"partial\": true", JsonReportWriter.Serialize(partial), StringComparison.Ordinal);
    }
}
