using System.CommandLine;
using Faultline.Simulation.Traces;

namespace Faultline.Cli;

/// <summary><c>faultline check TRACE [--json FILE]</c>: protocol violations in a captured (or simulated) kernel trace.</summary>
internal static class CheckCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var trace = new Argument<string>("trace") { Description = "The capture: /sys/kernel/tracing/trace text, 'trace-cmd report' output, or a kernel log; '-' reads standard input" };
        var json = new Option<string?>("--json") { Description = "Also write the findings as JSON to this file" };
        var check = new Command("check", "Rebuild page request groups and responses from a kernel trace and report protocol violations (exit 1 if any)") { trace, json };
        check.SetAction(r => Run(r.GetValue(trace)!, r.GetValue(json), stdout, stderr));
        return check;
    }

    public static int Run(string tracePath, string? jsonPath, TextWriter stdout, TextWriter stderr)
    {
        CheckReport report;
        try
        {
            using var input = tracePath == "-" ? Console.In : new StreamReader(tracePath, detectEncodingFromByteOrderMarks: true);
            report = TraceChecker.Check(input);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"faultline check: cannot read '{tracePath}': {e.Message}");
            return ExitCodes.BadInput;
        }
        CheckReportWriter.Write(report, stdout);
        if (jsonPath is not null)
        {
            try
            {
                File.WriteAllText(jsonPath, CheckReportWriter.Serialize(report));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"faultline check: cannot write JSON to '{jsonPath}': {e.Message}");
                return ExitCodes.BadInput;
            }
        }
        if (report.ReadError is not null || (report.Events + report.LogLines == 0 && report.Malformed > 0))
        {
            stderr.WriteLine($"faultline check: '{tracePath}' is not a trace this command reads{(report.ReadError is { } error ? $": {error}" : "")}");
            return ExitCodes.BadInput;
        }
        return report.HasViolations ? ExitCodes.InvariantsBroken : ExitCodes.Ok;
    }
}
