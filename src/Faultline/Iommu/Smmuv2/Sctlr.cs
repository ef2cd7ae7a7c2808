namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// The fields of SMMU_CBn_SCTLR (offset 0x0) the stall model uses (docs/smmuv2.md §2): M 0 (translation
/// enabled), CFRE 5 (abort the master on a context fault), CFIE 6 (context fault interrupt enable),
/// CFCFG 7 (0 terminate, 1 stall), HUPCF 8 (hit under previous context fault). Bits 11 and 31:30 are
/// reserved: decode names them. The other defined fields (TRE, AFE, AFFD, E, WXN, UWXN, ASIDPNE, PTW and
/// the attribute overrides 29:14) are not modelled: decode ignores them and encode writes them as 0.
/// <para>
/// Sources. Linux drivers/iommu/arm/arm-smmu/arm-smmu.h: <c>ARM_SMMU_CB_SCTLR</c> 0x0, <c>ARM_SMMU_SCTLR_M</c>
/// BIT(0), <c>_CFRE</c> BIT(5), <c>_CFIE</c> BIT(6), <c>_CFCFG</c> BIT(7), <c>_HUPCF</c> BIT(8). Intel Agilex /
/// Stratix 10 HPS SMMU_CBn_SCTLR (MMU-500) and AMD UG1087: bit 11 and bits 31:30 reserved, HUPCF resets to 1
/// on MMU-500. arm-smmu-qcom.c <c>qcom_adreno_smmu_write_sctlr</c> sets HUPCF always and CFCFG per context
/// bank when the GPU asked for stall-on-fault.
/// </para>
/// </summary>
public readonly record struct Sctlr(bool M, bool Cfre, bool Cfie, bool Cfcfg, bool Hupcf)
{
    /// <summary>M, bit 0: translation enabled.</summary>
    public const uint MBit = 1u << 0;
    /// <summary>CFRE, bit 5: a context fault returns an abort to the master.</summary>
    public const uint CfreBit = 1u << 5;
    /// <summary>CFIE, bit 6: context fault interrupt enable.</summary>
    public const uint CfieBit = 1u << 6;
    /// <summary>CFCFG, bit 7: a context fault stalls (1) or terminates (0) the transaction.</summary>
    public const uint CfcfgBit = 1u << 7;
    /// <summary>HUPCF, bit 8: hit under previous context fault.</summary>
    public const uint HupcfBit = 1u << 8;
    /// <summary>The modelled fields.</summary>
    public const uint Fields = MBit | CfreBit | CfieBit | CfcfgBit | HupcfBit;
    /// <summary>Reserved: bit 11 and bits 31:30.</summary>
    public const uint Reserved = (1u << 11) | (3u << 30);

    /// <summary>The register value of the modelled fields; the others as 0.</summary>
    public uint Encode() => (M ? MBit : 0) | (Cfre ? CfreBit : 0) | (Cfie ? CfieBit : 0) | (Cfcfg ? CfcfgBit : 0) | (Hupcf ? HupcfBit : 0);

    /// <summary>Reads a register value; fails when a reserved bit is set, ignores the fields not modelled.</summary>
    public static DecodeResult<Sctlr> Decode(uint value)
    {
        if ((value & Reserved) != 0)
            return DecodeResult<Sctlr>.Fail("reserved", $"SCTLR bits 0x{value & Reserved:x8} are reserved (bit 11, bits 31:30)");
        return new Sctlr((value & MBit) != 0, (value & CfreBit) != 0, (value & CfieBit) != 0, (value & CfcfgBit) != 0, (value & HupcfBit) != 0);
    }
}
