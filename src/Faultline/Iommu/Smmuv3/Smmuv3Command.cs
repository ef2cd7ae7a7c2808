using System.Buffers.Binary;

namespace Faultline.Iommu.Smmuv3;

/// <summary>
/// What every SMMUv3 command-queue entry shares: 16 bytes (two little-endian DWs) with the opcode in
/// DW0 bits 7:0, so a queue model can dispatch before decoding the command (smmuv3.md §1, §3, §5).
/// <para>
/// Sources: Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (torvalds/linux) <c>CMDQ_ENT_SZ_SHIFT</c> 4
/// (16 bytes), <c>CMDQ_0_OP</c> = GENMASK_ULL(7, 0), <c>CMDQ_OP_PRI_RESP</c> 0x41, <c>CMDQ_OP_RESUME</c> 0x44,
/// <c>CMDQ_OP_CMD_SYNC</c> 0x46; Linux defines no CMD_STALL_TERM, whose opcode 0x45 comes from QEMU
/// hw/arm/smmuv3-internal.h <c>SMMUCommandType</c> (<c>SMMU_CMD_RESUME = 0x44, SMMU_CMD_STALL_TERM,
/// SMMU_CMD_SYNC</c>) and <c>CMD_TYPE(x)</c> = extract32(word[0], 0, 8).
/// </para>
/// </summary>
public static class Smmuv3Command
{
    /// <summary>Every command is 16 bytes (Linux <c>CMDQ_ENT_SZ_SHIFT</c> 4).</summary>
    public const int Size = 16;

    /// <summary>CMD_PRI_RESP, 0x41.</summary>
    public const byte PriResponseOpcode = 0x41;
    /// <summary>CMD_RESUME, 0x44.</summary>
    public const byte ResumeOpcode = 0x44;
    /// <summary>CMD_STALL_TERM, 0x45.</summary>
    public const byte StallTerminateOpcode = 0x45;
    /// <summary>CMD_SYNC, 0x46.</summary>
    public const byte SyncOpcode = 0x46;

    /// <summary>The opcode of the command whose first DW is <paramref name="dw0"/>.</summary>
    public static byte OpcodeOf(ulong dw0) => (byte)dw0;

    /// <summary>
    /// The opcode of the command in <paramref name="bytes"/> (DW0 little-endian first). Needs only DW0;
    /// fewer than 8 bytes fail with field "length".
    /// </summary>
    public static DecodeResult<byte> OpcodeOf(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < sizeof(ulong))
            return DecodeResult<byte>.Fail("length", $"{bytes.Length} bytes, the opcode lies in DW0 (8 bytes)");
        return OpcodeOf(BinaryPrimitives.ReadUInt64LittleEndian(bytes));
    }
}
