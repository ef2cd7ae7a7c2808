using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// The 32-byte VT-d Page Group Response Descriptor (invalidation queue type 9, vtd.md §3).
/// QW0: type 3:0 = 9, PASID present 4, private data present 5, type-high 11:9 = 0, response code
/// 15:12, RID 31:16, PASID 51:32. QW1: LPIG 2, PRG index 11:3. QW2–QW3: private data. The other
/// bits are reserved (QEMU's VTD_INV_DESC_PGRESP masks).
/// </summary>
public readonly record struct PageGroupResponseDescriptor(
    RequesterId Requester,
    bool PasidPresent,
    Pasid Pasid,
    ResponseCode Code,
    bool LastPageInGroup,
    PrgIndex Index,
    bool PrivateDataPresent = false,
    ulong PrivateData0 = 0,
    ulong PrivateData1 = 0)
{
    /// <summary>32 bytes: a scalable-mode (256-bit) descriptor.</summary>
    public const int Size = 32;
    /// <summary>Descriptor type 9, QW0 3:0 (Linux <c>QI_PGRP_RESP_TYPE</c>).</summary>
    public const byte Type = 0x9;

    private const ulong Qw0Reserved = (0x7UL << 6) | (0xFFFUL << 52);
    private const ulong Qw1Reserved = 0x3UL | ~0xFFFUL;

    /// <summary>Writes the 32 bytes little-endian, the private data in QW2 and QW3; reserved bits as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong qw0 = Type
            | (PasidPresent ? 1UL << 4 : 0)
            | (PrivateDataPresent ? 1UL << 5 : 0)
            | ((ulong)((byte)Code & ResponseCodes.FieldMask) << 12)
            | ((ulong)Requester.Value << 16)
            | ((ulong)(Pasid.Value & Pasid.Mask) << 32);
        ulong qw1 = (LastPageInGroup ? 4UL : 0) | ((ulong)(Index.Value & PrgIndex.Mask) << 3);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], qw1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], PrivateData0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], PrivateData1);
    }

    /// <summary>Reads exactly 32 bytes; fails on length, type, or a reserved bit set in QW0 or QW1. QW2 and QW3 are taken as private data.</summary>
    public static DecodeResult<PageGroupResponseDescriptor> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<PageGroupResponseDescriptor>.Fail("length", $"{bytes.Length} bytes, a page group response descriptor is {Size}");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        if (InvalidationDescriptor.TypeError(qw0, Type, "a page group response") is { } typeError)
            return DecodeResult<PageGroupResponseDescriptor>.Fail(typeError.Field, typeError.Message);
        if ((qw0 & Qw0Reserved) != 0)
            return DecodeResult<PageGroupResponseDescriptor>.Fail("reserved", $"QW0 reserved bits 8:6 / 63:52 are 0x{qw0 & Qw0Reserved:x16}, must be 0");
        if ((qw1 & Qw1Reserved) != 0)
            return DecodeResult<PageGroupResponseDescriptor>.Fail("reserved", $"QW1 reserved bits 1:0 / 63:12 are 0x{qw1 & Qw1Reserved:x16}, must be 0");
        return new PageGroupResponseDescriptor(
            new RequesterId((ushort)(qw0 >> 16)),
            (qw0 & (1UL << 4)) != 0,
            new Pasid((uint)(qw0 >> 32) & Pasid.Mask),
            ResponseCodes.FromWire((int)(qw0 >> 12)),
            (qw1 & 4) != 0,
            new PrgIndex((ushort)((qw1 >> 3) & PrgIndex.Mask)),
            (qw0 & (1UL << 5)) != 0,
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));
    }
}
