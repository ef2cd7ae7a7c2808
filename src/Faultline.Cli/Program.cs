using System.CommandLine;

namespace Faultline.Cli;

public static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>The whole command, with its output streams injectable for tests.</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var scenario = new Argument<string?>("scenario") { Arity = ArgumentArity.ZeroOrOne, Description = "Scenario YAML file; the built-in default when omitted" };
        var seed = new Option<ulong?>("--seed") { Description = "Seed for every random choice (overrides the scenario's)" };
        var policy = new Option<string?>("--policy") { Description = "Host policy: hardened (default) or linux (overrides the scenario's)" };
        policy.AcceptOnlyFromAmong("linux", "hardened");
        var json = new Option<string?>("--json") { Description = "Also write the report as JSON to this file" };
        var trace = new Option<string?>("--trace") { Description = "Also write a trace of the run (Chrome trace-event JSON) that Perfetto opens" };
        var report = new Option<string?>("--report") { Description = "Also write an HTML report with plots (latency, queues, stall buffer, tenants) to this file" };
        var ftrace = new Option<string?>("--ftrace") { Description = "Also write the run as ftrace text, in the kernel's tracepoint and log formats (docs/traces.md)" };
        var run = new Command("run", "Build the scenario's topology, run it in virtual time, check invariants, print a summary") { scenario, seed, policy, json, trace, report, ftrace };
        run.SetAction(r => RunCommand.Run(r.GetValue(scenario), r.GetValue(seed), r.GetValue(policy), r.GetValue(json), r.GetValue(trace), r.GetValue(report), stdout, stderr, r.GetValue(ftrace)));

        var record = new Argument<string>("record") { Description = $"One of: {string.Join(", ", DecodeCommand.RecordNames)}" };
        var hex = new Argument<string>("hex") { Description = "The record's bytes in memory order, as hex" };
        var decode = new Command("decode", "Print the fields of a hardware or kernel record as JSON") { record, hex };
        decode.SetAction(r => DecodeCommand.Run(r.GetValue(record)!, r.GetValue(hex)!, stdout, stderr));

        var root = new RootCommand("Faultline: a reference model of I/O page faults (PCIe PRI, IOMMU queues, host fault handling)") { run, decode, CheckCommand.Create(stdout, stderr), ReplayCommand.Create(stdout, stderr) };
        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) stderr.WriteLine($"faultline: {error.Message}");
            stderr.WriteLine("Try 'faultline --help'.");
            return ExitCodes.BadInput;
        }
        return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
    }
}
