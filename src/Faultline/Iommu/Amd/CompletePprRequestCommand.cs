using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Amd;

/// <summary>
/// The 16-byte AMD-Vi COMPLETE_PPR_REQUEST command (opcode 7, amd.md §3), four little-endian
/// 32-bit words. Word 0: DeviceID 15:0. Word 1: PASID 19:0, opcode 31:28. Word 2: GN 2. Word 3:
/// tag (PRG index) 8:0, status 15:12. Every other bit is reserved.
/// <para>
/// Sources, torvalds/linux drivers/iommu/amd/iommu.c <c>build_complete_ppr</c>:
/// <c>data[0] = devid</c>; if gn, <c>data[1] = pasid</c> and <c>data[2] = CMD_INV_IOMMU_PAGES_GN_MASK</c>
/// (0x04); <c>data[3] = tag &amp; 0x1ff | (status &amp; PPR_STATUS_MASK) &lt;&lt; PPR_STATUS_SHIFT</c>
/// (0xf, 12); <c>CMD_SET_TYPE(cmd, t) = data[1] |= t &lt;&lt; 28</c> with <c>CMD_COMPLETE_PPR 0x07</c>
/// (amd_iommu_types.h). QEMU hw/i386/amd_iommu.c <c>amdvi_complete_ppr</c> (cmd[] as two QWs)
/// flags non-zero <c>extract64(cmd[0], 16, 16)</c> (word 0 31:16), <c>extract64(cmd[0], 52, 8)</c>
/// (word 1 27:20), <c>extract64(cmd[1], 0, 2)</c> and <c>extract64(cmd[1], 3, 29)</c> (word 2 but
/// bit 2), <c>extract64(cmd[1], 48, 16)</c> (word 3 31:16); <c>AMDVI_CMD_COMPLETE_PPR_REQUEST 0x07</c>
/// (amd_iommu.h), opcode read as <c>extract64(cmd[0], 60, 4)</c>. QEMU does not check word 3
/// 11:9; they are reserved here too, since Linux masks the tag to 9 bits and never sets them.
/// </para>
/// </summary>
public readonly record struct CompletePprRequestCommand(
    RequesterId DeviceId,
    Pasid Pasid,
    bool Gn,
    PrgIndex Index,
    ResponseCode Status)
{
    /// <summary>16 bytes, as every command.</summary>
    public const int Size = 16;
    /// <summary>7, word 1 bits 31:28 (Linux <c>CMD_COMPLETE_PPR</c>).</summary>
    public const byte Opcode = 0x7;

    private const int OpcodeShift = 28;
    private const uint GnBit = 1u << 2;
    private const int StatusShift = 12;
    private const uint Word0Reserved = 0xFFFF_0000;
    private const uint Word1Reserved = 0xFFu << 20;
    private const uint Word2Reserved = ~GnBit;
    private const uint Word3Reserved = (0x7u << 9) | 0xFFFF_0000;

    /// <summary>
    /// What Linux sends for a response (R22, AMD-Vi): the PASID and GN only when the device
    /// wants a PASID on its responses (<c>dev_data-&gt;pri_tlp</c>), the tag masked to 9 bits.
    /// </summary>
    public static CompletePprRequestCommand ForResponse(RequesterId device, Pasid pasid, bool gn, PrgIndex index, ResponseCode status) =>
        new(device, gn ? pasid : default, gn, new PrgIndex((ushort)(index.Value & PrgIndex.Mask)), status);

    /// <summary>Writes the four words little-endian; reserved bits as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        uint word0 = DeviceId.Value;
        uint word1 = (Pasid.Value & Pasid.Mask) | ((uint)Opcode << OpcodeShift);
        uint word2 = Gn ? GnBit : 0;
        uint word3 = (uint)(Index.Value & PrgIndex.Mask) | ((uint)((byte)Status & ResponseCodes.FieldMask) << StatusShift);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, word0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], word1);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], word2);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], word3);
    }

    /// <summary>Reads exactly 16 bytes; fails on length, opcode, or a reserved bit set.</summary>
    public static DecodeResult<CompletePprRequestCommand> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<CompletePprRequestCommand>.Fail("length", $"{bytes.Length} bytes, a COMPLETE_PPR_REQUEST command is {Size}");
        uint word0 = BinaryPrimitives.ReadUInt32LittleEndian(bytes);
        uint word1 = BinaryPrimitives.ReadUInt32LittleEndian(bytes[4..]);
        uint word2 = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
        uint word3 = BinaryPrimitives.ReadUInt32LittleEndian(bytes[12..]);
        uint opcode = word1 >> OpcodeShift;
        if (opcode != Opcode)
            return DecodeResult<CompletePprRequestCommand>.Fail("opcode", $"word 1 [31:28] is 0x{opcode:x}, COMPLETE_PPR_REQUEST has opcode 0x{Opcode:x}");
        if ((word0 & Word0Reserved) != 0)
            return DecodeResult<CompletePprRequestCommand>.Fail("reserved", $"word 0 reserved bits 31:16 are 0x{word0 & Word0Reserved:x8}, must be 0");
        if ((word1 & Word1Reserved) != 0)
            return DecodeResult<CompletePprRequestCommand>.Fail("reserved", $"word 1 reserved bits 27:20 are 0x{word1 & Word1Reserved:x8}, must be 0");
        if ((word2 & Word2Reserved) != 0)
            return DecodeResult<CompletePprRequestCommand>.Fail("reserved", $"word 2 reserved bits 31:3 / 1:0 are 0x{word2 & Word2Reserved:x8}, must be 0");
        if ((word3 & Word3Reserved) != 0)
            return DecodeResult<CompletePprRequestCommand>.Fail("reserved", $"word 3 reserved bits 31:16 / 11:9 are 0x{word3 & Word3Reserved:x8}, must be 0");
        return new CompletePprRequestCommand(
            new RequesterId((ushort)word0),
            new Pasid(word1 & Pasid.Mask),
            (word2 & GnBit) != 0,
            new PrgIndex((ushort)(word3 & PrgIndex.Mask)),
            ResponseCodes.FromWire((int)(word3 >> StatusShift)));
    }
}
