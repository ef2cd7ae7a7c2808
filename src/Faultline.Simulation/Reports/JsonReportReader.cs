using System.Text.Json;

namespace Faultline.Simulation;

/// <summary>A JSON report that cannot be read: <see cref="Exception.Message"/> is one line, "FILE:LINE:COLUMN: what".</summary>
public sealed class ReportFormatException(string message) : Exception(message);

/// <summary>
/// Reads back the JSON report <see cref="JsonReportWriter"/> writes (<c>faultline run --json</c>), for
/// <c>faultline compare</c>. Fields it does not know are skipped, so a report from a build with more statistics
/// still reads; a field it needs that is missing, null or of the wrong type is an error that says where.
/// </summary>
public static class JsonReportReader
{
    // The writer's naming; strict about what a report must hold.
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) }, // as the writer names enums
    };

    /// <summary>The report in the file at <paramref name="path"/>.</summary>
    /// <exception cref="ReportFormatException">The file is no JSON report; the message names the place.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static RunReport Read(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>The report in <paramref name="json"/>; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="ReportFormatException">The bytes are no JSON report; the message names the place.</exception>
    public static RunReport Parse(ReadOnlySpan<byte> json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<RunReport>(json, Options) ?? throw new ReportFormatException($"{source}:1:1: the report is null, not an object");
        }
        catch (JsonException e)
        {
            // The runtime's messages end with where it was ("Path: $.x | LineNumber: 0 | ..."); the place goes first instead.
            string what = e.Message;
            int cut = what.IndexOf(" Path: ", StringComparison.Ordinal);
            if (cut > 0) what = what[..cut];
            string path = e.Path is { Length: > 1 } p ? $" (at {p})" : "";
            throw new ReportFormatException($"{source}:{(e.LineNumber ?? 0) + 1}:{(e.BytePositionInLine ?? 0) + 1}: not a faultline JSON report: {what.TrimEnd('.')}{path}");
        }
    }
}
