using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>The run report as JSON, fields in a fixed order so equal runs give equal bytes.</summary>
public static class JsonReportWriter
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        // Enums by name (the resolved scenario's IOMMU types, guest behaviours, distribution families...).
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    public static string Serialize(RunReport report) => JsonSerializer.Serialize(report, Options) + "\n";

    public static void Write(RunReport report, string path) => File.WriteAllText(path, Serialize(report));
}
