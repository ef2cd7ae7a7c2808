using System.Buffers.Binary;

namespace Faultline.Iommu.Smmuv3;

/// <summary>CMD_SYNC's completion signal (DW0 bits 13:12).</summary>
public enum SyncCompletion : byte
{
    /// <summary>0, NONE: no completion signal; software polls CMDQ_CONS.</summary>
    None = 0,
    /// <summary>Signal completion with an interrupt (MSI to <see cref="SyncCommand.MsiAddress"/> when MSIs are used).</summary>
    Irq = 1,
    /// <summary>Signal completion with a send-event (WFE wake-up).</summary>
    Sev = 2,
}

/// <summary>
/// CMD_SYNC (opcode 0x46, 16 bytes): a barrier after the commands before it have been consumed. It does
/// not wait for a CMD_RESUME's transaction or a CMD_PRI_RESP's response to take effect (H-SMMU-8).
/// Layout from Linux arm-smmu-v3.h: <c>CMDQ_SYNC_0_CS</c> 13:12 (NONE 0, IRQ 1, SEV 2),
/// <c>CMDQ_SYNC_0_MSH</c> 23:22, <c>CMDQ_SYNC_0_MSIATTR</c> 27:24, <c>CMDQ_SYNC_0_MSIDATA</c> 63:32,
/// <c>CMDQ_SYNC_1_MSIADDR_MASK</c> 51:2.
/// </summary>
public readonly record struct SyncCommand(SyncCompletion Completion, byte Shareability, byte MsiAttributes, uint MsiData, ulong MsiAddress)
{
    /// <summary>16 bytes, as every SMMUv3 command.</summary>
    public const int Size = Smmuv3Command.Size;
    /// <summary>0x46 (Linux <c>CMDQ_OP_CMD_SYNC</c>).</summary>
    public const byte Opcode = Smmuv3Command.SyncOpcode;

    /// <summary>DW0 13:12: CS, the completion signal (<c>CMDQ_SYNC_0_CS</c>).</summary>
    public const int CompletionShift = 12;
    /// <summary>DW0 23:22: MSH, the shareability of the completion MSI write (<c>CMDQ_SYNC_0_MSH</c>).</summary>
    public const int ShareabilityShift = 22;
    /// <summary>DW0 27:24: MSIATTR, the memory attributes of the completion MSI write (<c>CMDQ_SYNC_0_MSIATTR</c>).</summary>
    public const int MsiAttributesShift = 24;
    /// <summary>DW0 63:32: MSIDATA, the value the completion MSI writes (<c>CMDQ_SYNC_0_MSIDATA</c>).</summary>
    public const int MsiDataShift = 32;
    /// <summary>DW1 51:2: MSIADDR (<c>CMDQ_SYNC_1_MSIADDR_MASK</c>).</summary>
    public const ulong MsiAddressMask = 0x000F_FFFF_FFFF_FFFCUL;

    /// <summary>The bits of DW0 that carry a field; the rest are written as 0 and ignored on decode.</summary>
    public const ulong Dw0Fields = 0xFFUL | (0x3UL << CompletionShift) | (0x3UL << ShareabilityShift) | (0xFUL << MsiAttributesShift) | (0xFFFF_FFFFUL << MsiDataShift);
    /// <summary>The bits of DW1 that carry a field; the rest are written as 0 and ignored on decode.</summary>
    public const ulong Dw1Fields = MsiAddressMask;

    /// <summary>Writes the command; fields wider than theirs are cut to their bits.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong dw0 = Opcode
            | ((ulong)((byte)Completion & 0x3) << CompletionShift)
            | ((ulong)(Shareability & 0x3) << ShareabilityShift)
            | ((ulong)(MsiAttributes & 0xF) << MsiAttributesShift)
            | ((ulong)MsiData << MsiDataShift);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, dw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], MsiAddress & MsiAddressMask);
    }

    /// <summary>Reads exactly 16 bytes; fails on length, opcode, or CS = 3.</summary>
    public static DecodeResult<SyncCommand> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<SyncCommand>.Fail("length", $"{bytes.Length} bytes, a CMD_SYNC is {Size}");
        ulong dw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong dw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        byte opcode = Smmuv3Command.OpcodeOf(dw0);
        if (opcode != Opcode)
            return DecodeResult<SyncCommand>.Fail("opcode", $"DW0[7:0] is 0x{opcode:x2}, CMD_SYNC has opcode 0x{Opcode:x2}");
        var completion = (SyncCompletion)((dw0 >> CompletionShift) & 0x3);
        if (completion > SyncCompletion.Sev)
            return DecodeResult<SyncCommand>.Fail("cs", "DW0[13:12] is 3, the completion signal is 0 (none), 1 (IRQ) or 2 (SEV)");
        return new SyncCommand(completion, (byte)((dw0 >> ShareabilityShift) & 0x3), (byte)((dw0 >> MsiAttributesShift) & 0xF),
            (uint)(dw0 >> MsiDataShift), dw1 & MsiAddressMask);
    }
}
