using System.CommandLine;
using Faultline.Simulation;

namespace Faultline.Cli;

/// <summary><c>faultline compare A.json B.json [...] [--report FILE]</c>: runs side by side, from their JSON reports (<c>run --json</c>).</summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var reports = new Argument<string[]>("reports") { Arity = ArgumentArity.OneOrMore, Description = "JSON reports written by 'faultline run --json'; the first is the base of the deltas" };
        var report = new Option<string?>("--report") { Description = "Also write one HTML page comparing the runs, on shared axes" };
        var compare = new Command("compare", "Compare runs from their JSON reports: success rates and their deltas, and an HTML page with --report") { reports, report };
        compare.SetAction(r => Run(r.GetValue(reports)!, r.GetValue(report), stdout, stderr));
        return compare;
    }

    public static int Run(IReadOnlyList<string> paths, string? reportPath, TextWriter stdout, TextWriter stderr)
    {
        if (reportPath is not null && Paths.OutputProblem(reportPath) is { } problem) return Fail(stderr, $"cannot write the report to '{reportPath}': {problem}");
        var runs = new List<RunReport>();
        foreach (string path in paths)
        {
            if (Paths.InputProblem(path) is { } inputProblem) return Fail(stderr, $"cannot read '{path}': {inputProblem}");
            try
            {
                runs.Add(JsonReportReader.Read(path));
            }
            catch (ReportFormatException e)
            {
                return Fail(stderr, e.Message);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail(stderr, $"cannot read '{path}': {e.Message}");
            }
        }
        ComparisonWriter.Write(runs, stdout);
        if (reportPath is null) return ExitCodes.Ok;
        try
        {
            HtmlReportWriter.WriteComparison(runs, reportPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(stderr, $"cannot write the report to '{reportPath}': {e.Message}");
        }
        return ExitCodes.Ok;
    }

    private static int Fail(TextWriter stderr, string message)
    {
        ErrorLine.Write(stderr, $"faultline compare: {message}");
        return ExitCodes.BadInput;
    }
}
