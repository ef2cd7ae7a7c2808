using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// The 32-byte VT-d Page Request Descriptor the IOMMU writes into the page request queue
/// (vtd.md §2, R30). QW0: type 7:0, PASID present 8, private data present 9, RID 31:16, PASID 51:32,
/// execute requested 52, privileged mode requested 53. QW1: read 0, write 1, LPIG 2, PRG index 11:3,
/// page address 63:12. QW2–QW3: private data.
/// </summary>
public readonly record struct PageRequestDescriptor(
    RequesterId Requester,
    bool PasidPresent,
    Pasid Pasid,
    bool ExecuteRequested,
    bool PrivilegedModeRequested,
    bool ReadRequested,
    bool WriteRequested,
    bool LastPageInGroup,
    PrgIndex Index,
    ulong PageAddress,
    bool PrivateDataPresent = false,
    ulong PrivateData0 = 0,
    ulong PrivateData1 = 0)
{
    /// <summary>32 bytes: a scalable-mode page request descriptor.</summary>
    public const int Size = 32;
    /// <summary>Descriptor type 1, QW0 7:0.</summary>
    public const byte Type = 0x01;

    private const ulong Qw0Reserved = (0x3FUL << 10) | (0x3FFUL << 54);

    /// <summary>R31 step 2: LPIG with neither read nor write is a Stop Marker.</summary>
    public bool IsStopMarker => LastPageInGroup && !ReadRequested && !WriteRequested;

    /// <summary>What the IOMMU writes for a Page Request message (payload copied verbatim, pcie.md §3.1).</summary>
    public static PageRequestDescriptor From(in PageRequest request) => new(
        request.Requester,
        request.PasidPresent,
        request.PasidOrZero,
        request.ExecuteRequested,
        request.PrivilegedModeRequested,
        request.Read,
        request.Write,
        request.Last,
        request.Index,
        request.PageAddress & PageRequest.PageMask);

    /// <summary>Writes the 32 bytes little-endian, the private data in QW2 and QW3; reserved bits as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong qw0 = Type
            | (PasidPresent ? 1UL << 8 : 0)
            | (PrivateDataPresent ? 1UL << 9 : 0)
            | ((ulong)Requester.Value << 16)
            | ((ulong)(Pasid.Value & Pasid.Mask) << 32)
            | (ExecuteRequested ? 1UL << 52 : 0)
            | (PrivilegedModeRequested ? 1UL << 53 : 0);
        ulong qw1 = (ReadRequested ? 1UL : 0)
            | (WriteRequested ? 2UL : 0)
            | (LastPageInGroup ? 4UL : 0)
            | ((ulong)(Index.Value & PrgIndex.Mask) << 3)
            | (PageAddress & PageRequest.PageMask);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], qw1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], PrivateData0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], PrivateData1);
    }

    /// <summary>Reads exactly 32 bytes; fails on length, a type other than 1, or a reserved bit set in QW0 (15:10, 63:54).</summary>
    public static DecodeResult<PageRequestDescriptor> Decode(ReadOnlySpan<byte> bytes, UndefinedBits undefinedBits = UndefinedBits.Refuse)
    {
        if (bytes.Length != Size)
            return DecodeResult<PageRequestDescriptor>.Fail("length", $"{bytes.Length} bytes, a page request descriptor is {Size}");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        byte type = (byte)qw0;
        if (undefinedBits == UndefinedBits.Refuse && type != Type)
            return DecodeResult<PageRequestDescriptor>.Fail("type", $"QW0[7:0] is 0x{type:x2}, a page request descriptor has type 0x{Type:x2}");
        if (undefinedBits == UndefinedBits.Refuse && (qw0 & Qw0Reserved) != 0)
            return DecodeResult<PageRequestDescriptor>.Fail("reserved", $"QW0 reserved bits 15:10 / 63:54 are 0x{qw0 & Qw0Reserved:x16}, must be 0");
        return new PageRequestDescriptor(
            new RequesterId((ushort)(qw0 >> 16)),
            (qw0 & (1UL << 8)) != 0,
            new Pasid((uint)(qw0 >> 32) & Pasid.Mask),
            (qw0 & (1UL << 52)) != 0,
            (qw0 & (1UL << 53)) != 0,
            (qw1 & 1) != 0,
            (qw1 & 2) != 0,
            (qw1 & 4) != 0,
            new PrgIndex((ushort)((qw1 >> 3) & PrgIndex.Mask)),
            qw1 & PageRequest.PageMask,
            (qw0 & (1UL << 9)) != 0,
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]));
    }
}
