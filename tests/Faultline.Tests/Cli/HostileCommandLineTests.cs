using Faultline.Cli;

namespace Faultline.Tests.Cli;

/// <summary>
/// Issue 14: whatever the arguments, paths or files, the command exits 0, 1 or 2 with one line on stderr for an
/// error; 3 only for a Faultline bug, its stack trace only under --debug.
/// </summary>
public sealed class HostileCommandLineTests
{
    private const string Record = "vtd-page-request";

    [Theory]
    [InlineData("run", "", "cannot read scenario '': the path is empty")]
    [InlineData("run", "--json", "cannot write JSON to '': the path is empty")]
    [InlineData("run", "--trace", "cannot write the trace to '': the path is empty")]
    [InlineData("run", "--report", "cannot write the report to '': the path is empty")]
    public void An_empty_path_exits_2_naming_it_before_any_run(string command, string option, string message)
    {
        var (exit, stdout, stderr) = option.Length == 0 ? CommandLine.Invoke(command, "") : CommandLine.Invoke(command, option, "");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout); // refused before the run, not after it
        Assert.Equal($"faultline run: {message}", OneLine(stderr));
    }

    [Fact]
    public void An_output_that_cannot_be_created_exits_2_before_the_run()
    {
        var missing = Path.Combine(Path.GetTempPath(), $"faultline-{Guid.NewGuid():N}", "out.json");
        var (exit, stdout, stderr) = CommandLine.Invoke("run", "--json", missing);
        Assert.Equal((ExitCodes.BadInput, ""), (exit, stdout));
        Assert.EndsWith("does not exist", OneLine(stderr), StringComparison.Ordinal);

        (exit, stdout, stderr) = CommandLine.Invoke("run", "--report", Path.GetTempPath());
        Assert.Equal((ExitCodes.BadInput, ""), (exit, stdout));
        Assert.EndsWith("it is a directory", OneLine(stderr), StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_as_the_scenario_is_said_to_be_one_not_access_denied()
    {
        var (exit, _, stderr) = CommandLine.Invoke("run", Path.GetTempPath());
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("is a directory", OneLine(stderr), StringComparison.Ordinal);
    }

    [Fact]
    public void An_endless_scenario_file_exits_2_at_the_file_size_limit()
    {
        if (!File.Exists("/dev/zero")) return; // Linux and macOS
        var (exit, _, stderr) = CommandLine.Invoke("run", "/dev/zero");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("faultline run: /dev/zero:1:1: (file): more than 16777216 bytes, over the 'file_size' limit of 16777216", OneLine(stderr));
    }

    [Theory]
    [InlineData("name: [\nx\n", "2:1: (syntax)")]
    [InlineData("a: &a [x, x]\nb: &b [*a, *a]\n? *b\n: 1\n", "3:3: (key): a key is a name written out, not an alias")]
    public void A_hostile_scenario_file_exits_2_with_one_located_line(string text, string located) => RunsToOneLocatedLine(text, located);

    [Fact]
    public void A_time_limit_of_NaN_exits_2_at_its_place_instead_of_a_run_stopped_at_0() =>
        RunsToOneLocatedLine(Simulation.Scenarios.Single().Replace("name: single", "name: single\ntime_limit: NaN", StringComparison.Ordinal),
            "2:13: time_limit: expected a duration such as 250ns, 2us or 1ms, got 'NaN'");

    private static void RunsToOneLocatedLine(string text, string located)
    {
        var file = Path.Combine(Path.GetTempPath(), $"faultline-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(file, text);
        try
        {
            var (exit, stdout, stderr) = CommandLine.Invoke("run", file);
            Assert.Equal((ExitCodes.BadInput, ""), (exit, stdout));
            Assert.StartsWith($"faultline run: {file}:{located}", OneLine(stderr), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_value_with_a_newline_quoted_from_a_scenario_is_printed_escaped_on_one_line() =>
        RunsToOneLocatedLine(Simulation.Scenarios.Single().Replace("iommu: dmar0", "iommu: \"dmar\\n9\"", StringComparison.Ordinal),
            "10:40: devices[0].iommu: 'dmar\\n9' is not one of: dmar0");

    [Theory]
    [InlineData("-h", "'h' at position 2")]
    [InlineData("-?", "'?' at position 2")]
    [InlineData("-h0102", "'h' at position 2")]
    [InlineData("--help", "'h' at position 3")]
    [InlineData("/?", "'/' at position 1")]
    public void Decode_hex_that_looks_like_an_option_is_hex_not_help(string hex, string problem)
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", Record, hex);
        Assert.Equal((ExitCodes.BadInput, ""), (exit, stdout));
        Assert.Equal($"faultline decode {Record}: bad hex: {problem} is not a hex digit", OneLine(stderr));
    }

    [Fact]
    public void Decode_hex_starting_with_at_is_hex_never_a_response_file()
    {
        var file = Path.Combine(Path.GetTempPath(), $"faultline-{Guid.NewGuid():N}.rsp");
        File.WriteAllText(file, CommandLine.Hex(0x01, 0, 0, 0)); // a valid record: it would decode if the file were read
        try
        {
            var (exit, stdout, stderr) = CommandLine.Invoke("decode", Record, "@" + file);
            Assert.Equal((ExitCodes.BadInput, ""), (exit, stdout));
            Assert.Equal($"faultline decode {Record}: bad hex: '@' at position 1 is not a hex digit", OneLine(stderr));

            (exit, _, stderr) = CommandLine.Invoke("run", "@" + file); // nor a scenario's path
            Assert.Equal(ExitCodes.BadInput, exit);
            Assert.StartsWith($"faultline run: cannot read scenario '@{file}'", OneLine(stderr), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Help_and_hex_after_a_double_dash_still_work()
    {
        var (exit, stdout, _) = CommandLine.Invoke("decode", "--help");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("Print the fields of a hardware or kernel record", stdout, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Ok, CommandLine.Invoke("decode", Record, "--", "-" + CommandLine.Hex(0x01, 0, 0, 0)).Exit);
        Assert.Equal(ExitCodes.Ok, CommandLine.Invoke("--debug", "decode", Record, "-" + CommandLine.Hex(0x01, 0, 0, 0)).Exit);
    }

    [Theory]
    [InlineData("0x0g", "'g' at position 4")]
    [InlineData("  0x01zz", "'z' at position 7")]
    [InlineData("\t01 02 x", "'x' at position 8")]
    [InlineData("01\u000102", "U+0001 at position 3")]
    public void Hex_errors_count_positions_in_the_text_as_given(string hex, string problem)
    {
        var (exit, _, stderr) = CommandLine.Invoke("decode", Record, hex);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal($"faultline decode {Record}: bad hex: {problem} is not a hex digit", OneLine(stderr));
    }

    [Theory]
    [InlineData(new[] { "decode", "vtd\npage", "00" }, "'vtd\\npage'")]
    [InlineData(new[] { "run", "a\nb.yaml" }, "'a\\nb.yaml'")]
    [InlineData(new[] { "fro\rb" }, "'fro\\rb'")]
    public void An_argument_with_a_control_character_is_quoted_escaped_on_one_line(string[] args, string quoted)
    {
        var (exit, _, stderr) = CommandLine.Invoke(args);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains(quoted, stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(args[^1], stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_bug_exits_3_with_one_line_and_its_stack_trace_only_under_debug(bool debug)
    {
        var stderr = new StringWriter();
        string[] args = [.. debug ? ["--debug"] : Array.Empty<string>(), "decode", Record, CommandLine.Hex(0x01, 0, 0, 0)];

        int exit = Program.Run(args, new FailingWriter(), stderr);

        Assert.Equal(ExitCodes.InternalError, exit);
        var lines = stderr.ToString().ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.StartsWith("faultline: internal error, a bug in Faultline: InvalidOperationException: the writer broke", lines[0], StringComparison.Ordinal);
        if (debug) Assert.Contains(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
        else Assert.Equal(["faultline: internal error, a bug in Faultline: InvalidOperationException: the writer broke (--debug prints the stack trace)"], lines);
    }

    /// <summary>The first and only line of <paramref name="stderr"/>.</summary>
    private static string OneLine(string stderr)
    {
        var lines = stderr.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        return lines[0];
    }

    private sealed class FailingWriter : StringWriter
    {
        public override void WriteLine(string? value) => throw new InvalidOperationException("the writer broke");
    }
}
