using System.Buffers.Binary;
using Faultline.Iommu.Amd;
using Faultline.Iommu.Smmuv2;
using Faultline.Iommu.Smmuv3;
using Faultline.Iommu.Vtd;
using Faultline.Userspace;

namespace Faultline.Fuzz;

internal delegate DecodeResult<T> RecordDecoder<T>(ReadOnlySpan<byte> bytes) where T : struct;

/// <summary>
/// One codec of the core (DESIGN rule 3) on arbitrary bytes: it never throws, an error names a field in one line, and a
/// record it decodes encodes to bytes that decode to the same record.
/// </summary>
internal sealed class DecoderTarget<T>(string name, int size, RecordDecoder<T> decode, Action<T, byte[]> encode) : FuzzTarget where T : struct
{
    public override string Name => name;
    public override int MaxInput => 4 * size;

    public override IEnumerable<byte[]> Seeds()
    {
        var encoded = new byte[size];
        encode(default, encoded);
        return [encoded, new byte[size], [.. Enumerable.Repeat((byte)0xFF, size)]];
    }

    public override string Run(byte[] input)
    {
        var result = decode(input);
        if (!result.IsOk)
        {
            var error = result.Error!.Value;
            if (error.Field.Length == 0 || error.Message.Contains('\n', StringComparison.Ordinal))
                throw new FuzzFinding($"an error without a field, or not on one line: '{error.Field}': {error.Message}");
            return $"error:{error.Field}";
        }
        var again = new byte[size];
        encode(result.Value, again);
        var redecoded = decode(again);
        if (!redecoded.IsOk || !redecoded.Value.Equals(result.Value))
            throw new FuzzFinding($"decoded {result.Value}, encoded {Convert.ToHexString(again)}, which decodes to {(redecoded.IsOk ? redecoded.Value : redecoded.Error)}");
        return "ok";
    }
}

/// <summary>Every codec of the core, by the name <c>faultline decode</c> gives its record (SMMUv2 registers by theirs).</summary>
internal static class DecoderTargets
{
    public static IEnumerable<FuzzTarget> All() =>
    [
        Record<PageRequestDescriptor>("vtd-page-request", PageRequestDescriptor.Size, b => PageRequestDescriptor.Decode(b), (r, b) => r.Encode(b)),
        Record<PageGroupResponseDescriptor>("vtd-page-group-response", PageGroupResponseDescriptor.Size, PageGroupResponseDescriptor.Decode, (r, b) => r.Encode(b)),
        Record<InvalidationWaitDescriptor>("vtd-invalidation-wait", InvalidationWaitDescriptor.Size, InvalidationWaitDescriptor.Decode, (r, b) => r.Encode(b)),
        Record<PasidIotlbInvalidationDescriptor>("vtd-pasid-iotlb-invalidation", PasidIotlbInvalidationDescriptor.Size, PasidIotlbInvalidationDescriptor.Decode, (r, b) => r.Encode(b)),
        Record<PasidDeviceTlbInvalidationDescriptor>("vtd-pasid-devtlb-invalidation", PasidDeviceTlbInvalidationDescriptor.Size, PasidDeviceTlbInvalidationDescriptor.Decode, (r, b) => r.Encode(b)),
        Record<IotlbInvalidationDescriptor>("vtd-iotlb-invalidation", IotlbInvalidationDescriptor.Size, IotlbInvalidationDescriptor.Decode, (r, b) => r.Encode(b)),
        Record<DeviceTlbInvalidationDescriptor>("vtd-devtlb-invalidation", DeviceTlbInvalidationDescriptor.Size, DeviceTlbInvalidationDescriptor.Decode, (r, b) => r.Encode(b)),
        Record<PprLogEntry>("amd-ppr-entry", PprLogEntry.Size, b => PprLogEntry.Decode(b), (r, b) => r.Encode(b)),
        Record<CompletePprRequestCommand>("amd-complete-ppr", CompletePprRequestCommand.Size, CompletePprRequestCommand.Decode, (r, b) => r.Encode(b)),
        Record<PriQueueEntry>("smmuv3-pri-entry", PriQueueEntry.Size, PriQueueEntry.Decode, (r, b) => r.Encode(b)),
        Record<PriResponseCommand>("smmuv3-pri-resp", PriResponseCommand.Size, PriResponseCommand.Decode, (r, b) => r.Encode(b)),
        Record<FaultEvent>("smmuv3-event", FaultEvent.Size, FaultEvent.Decode, (r, b) => r.Encode(b)),
        Record<ResumeCommand>("smmuv3-resume", ResumeCommand.Size, ResumeCommand.Decode, (r, b) => r.Encode(b)),
        Record<StallTerminateCommand>("smmuv3-stall-term", StallTerminateCommand.Size, StallTerminateCommand.Decode, (r, b) => r.Encode(b)),
        Record<SyncCommand>("smmuv3-sync", SyncCommand.Size, SyncCommand.Decode, (r, b) => r.Encode(b)),
        Record<PageFaultRecord>("iommufd-fault", PageFaultRecord.Size, PageFaultRecord.Decode, (r, b) => r.Encode(b)),
        Record<PageResponseRecord>("iommufd-response", PageResponseRecord.Size, PageResponseRecord.Decode, (r, b) => r.Encode(b)),
        Register<Fsr>("smmuv2-fsr", Fsr.Decode, r => r.Encode()),
        Register<Fsynr0>("smmuv2-fsynr0", Fsynr0.Decode, r => r.Encode()),
        Register<Sctlr>("smmuv2-sctlr", Sctlr.Decode, r => r.Encode()),
        Register<Cbfrsynra>("smmuv2-cbfrsynra", Cbfrsynra.Decode, r => r.Encode()),
        Register<Resume>("smmuv2-resume", Resume.Decode, r => r.Encode()),
    ];

    private static DecoderTarget<T> Record<T>(string name, int size, RecordDecoder<T> decode, Action<T, byte[]> encode) where T : struct =>
        new(name, size, decode, encode);

    /// <summary>A 32-bit register as 4 little-endian bytes; any other length is the harness's "length" error.</summary>
    private static DecoderTarget<T> Register<T>(string name, Func<uint, DecodeResult<T>> decode, Func<T, uint> encode) where T : struct =>
        new(name, sizeof(uint),
            bytes => bytes.Length == sizeof(uint) ? decode(BinaryPrimitives.ReadUInt32LittleEndian(bytes)) : DecodeResult<T>.Fail("length", $"{bytes.Length} bytes, a register is 4"),
            (r, b) => BinaryPrimitives.WriteUInt32LittleEndian(b, encode(r)));
}
