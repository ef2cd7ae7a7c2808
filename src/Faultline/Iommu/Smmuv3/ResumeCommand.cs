using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Smmuv3;

/// <summary>
/// The action field of CMD_RESUME (DW0 bits 13:12), with Linux's values
/// <c>CMDQ_RESUME_0_RESP_TERM</c> 0, <c>_RETRY</c> 1, <c>_ABORT</c> 2. 3 is not a value: decode rejects it.
/// </summary>
public enum ResumeAction : byte
{
    /// <summary>0, <c>CMDQ_RESUME_0_RESP_TERM</c>: the transaction is terminated, aborted or RAZ/WI as CD.A says.</summary>
    Terminate = 0,
    /// <summary>1, <c>CMDQ_RESUME_0_RESP_RETRY</c>: the transaction is translated again.</summary>
    Retry = 1,
    /// <summary>2, <c>CMDQ_RESUME_0_RESP_ABORT</c>: the transaction ends with an abort.</summary>
    Abort = 2,
}

/// <summary>The CMD_RESUME action field's rules and names.</summary>
public static class ResumeActions
{
    /// <summary>The action is 2 bits wide (DW0 13:12).</summary>
    public const byte FieldMask = 0x3;

    /// <summary>Whether the value is Terminate, Retry or Abort (3 is not a value).</summary>
    public static bool IsDefined(this ResumeAction action) => (byte)action <= (byte)ResumeAction.Abort;

    /// <summary>Terminate, Retry, Abort, or Reserved&lt;n&gt; for another value.</summary>
    public static string Name(this ResumeAction action) => action switch
    {
        ResumeAction.Terminate => "Terminate",
        ResumeAction.Retry => "Retry",
        ResumeAction.Abort => "Abort",
        _ => $"Reserved{(byte)action}",
    };
}

/// <summary>
/// The 16-byte SMMUv3 CMD_RESUME command (opcode 0x44, smmuv3.md §5, H-SMMU-6): ends one stalled
/// transaction of a stream, named by its STAG. DW0: opcode 7:0, action 13:12 (0 terminate, 1 retry,
/// 2 abort; 3 decodes as an error on "action"), StreamID 63:32. DW1: STAG 15:0.
/// <para>
/// Sources. Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (torvalds/linux): <c>CMDQ_OP_RESUME</c> 0x44,
/// <c>CMDQ_RESUME_0_RESP</c> = GENMASK_ULL(13, 12), <c>CMDQ_RESUME_0_RESP_TERM</c> 0, <c>_RETRY</c> 1,
/// <c>_ABORT</c> 2, <c>CMDQ_RESUME_0_SID</c> = GENMASK_ULL(63, 32), <c>CMDQ_RESUME_1_STAG</c> = GENMASK_ULL(15, 0);
/// <c>arm_smmu_cmdq_build_cmd</c> (arm-smmu-v3.c) packs exactly these three. QEMU hw/arm/smmuv3-internal.h
/// agrees on position but splits the action into two bits, <c>CMD_RESUME_AC(x)</c> = extract32(word[0], 12, 1)
/// (retry) and <c>CMD_RESUME_AB(x)</c> = extract32(word[0], 13, 1) (abort), with <c>CMD_SID(x)</c> = word[1]
/// and <c>CMD_RESUME_STAG(x)</c> = extract32(word[2], 0, 16); QEMU ignores the command. No source names
/// reserved bits: decode ignores the other bits and encode writes them as 0.
/// </para>
/// </summary>
public readonly record struct ResumeCommand(uint StreamId, ResumeAction Action, ushort StallTag)
{
    /// <summary>16 bytes, as every SMMUv3 command.</summary>
    public const int Size = Smmuv3Command.Size;
    /// <summary>0x44 (Linux <c>CMDQ_OP_RESUME</c>).</summary>
    public const byte Opcode = Smmuv3Command.ResumeOpcode;

    /// <summary>DW0 13:12: the action (<c>CMDQ_RESUME_0_RESP</c>).</summary>
    public const int ActionShift = 12;
    /// <summary>DW0 63:32: StreamID (<c>CMDQ_RESUME_0_SID</c>).</summary>
    public const int StreamIdShift = 32;

    /// <summary>The bits of DW0 that carry a field; the rest are written as 0 and ignored on decode.</summary>
    public const ulong Dw0Fields = 0xFFUL | ((ulong)ResumeActions.FieldMask << ActionShift) | (0xFFFF_FFFFUL << StreamIdShift);
    /// <summary>DW1's field: STAG 15:0 (<c>CMDQ_RESUME_1_STAG</c>); the rest is written as 0 and ignored on decode.</summary>
    public const ulong Dw1Fields = 0xFFFFUL;

    /// <summary>Writes the command; an undefined <see cref="Action"/> is written as is (its low 2 bits), and decodes as an error.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong dw0 = Opcode
            | ((ulong)((byte)Action & ResumeActions.FieldMask) << ActionShift)
            | ((ulong)StreamId << StreamIdShift);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, dw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], StallTag);
    }

    /// <summary>Reads exactly 16 bytes; fails on length, opcode, or action 3.</summary>
    public static DecodeResult<ResumeCommand> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<ResumeCommand>.Fail("length", $"{bytes.Length} bytes, a CMD_RESUME is {Size}");
        ulong dw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong dw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        byte opcode = Smmuv3Command.OpcodeOf(dw0);
        if (opcode != Opcode)
            return DecodeResult<ResumeCommand>.Fail("opcode", $"DW0[7:0] is 0x{opcode:x2}, CMD_RESUME has opcode 0x{Opcode:x2}");
        var action = (ResumeAction)((dw0 >> ActionShift) & ResumeActions.FieldMask);
        if (!action.IsDefined())
            return DecodeResult<ResumeCommand>.Fail("action", $"DW0[13:12] is {(byte)action}, the action is 0 (terminate), 1 (retry) or 2 (abort)");
        return new ResumeCommand((uint)(dw0 >> StreamIdShift), action, (ushort)dw1);
    }
}
