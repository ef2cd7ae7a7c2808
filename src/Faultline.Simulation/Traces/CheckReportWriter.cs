using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Faultline.Simulation.Traces;

/// <summary><c>faultline check</c>'s output: a summary for people, JSON for tools.</summary>
public static class CheckReportWriter
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>How many findings the summary lists; the JSON has every one kept.</summary>
    public const int FindingsShown = 20;

    public static string Serialize(CheckReport report) => JsonSerializer.Serialize(report, Options) + "\n";

    public static void Write(CheckReport report, TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"faultline check: {report.Lines} lines, {report.Events} events, {report.LogLines} log lines, {report.Malformed} malformed") +
            (report.Malformed > 0 ? $" (first at line {string.Join(", ", report.MalformedAt.Take(5))})" : "") +
            (report.Reordered > 0 ? string.Create(inv, $", {report.Reordered} out of time order") : "") + (report.LateLines > 0 ? string.Create(inv, $" ({report.LateLines} beyond the reorder window)") : ""));
        if (report.ReadError is { } error) output.WriteLine(string.Create(inv, $"read stopped early: {error}"));

        if (report.Devices.Count > 0)
        {
            output.WriteLine("Devices");
            var table = new TextTable("device", "iommu", "requests", "groups", "success", "invalid", "failure", "unanswered", "uprgi", "non-last", "p50", "p99", "max");
            foreach (var d in report.Devices)
                table.Add(d.Name, d.Iommu.Length > 0 ? d.Iommu : "-", N(d.PageRequests), N(d.Groups), N(d.ResponsesSuccess), N(d.ResponsesInvalid), N(d.ResponsesFailure),
                    N(d.Unanswered), N(d.UnexpectedResponses), N(d.NonLastResponses), Time(d.Latency.P50Ns), Time(d.Latency.P99Ns), Time(d.Latency.MaxNs));
            table.Write(output);
        }
        if (report.Iommus.Count > 0)
        {
            output.WriteLine("IOMMUs");
            var table = new TextTable("iommu", "kind", "requests", "responses", "seq-gaps", "overflows", "cleared", "drains", "drains-bad");
            foreach (var i in report.Iommus)
                table.Add(i.Name.Length > 0 ? i.Name : "-", i.Kind.Length > 0 ? i.Kind : "-", N(i.PageRequests), N(i.Responses), N(i.SequenceGaps),
                    N(i.Overflows), N(i.OverflowsCleared), N(i.Drains), N(i.DrainsOutOfOrder));
            table.Write(output);
        }
        if (report.Findings.Count > 0)
        {
            output.WriteLine("Findings");
            foreach (var f in report.Findings.OrderByDescending(f => f.Violation).Take(FindingsShown))
                output.WriteLine(string.Create(inv, $"  {(f.Violation ? "VIOLATION" : "warning")} {f.Rule} {f.Device} line {f.Line} ({Time(f.TimeNs)}): {f.Message}"));
            if (report.Findings.Count > FindingsShown) output.WriteLine(string.Create(inv, $"  ... {report.Findings.Count - FindingsShown} more kept in --json"));
        }
        output.WriteLine(report.HasViolations
            ? "Violations: " + string.Join(", ", report.ViolationCounts.Select(kv => string.Create(inv, $"{kv.Key} ×{kv.Value}")))
            : string.Create(inv, $"Violations: none ({report.Warnings} warnings)"));
    }

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A duration or time stamp with its unit: ns, µs, ms or s.</summary>
    private static string Time(long ns) => ns switch
    {
        < 10_000 => string.Create(CultureInfo.InvariantCulture, $"{ns}ns"),
        < 10_000_000 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1000.0:0.#}us"),
        < 10_000_000_000 => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e6:0.###}ms"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{ns / 1e9:0.######}s"),
    };
}
