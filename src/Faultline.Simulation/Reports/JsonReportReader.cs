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
            string path = e.Path is { Length: > 1 } p ? $" (at {p})" : "";
            throw new ReportFormatException($"{source}:{(e.LineNumber ?? 0) + 1}:{(e.BytePositionInLine ?? 0) + 1}: not a faultline JSON report: {Describe(e.Message)}{path}");
        }
    }

    /// <summary>
    /// The runtime's message in the report's terms: it names .NET types ("could not be converted to System.Int64",
    /// "for type 'Faultline.Simulation.RunReport' was missing required properties") and ends with where it was
    /// ("Path: $.x | LineNumber: 0 | ..."), which the caller puts first instead.
    /// </summary>
    private static string Describe(string message)
    {
        int cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        string what = (cut > 0 ? message[..cut] : message).TrimEnd('.');
        const string Missing = "missing required properties including: ";
        int missing = what.IndexOf(Missing, StringComparison.Ordinal);
        if (missing >= 0) return $"required fields missing: {what[(missing + Missing.Length)..]}";
        const string Converted = "could not be converted to ";
        int converted = what.IndexOf(Converted, StringComparison.Ordinal);
        if (converted >= 0) return $"the value is not {JsonKind(what[(converted + Converted.Length)..])}";
        return what;
    }

    private static string JsonKind(string type) => type switch
    {
        "System.String" => "a string",
        "System.Boolean" => "true or false",
        "System.Int32" or "System.Int64" or "System.UInt32" or "System.UInt64" => "an integer",
        "System.Double" or "System.Single" or "System.Decimal" => "a number",
        _ when type.Contains("List", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal) => "an array",
        _ when type.StartsWith("System.Nullable", StringComparison.Ordinal) => "a value of the expected kind",
        _ => "an object",
    };
}
