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
        ["smmuv3-sync"] = (bytes, json) => Emit(SyncCommand.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["smmuv3-cmd"] = DecodeSmmuv3Command,
        ["iommufd-fault"] = (bytes, json) => Emit(PageFaultRecord.Decode(bytes), json, (d, j) => d.WriteJson(j)),
        ["iommufd-response"] = (bytes, json) => Emit(PageResponseRecord.Decode(bytes), json, (d, j) => d.WriteJson(j)),
    };

    public static IEnumerable<string> RecordNames => Records.Keys;

    public static int Run(string record, string hex, TextWriter stdout, TextWriter stderr)
    {
        if (!Records.TryGetValue(record, out var decoder))
        {
            ErrorLine.Write(stderr, $"faultline decode: unknown record '{record}'; known: {string.Join(", ", Records.Keys)}");
            return ExitCodes.BadInput;
        }
        if (!Hex.TryParse(hex, out var bytes, out var hexError))
        {
            ErrorLine.Write(stderr, $"faultline decode {record}: bad hex: {hexError}");
            return ExitCodes.BadInput;
        }
        using var buffer = new MemoryStream();
        DecodeError? error;
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
            error = decoder(bytes, json);
        if (error is { } e)
        {
            ErrorLine.Write(stderr, $"faultline decode {record}: {e.Field}: {e.Message}");
            return ExitCodes.BadInput;
        }
        stdout.WriteLine(Encoding.UTF8.GetString(buffer.ToArray()));
        return ExitCodes.Ok;
    }

    /// <summary>Any SMMUv3 command the model executes, chosen by its opcode (DW0 bits 7:0).</summary>
    private static DecodeError? DecodeSmmuv3Command(ReadOnlySpan<byte> bytes, Utf8JsonWriter json)
    {
        if (bytes.Length != Smmuv3Command.Size) return new DecodeError("length", $"{bytes.Length} bytes, an SMMUv3 command is {Smmuv3Command.Size}");
        byte opcode = Smmuv3Command.OpcodeOf(bytes).Value;
        string? record = opcode switch
        {
            Smmuv3Command.PriResponseOpcode => "smmuv3-pri-resp",
            Smmuv3Command.ResumeOpcode => "smmuv3-resume",
            Smmuv3Command.StallTerminateOpcode => "smmuv3-stall-term",
            Smmuv3Command.SyncOpcode => "smmuv3-sync",
            _ => null,
        };
        return record is null
            ? new DecodeError("opcode", $"0x{opcode:x2} is not a command Faultline models: CMD_PRI_RESP 0x41, CMD_RESUME 0x44, CMD_STALL_TERM 0x45, CMD_SYNC 0x46")
            : Records[record](bytes, json);
    }

    private static DecodeError? Emit<T>(DecodeResult<T> result, Utf8JsonWriter json, Action<T, Utf8JsonWriter> write) where T : struct
    {
        if (!result.IsOk) return result.Error;
        write(result.Value, json);
        return null;
    }
}
