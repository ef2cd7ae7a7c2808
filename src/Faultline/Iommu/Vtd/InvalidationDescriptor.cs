using System.Buffers.Binary;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// What every invalidation-queue descriptor shares: its 7-bit type, QW0 bits 3:0 (type low) and
/// bits 11:9 (type high, type bits 6:4), so a queue model can dispatch before decoding the record.
/// The split follows QEMU's <c>VTD_INV_DESC_TYPE(val)</c> = <c>((val &gt;&gt; 5) &amp; 0x70) | (val &amp; 0xf)</c>
/// (hw/i386/intel_iommu_internal.h); Linux writes only type-low values (<c>QI_*_TYPE</c> 0x1–0xa,
/// drivers/iommu/intel/iommu.h), so type high is 0 for every descriptor it submits.
/// </summary>
public static class InvalidationDescriptor
{
    /// <summary>Scalable-mode (256-bit) descriptor size; Linux <c>qi_shift</c> = DMAR_IQ_SHIFT + 1 when ECAP.SMTS.</summary>
    public const int Size = 32;

    /// <summary>The 7-bit type of the descriptor whose first quadword is <paramref name="qw0"/>.</summary>
    public static byte TypeOf(ulong qw0) => (byte)(((qw0 >> 5) & 0x70) | (qw0 & 0xF));

    /// <summary>
    /// The 7-bit type of the descriptor in <paramref name="bytes"/> (QW0 little-endian first). Needs only
    /// QW0, so a 16-byte legacy descriptor works too; fewer than 8 bytes fail with field "length".
    /// </summary>
    public static DecodeResult<byte> TypeOf(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < sizeof(ulong))
            return DecodeResult<byte>.Fail("length", $"{bytes.Length} bytes, the type lies in QW0 (8 bytes)");
        return TypeOf(BinaryPrimitives.ReadUInt64LittleEndian(bytes));
    }

    /// <summary>The "type" error of a decoder expecting <paramref name="type"/> (type high 0), or null when QW0 has it.</summary>
    internal static DecodeError? TypeError(ulong qw0, byte type, string record) =>
        TypeOf(qw0) == type
            ? null
            : new DecodeError("type", $"QW0[3:0] = 0x{qw0 & 0xF:x}, QW0[11:9] = 0x{(qw0 >> 9) & 0x7:x}; {record} has type 0x{type:x} with type-high 0");

    /// <summary>
    /// The "reserved" error when QW2 or QW3 of a 32-byte descriptor is not 0, or null. Every descriptor the
    /// drain uses, PASID-based or not, is a 128-bit one whose upper half is reserved in a scalable-mode queue:
    /// QEMU's reserved masks for QW2 and QW3 are <c>VTD_INV_DESC_ALL_ONE</c> for each of them.
    /// </summary>
    internal static DecodeError? UpperHalfError(ReadOnlySpan<byte> bytes)
    {
        ulong qw2 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]);
        ulong qw3 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]);
        return (qw2 | qw3) == 0 ? null : new DecodeError("reserved", $"QW2 = 0x{qw2:x16}, QW3 = 0x{qw3:x16} are reserved, must be 0");
    }
}
