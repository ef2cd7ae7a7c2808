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
    public const uint MBit = 1u << 0;
    public const uint CfreBit = 1u << 5;
    public const uint CfieBit = 1u << 6;
    public const uint CfcfgBit = 1u << 7;
    public const uint HupcfBit = 1u << 8;
    public const uint Fields = MBit | CfreBit | CfieBit | CfcfgBit | HupcfBit;
    public const uint Reserved = (1u << 11) | (3u << 30);

    public uint Encode() => (M ? MBit : 0) | (Cfre ? CfreBit : 0) | (Cfie ? CfieBit : 0) | (Cfcfg ? CfcfgBit : 0) | (Hupcf ? HupcfBit : 0);

    public static DecodeResult<Sctlr> Decode(uint value)
    {
        if ((value & Reserved) != 0)
            return DecodeResult<Sctlr>.Fail("reserved", $"SCTLR bits 0x{value & Reserved:x8} are reserved (bit 11, bits 31:30)");
        return new Sctlr((value & MBit) != 0, (value & CfreBit) != 0, (value & CfieBit) != 0, (value & CfcfgBit) != 0, (value & HupcfBit) != 0);
    }
}
