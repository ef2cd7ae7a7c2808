using System.CommandLine;
using Faultline.Simulation;

namespace Faultline.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        // The first Ctrl-C stops a run at its next slice of events, which then writes what ran; a second one ends the process.
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            if (stop.IsCancellationRequested) return;
            e.Cancel = true;
            stop.Cancel();
        };
        return Run(args, Console.Out, Console.Error, simulate: true, Terminal.OfConsole(stop.Token));
    }

    /// <summary>The whole command, with its output streams injectable for tests; no terminal (<see cref="Terminal.None"/>).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, simulate: true);

    /// <inheritdoc cref="Run(string[], TextWriter, TextWriter, bool, Terminal)"/>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool simulate) => Run(args, stdout, stderr, simulate, Terminal.None);

    /// <summary>
    /// The command; with <paramref name="simulate"/> false, <c>run</c> binds its arguments, checks its paths and reads
    /// its scenario, then stops: the fuzz harness drives every input path without paying for runs.
    /// Exit codes: <see cref="ExitCodes"/>. Bad input of any kind is met where it is read and exits 2 with one line;
    /// an exception that reaches here is a Faultline bug and exits 3, its stack trace only under <c>--debug</c>.
    /// </summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool simulate, Terminal terminal)
    {
        var debug = new Option<bool>("--debug") { Recursive = true, Description = "On an internal error (exit 3), also print its stack trace" };
        var scenario = new Argument<string?>("scenario") { Arity = ArgumentArity.ZeroOrOne, Description = "Scenario YAML file; the built-in default when omitted" };
        // An unknown option lands here as the scenario's path (issue 13: `run --bogus` read a file named --bogus).
        scenario.Validators.Add(r =>
        {
            if (r.Tokens is [{ Value: ['-', _, ..] name }]) r.AddError($"unknown option '{name}' (a scenario file whose name starts with '-' is written ./{name})");
        });
        var seed = new Option<ulong?>("--seed") { HelpName = "N", Description = "Seed for every random choice (overrides the scenario's)", CustomParser = r => WholeNumber(r, ulong.MaxValue) is { } n ? n : null };
        var policy = new Option<string?>("--policy") { HelpName = "linux|hardened[,...]", Description = "Host policy: hardened (default) or linux (overrides the scenario's); several, comma-separated, run one after the other and --report compares them on one page" };
        policy.Validators.Add(r =>
        {
            foreach (var name in r.Tokens.SelectMany(t => t.Value.Split(',')).Where(n => n is not ("linux" or "hardened")))
                r.AddError($"--policy: '{name}' is not one of: linux, hardened");
        });
        var kernel = new Option<string?>("--kernel") { HelpName = KernelOption.HelpName, Description = KernelOption.Description };
        const string Dash = " ('-': standard output, the summary then goes to standard error)";
        var json = new Option<string?>("--json") { HelpName = "FILE", Description = "Also write the report as JSON to this file" + Dash };
        var trace = new Option<string?>("--trace") { HelpName = "FILE", Description = "Also write a trace of the run (Chrome trace-event JSON) that Perfetto opens; gzip when FILE ends in .gz" + Dash };
        var traceFilter = new Option<string?>("--trace-filter") { HelpName = "TERMS", Description = $"Keep only these in the trace: comma-separated categories ({string.Join(", ", Simulation.TraceFilter.Categories)}) and device=NAME terms" };
        var report = new Option<string?>("--report") { HelpName = "FILE", Description = "Also write an HTML report with plots (latency, queues, stall buffer, tenants) to this file" + Dash };
        var ftrace = new Option<string?>("--ftrace") { HelpName = "FILE", Description = "Also write the run as ftrace text, in the kernel's tracepoint and log formats (docs/traces.md)" + Dash };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print no summary (errors still go to standard error; the exit code says whether invariants held)" };
        var section = new Option<string[]>("--section") { HelpName = "NAME", Description = $"Print only this section of the summary (repeatable): {string.Join(", ", SummaryWriter.Sections)}", Arity = ArgumentArity.OneOrMore, AllowMultipleArgumentsPerToken = false };
        OneOf(section, SummaryWriter.Sections);
        var width = new Option<int?>("--width") { HelpName = "N", Description = $"Fit the summary in N columns (default: the terminal's, else COLUMNS, else {Terminal.DefaultWidth})", CustomParser = r => WholeNumber(r, 100_000, RunOptions.MinWidth) is { } n ? (int)n : null };
        var rows = new Option<int?>("--rows") { HelpName = "N", Description = $"Print at most N rows per summary table, counting the rest (default {RunOptions.DefaultRows}; 0: all)", CustomParser = r => WholeNumber(r, int.MaxValue) is { } n ? (int)n : null };
        var set = new Option<string[]>("--set") { HelpName = "PATH=VALUE", Description = "Set a scenario value before it is read, e.g. iommus[0].prq_order=6 (repeatable; docs/sweeps.md)" };
        var limit = new Option<string[]>("--limit") { HelpName = "NAME=N", Description = $"Raise (or lower) one of the reader's limits for this scenario (repeatable): {string.Join(", ", ScenarioLimits.Names)} (docs/scenarios.md, \"Limits\")" };
        limit.Validators.Add(r =>
        {
            foreach (var token in r.Tokens)
                if (RunOptions.ParseLimit(token.Value, ScenarioLimits.Default) is { Error: { } error }) r.AddError($"--limit {token.Value}: {error}");
        });
        var run = new Command("run", "Build the scenario's topology, run it in virtual time, check invariants, print a summary") { scenario, set, limit, seed, policy, kernel, json, trace, traceFilter, report, ftrace, quiet, section, width, rows };
        run.SetAction(r => RunCommand.Run(new RunOptions
        {
            Scenario = r.GetValue(scenario),
            Seed = r.GetValue(seed),
            Policy = r.GetValue(policy),
            Kernel = r.GetValue(kernel),
            Json = r.GetValue(json),
            Trace = r.GetValue(trace),
            TraceFilter = r.GetValue(traceFilter),
            Report = r.GetValue(report),
            Ftrace = r.GetValue(ftrace),
            Quiet = r.GetValue(quiet),
            Sections = r.GetValue(section) ?? [],
            Width = r.GetValue(width),
            Rows = r.GetValue(rows) ?? RunOptions.DefaultRows,
            Overrides = r.GetValue(set) ?? [],
            Limits = (r.GetValue(limit) ?? []).Aggregate(ScenarioLimits.Default, (limits, token) => RunOptions.ParseLimit(token, limits).Limits!),
        }, stdout, stderr, terminal, simulate));

        var record = new Argument<string>("record") { Description = $"One of: {string.Join(", ", DecodeCommand.RecordNames)}" };
        var hex = new Argument<string>("hex") { Description = "The record's bytes in memory order, as hex" };
        var decode = new Command("decode", "Print the fields of a hardware or kernel record as JSON") { record, hex };
        decode.SetAction(r => DecodeCommand.Run(r.GetValue(record)!, r.GetValue(hex)!, stdout, stderr));

        var root = new RootCommand("Faultline: a reference model of I/O page faults (PCIe PRI, IOMMU queues, host fault handling)") { run, decode, CheckCommand.Create(stdout, stderr), ReplayCommand.Create(stdout, stderr), SweepCommand.Create(stdout, stderr), SizeCommand.Create(stdout, stderr), CompareCommand.Create(stdout, stderr) };
        root.Options.Add(debug);
        ParseResult parsed;
        try
        {
            // No response files: an argument starting with '@' is the argument, never a file's contents (issue 14).
            parsed = root.Parse(DecodeHexAsData(args), new ParserConfiguration { ResponseFileTokenReplacer = null });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            ErrorLine.Write(stderr, $"faultline: cannot parse the command line: {e.Message}");
            return ExitCodes.BadInput;
        }
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) ErrorLine.Write(stderr, $"faultline: {error.Message}");
            stderr.WriteLine("Try 'faultline --help'.");
            return ExitCodes.BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false, // it printed a stack trace and exited 1, the code for broken invariants
                ProcessTerminationTimeout = null, // Ctrl+C ends the process as usual
            });
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            bool stackTrace = parsed.GetValue(debug);
            ErrorLine.Write(stderr, $"faultline: internal error, a bug in Faultline: {e.GetType().Name}: {e.Message}{(stackTrace ? "" : " (--debug prints the stack trace)")}");
            if (stackTrace) stderr.WriteLine(e);
            return ExitCodes.InternalError;
        }
    }

    /// <summary>Values only from <paramref name="names"/>, a wrong one said on one line (AcceptOnlyFromAmong's message spans several).</summary>
    private static void OneOf(Option option, IReadOnlyList<string> names)
    {
        option.Validators.Add(r =>
        {
            foreach (var token in r.Tokens.Where(t => !names.Contains(t.Value)))
                r.AddError($"{option.Name}: '{token.Value}' is not one of: {string.Join(", ", names)}");
        });
    }

    /// <summary>The option's value as a whole number from <paramref name="min"/> to <paramref name="max"/>, or null with an error in words (issue 13: `--seed abc` named a .NET type).</summary>
    private static ulong? WholeNumber(System.CommandLine.Parsing.ArgumentResult r, ulong max, ulong min = 0)
    {
        string text = r.Tokens.Count == 1 ? r.Tokens[0].Value : "";
        if (ulong.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out ulong n) && n >= min && n <= max) return n;
        r.AddError($"{((System.CommandLine.Parsing.OptionResult)r.Parent!).Option.Name}: '{text}' is not a whole number from {min} to {max}");
        return null;
    }

    /// <summary>
    /// decode's HEX is data whatever it starts with: before the token after the record, a "--" when that token could
    /// pass for an option or a response file ("-h…", "-?…", "/?", "@…"), which printed help or read a file (issue 14).
    /// </summary>
    private static string[] DecodeHexAsData(string[] args)
    {
        int command = Array.FindIndex(args, a => !a.StartsWith('-'));
        if (command < 0 || args[command] != "decode") return args;
        int record = Array.FindIndex(args, command + 1, a => !a.StartsWith('-'));
        if (record < 0 || record + 1 >= args.Length) return args;
        string hex = args[record + 1];
        bool optionLike = hex.StartsWith('-') || hex.StartsWith('@') || hex.StartsWith('/');
        return optionLike && hex != "--" ? [.. args[..(record + 1)], "--", .. args[(record + 1)..]] : args;
    }
}
