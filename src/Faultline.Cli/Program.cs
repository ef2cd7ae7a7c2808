using System.CommandLine;

namespace Faultline.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The whole command, with its output streams injectable for tests.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr, simulate: true);

    /// <summary>
    /// The command; with <paramref name="simulate"/> false, <c>run</c> binds its arguments, checks its paths and reads
    /// its scenario, then stops: the fuzz harness drives every input path without paying for runs.
    /// Exit codes: <see cref="ExitCodes"/>. Bad input of any kind is met where it is read and exits 2 with one line;
    /// an exception that reaches here is a Faultline bug and exits 3, its stack trace only under <c>--debug</c>.
    /// </summary>
    internal static int Run(string[] args, TextWriter stdout, TextWriter stderr, bool simulate)
    {
        var debug = new Option<bool>("--debug") { Recursive = true, Description = "On an internal error (exit 3), also print its stack trace" };
        var scenario = new Argument<string?>("scenario") { Arity = ArgumentArity.ZeroOrOne, Description = "Scenario YAML file; the built-in default when omitted" };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for every random choice (overrides the scenario's)" };
        var policy = new Option<string?>("--policy") { Description = "Host policy: hardened (default) or linux (overrides the scenario's)" };
        policy.AcceptOnlyFromAmong("linux", "hardened");
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file" };
        var trace = new Option<string?>("--trace") { Description = "Also write a trace of the run (Chrome trace-event JSON) that Perfetto opens; gzip when FILE ends in .gz" };
        var traceFilter = new Option<string?>("--trace-filter") { Description = $"Keep only these in the trace: comma-separated categories ({string.Join(", ", Simulation.TraceFilter.Categories)}) and device=NAME terms" };
        var report = new Option<string?>("--report") { Description = "Also write an HTML report with plots (latency, queues, stall buffer, tenants) to this file" };
        var ftrace = new Option<string?>("--ftrace") { Description = "Also write the run as ftrace text, in the kernel's tracepoint and log formats (docs/traces.md)" };
        var run = new Command("run", "Build the scenario's topology, run it in virtual time, check invariants, print a summary") { scenario, seed, policy, json, trace, traceFilter, report, ftrace };
        run.SetAction(r => RunCommand.Run(r.GetValue(scenario), r.GetValue(seed), r.GetValue(policy), r.GetValue(json), r.GetValue(trace), r.GetValue(report), stdout, stderr, simulate, r.GetValue(ftrace), r.GetValue(traceFilter)));

        var record = new Argument<string>("record") { Description = $"One of: {string.Join(", ", DecodeCommand.RecordNames)}" };
        var hex = new Argument<string>("hex") { Description = "The record's bytes in memory order, as hex" };
        var decode = new Command("decode", "Print the fields of a hardware or kernel record as JSON") { record, hex };
        decode.SetAction(r => DecodeCommand.Run(r.GetValue(record)!, r.GetValue(hex)!, stdout, stderr));

        var root = new RootCommand("Faultline: a reference model of I/O page faults (PCIe PRI, IOMMU queues, host fault handling)") { run, decode, CheckCommand.Create(stdout, stderr), ReplayCommand.Create(stdout, stderr), CompareCommand.Create(stdout, stderr) };
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
