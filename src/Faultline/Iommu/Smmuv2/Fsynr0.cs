namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// SMMU_CBn_FSYNR0, the syndrome of the fault FSR records (offset 0x68, docs/smmuv2.md §2): PLVL 1:0
/// (table level), WNR 4 (write), PNU 5 (privileged), IND 6 (instruction fetch), NSATTR 8, ATOF 9 (the
/// fault came from an address translation operation), PTWF 10 (page table walk fault), AFR 11 (asynchronous
/// fault), S1CBNDX 23:16. Bits 3:2, 7, 15:12 and 31:24 are reserved: decode names them.
/// <para>
/// Sources. Linux drivers/iommu/arm/arm-smmu/arm-smmu.h (v6.12+): <c>ARM_SMMU_CB_FSYNR0</c> 0x68,
/// <c>_PLVL</c> GENMASK(1, 0), <c>_WNR</c> BIT(4), <c>_PNU</c> BIT(5), <c>_IND</c> BIT(6), <c>_NSATTR</c> BIT(8),
/// <c>_PTWF</c> BIT(10), <c>_AFR</c> BIT(11), <c>_S1CBNDX</c> GENMASK(23, 16). AMD UG1087 SMMU_CBn_FSYNR0
/// (MMU-500) lists the same bits plus ATOF at bit 9 (read-only), and implements S1CBNDX as 19:16 only.
/// </para>
/// </summary>
public readonly record struct Fsynr0(
    byte Plvl,
    bool Wnr,
    bool Pnu,
    bool Ind,
    bool NsAttr,
    bool Atof,
    bool Ptwf,
    bool Afr,
    byte S1CbNdx)
{
    /// <summary>PLVL, bits 1:0: the translation table level of the fault.</summary>
    public const uint PlvlMask = 0x3;
    /// <summary>WNR, bit 4: the access was a write.</summary>
    public const uint WnrBit = 1u << 4;
    /// <summary>PNU, bit 5: the access was privileged.</summary>
    public const uint PnuBit = 1u << 5;
    /// <summary>IND, bit 6: the access was an instruction fetch.</summary>
    public const uint IndBit = 1u << 6;
    /// <summary>NSATTR, bit 8: the access's Non-secure attribute.</summary>
    public const uint NsAttrBit = 1u << 8;
    /// <summary>ATOF, bit 9: the fault came from an address translation operation.</summary>
    public const uint AtofBit = 1u << 9;
    /// <summary>PTWF, bit 10: the fault arose on a page table walk.</summary>
    public const uint PtwfBit = 1u << 10;
    /// <summary>AFR, bit 11: an asynchronous fault was recorded.</summary>
    public const uint AfrBit = 1u << 11;
    /// <summary>S1CBNDX, bits 23:16: the stage-1 context bank index of a nested fault.</summary>
    public const int S1CbNdxShift = 16;

    /// <summary>Every defined bit.</summary>
    public const uint Fields = PlvlMask | WnrBit | PnuBit | IndBit | NsAttrBit | AtofBit | PtwfBit | AfrBit | (0xFFu << S1CbNdxShift);

    /// <summary>Writes the value; a <see cref="Plvl"/> above 3 is written as its low 2 bits.</summary>
    public uint Encode() =>
        (Plvl & PlvlMask) | (Wnr ? WnrBit : 0) | (Pnu ? PnuBit : 0) | (Ind ? IndBit : 0) | (NsAttr ? NsAttrBit : 0)
        | (Atof ? AtofBit : 0) | (Ptwf ? PtwfBit : 0) | (Afr ? AfrBit : 0) | ((uint)S1CbNdx << S1CbNdxShift);

    /// <summary>Reads a register value; fails when a reserved bit (3:2, 7, 15:12, 31:24) is set.</summary>
    public static DecodeResult<Fsynr0> Decode(uint value)
    {
        if ((value & ~Fields) != 0)
            return DecodeResult<Fsynr0>.Fail("reserved", $"FSYNR0 bits 0x{value & ~Fields:x8} are reserved (3:2, 7, 15:12, 31:24)");
        return new Fsynr0((byte)(value & PlvlMask), (value & WnrBit) != 0, (value & PnuBit) != 0, (value & IndBit) != 0,
            (value & NsAttrBit) != 0, (value & AtofBit) != 0, (value & PtwfBit) != 0, (value & AfrBit) != 0,
            (byte)(value >> S1CbNdxShift));
    }
}
