using System.Text;
using System.Text.Json;
using Faultline.Iommu.Amd;
using Faultline.Iommu.Smmuv3;
using Faultline.Iommu.Vtd;
using Faultline.Userspace;

namespace Faultline.Cli;

/// <summary><c>faultline decode RECORD HEX</c>: a hardware or kernel record's fields as JSON.</summary>
internal static class DecodeCommand
{
    private delegate DecodeError? Decoder(ReadOnlySpan<byte> bytes, Utf8JsonWriter json);

    private static readonly SortedDictionary<string, Decoder> Records = new(StringComparer.Ordinal)
    {
        ["vtd-page-request"] = (bytes, json) => Emit(PageRequestDescriptor.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["vtd-page-group-response"] = (bytes, json) => Emit(PageGroupResponseDescriptor.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["vtd-invalidation-wait"] = (bytes, json) => Emit(InvalidationWaitDescriptor.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["vtd-pasid-iotlb-invalidation"] = (bytes, json) => Emit(PasidIotlbInvalidationDescriptor.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["vtd-pasid-devtlb-invalidation"] = (bytes, json) => Emit(PasidDeviceTlbInvalidationDescriptor.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["vtd-iotlb-invalidation"] = (bytes, json) => Emit(IotlbInvalidationDescriptor.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["vtd-devtlb-invalidation"] = (bytes, json) => Emit(DeviceTlbInvalidationDescriptor.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["amd-ppr-entry"] = (bytes, json) => Emit(PprLogEntry.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["amd-complete-ppr"] = (bytes, json) => Emit(CompletePprRequestCommand.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["smmuv3-pri-entry"] = (bytes, json) => Emit(PriQueueEntry.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["smmuv3-pri-resp"] = (bytes, json) => Emit(PriResponseCommand.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["smmuv3-event"] = (bytes, json) => Emit(FaultEvent.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["smmuv3-resume"] = (bytes, json) => Emit(ResumeCommand.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["smmuv3-stall-term"] = (bytes, json) => Emit(StallTerminateCommand.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["iommufd-fault"] = (bytes, json) => Emit(PageFaultRecord.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["iommufd-response"] = (bytes, json) => Emit(PageResponseRecord.Decode(bytes), json, (d, j) => d.WriteJson(j)),
    };

    public static IEnumerable<string> RecordNames => Records.Keys;

    public static int Run(string record, string hex, TextWriter stdout, TextWriter stderr)
    {
        if (!Records.TryGetValue(record, out var decoder))
        {
            stderr.WriteLine($"faultline decode: unknown record '{record}'; known: {string.Join(", ", Records.Keys)}");
            return ExitCodes.BadInput;
        }
        if (!Hex.TryParse(hex, out var bytes, out var hexError))
        {
            stderr.WriteLine($"faultline decode {record}: bad hex: {hexError}");
            return ExitCodes.BadInput;
        }
        using var buffer = new MemoryStream();
        DecodeError? error;
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            error = decoder(bytes, json);
        if (error is { } e)
        {
            stderr.WriteLine($"faultline decode {record}: {e.Field}: {e.Message}");
            return ExitCodes.BadInput;
        }
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        return ExitCodes.Ok;
    }

    private static DecodeError? Emit<T>(DecodeResult<T> result, Utf8JsonWriter json, Action<T, Utf8JsonWriter> write) where T : struct
    {
        if (!result.IsOk) return result.Error;
        write(result.Value, json);
        return null;
    }
}
