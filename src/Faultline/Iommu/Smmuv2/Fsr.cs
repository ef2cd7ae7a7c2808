namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// SMMU_CBn_FSR, the context bank fault status register (offset 0x58, docs/smmuv2.md §2): TF 1, AFF 2,
/// PF 3, EF 4, TLBMCF 5, TLBLKF 6, ASF 7, UUT 8, FORMAT 10:9, SS 30 (a transaction is stalled), MULTI 31
/// (a fault arrived while one was already recorded). Bit 0 and bits 29:11 are reserved: decode names
/// them. Fault bits and MULTI are write-1-to-clear; SS clears only when RESUME is written (H-SMMUv2-6).
/// <para>
/// Sources. Linux drivers/iommu/arm/arm-smmu/arm-smmu.h: <c>ARM_SMMU_CB_FSR</c> 0x58, <c>_MULTI</c> BIT(31),
/// <c>_SS</c> BIT(30), <c>_FORMAT</c> GENMASK(10, 9), <c>_UUT</c> BIT(8), <c>_ASF</c> BIT(7), <c>_TLBLKF</c>
/// BIT(6), <c>_TLBMCF</c> BIT(5), <c>_EF</c> BIT(4), <c>_PF</c> BIT(3), <c>_AFF</c> BIT(2), <c>_TF</c> BIT(1).
/// AMD UG1087 SMMU_CBn_FSR (MMU-500) and the Intel Stratix 10 HPS map give the same fields and mark the
/// rest reserved; seL4 include/drivers/smmu/smmuv2.h agrees on every bit.
/// </para>
/// </summary>
public readonly record struct Fsr(
    bool Tf,
    bool Aff,
    bool Pf,
    bool Ef,
    bool TlbMcf,
    bool TlbLkf,
    bool Asf,
    bool Uut,
    byte Format,
    bool Ss,
    bool Multi)
{
    /// <summary>TF, bit 1: translation fault.</summary>
    public const uint TfBit = 1u << 1;
    /// <summary>AFF, bit 2: access flag fault.</summary>
    public const uint AffBit = 1u << 2;
    /// <summary>PF, bit 3: permission fault.</summary>
    public const uint PfBit = 1u << 3;
    /// <summary>EF, bit 4: external fault.</summary>
    public const uint EfBit = 1u << 4;
    /// <summary>TLBMCF, bit 5: TLB match conflict fault.</summary>
    public const uint TlbMcfBit = 1u << 5;
    /// <summary>TLBLKF, bit 6: TLB lock fault.</summary>
    public const uint TlbLkfBit = 1u << 6;
    /// <summary>ASF, bit 7: address size fault.</summary>
    public const uint AsfBit = 1u << 7;
    /// <summary>UUT, bit 8: unsupported upstream transaction.</summary>
    public const uint UutBit = 1u << 8;
    /// <summary>FORMAT, bits 10:9: the format of the fault syndrome.</summary>
    public const int FormatShift = 9;
    /// <summary>FORMAT is 2 bits wide.</summary>
    public const uint FormatMask = 0x3;
    /// <summary>SS, bit 30: a transaction is stalled; only a RESUME write clears it.</summary>
    public const uint SsBit = 1u << 30;
    /// <summary>MULTI, bit 31: a fault arrived while one was already recorded.</summary>
    public const uint MultiBit = 1u << 31;

    /// <summary>The fault-type bits TF..UUT: one of them records the fault FAR and FSYNR0 describe.</summary>
    public const uint FaultTypeBits = TfBit | AffBit | PfBit | EfBit | TlbMcfBit | TlbLkfBit | AsfBit | UutBit;

    /// <summary>Linux <c>ARM_SMMU_CB_FSR_FAULT</c>: any of these set means the context has a fault to handle.</summary>
    public const uint FaultBits = FaultTypeBits | SsBit | MultiBit;

    /// <summary>Every defined bit: the fault bits and FORMAT.</summary>
    public const uint Fields = FaultBits | (FormatMask << FormatShift);

    /// <summary>Whether anything Linux counts as a fault is set (<c>fsr &amp; ARM_SMMU_CB_FSR_FAULT</c>).</summary>
    public bool IsFault => (Encode() & FaultBits) != 0;

    /// <summary>Writes the value; a <see cref="Format"/> above 3 is written as its low 2 bits.</summary>
    public uint Encode() =>
        (Tf ? TfBit : 0) | (Aff ? AffBit : 0) | (Pf ? PfBit : 0) | (Ef ? EfBit : 0)
        | (TlbMcf ? TlbMcfBit : 0) | (TlbLkf ? TlbLkfBit : 0) | (Asf ? AsfBit : 0) | (Uut ? UutBit : 0)
        | ((Format & FormatMask) << FormatShift) | (Ss ? SsBit : 0) | (Multi ? MultiBit : 0);

    /// <summary>Reads a register value; fails when a reserved bit (0, 29:11) is set.</summary>
    public static DecodeResult<Fsr> Decode(uint value)
    {
        if ((value & ~Fields) != 0)
            return DecodeResult<Fsr>.Fail("reserved", $"FSR bits 0x{value & ~Fields:x8} are reserved (bit 0, bits 29:11)");
        return new Fsr(
            (value & TfBit) != 0, (value & AffBit) != 0, (value & PfBit) != 0, (value & EfBit) != 0,
            (value & TlbMcfBit) != 0, (value & TlbLkfBit) != 0, (value & AsfBit) != 0, (value & UutBit) != 0,
            (byte)((value >> FormatShift) & FormatMask), (value & SsBit) != 0, (value & MultiBit) != 0);
    }
}
