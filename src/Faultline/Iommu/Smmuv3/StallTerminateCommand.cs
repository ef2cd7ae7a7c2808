using System.Buffers.Binary;

namespace Faultline.Iommu.Smmuv3;

/// <summary>
/// The 16-byte SMMUv3 CMD_STALL_TERM command (opcode 0x45, smmuv3.md §5, H-SMMU-6, H-SMMU-13):
/// terminates every stalled transaction of one stream. DW0: opcode 7:0, StreamID 63:32. DW1: unused.
/// <para>
/// Sources. Mainline Linux never issues this command and defines no macro for it. The opcode is QEMU
/// hw/arm/smmuv3-internal.h <c>SMMUCommandType</c> (<c>SMMU_CMD_RESUME = 0x44, SMMU_CMD_STALL_TERM,</c> i.e.
/// 0x45, between RESUME and <c>SMMU_CMD_SYNC</c> 0x46, Linux's <c>CMDQ_OP_CMD_SYNC</c>); the StreamID is
/// QEMU's <c>CMD_SID(x)</c> = word[1] (DW0 63:32), the same place as every stream-addressed Linux command
/// (<c>CMDQ_PRI_0_SID</c>, <c>CMDQ_RESUME_0_SID</c>, <c>CMDQ_CFGI_0_SID</c> = GENMASK_ULL(63, 32)). QEMU
/// accepts and ignores the command. No source names reserved bits: decode ignores the other bits and
/// encode writes them as 0.
/// </para>
/// </summary>
public readonly record struct StallTerminateCommand(uint StreamId)
{
    /// <summary>16 bytes, as every SMMUv3 command.</summary>
    public const int Size = Smmuv3Command.Size;
    /// <summary>0x45 (QEMU <c>SMMU_CMD_STALL_TERM</c>).</summary>
    public const byte Opcode = Smmuv3Command.StallTerminateOpcode;

    /// <summary>DW0 63:32: StreamID.</summary>
    public const int StreamIdShift = 32;

    /// <summary>DW0's fields: opcode 7:0 and StreamID 63:32; the rest is written as 0 and ignored on decode.</summary>
    public const ulong Dw0Fields = 0xFFUL | (0xFFFF_FFFFUL << StreamIdShift);
    /// <summary>DW1 carries no field.</summary>
    public const ulong Dw1Fields = 0;

    /// <summary>Writes the 16 bytes little-endian; DW1 as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Opcode | ((ulong)StreamId << StreamIdShift));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], 0);
    }

    /// <summary>Reads exactly 16 bytes; fails on length or opcode.</summary>
    public static DecodeResult<StallTerminateCommand> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<StallTerminateCommand>.Fail("length", $"{bytes.Length} bytes, a CMD_STALL_TERM is {Size}");
        ulong dw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        byte opcode = Smmuv3Command.OpcodeOf(dw0);
        if (opcode != Opcode)
            return DecodeResult<StallTerminateCommand>.Fail("opcode", $"DW0[7:0] is 0x{opcode:x2}, CMD_STALL_TERM has opcode 0x{Opcode:x2}");
        return new StallTerminateCommand((uint)(dw0 >> StreamIdShift));
    }
}
