using Faultline.Iommu.Smmuv2;

namespace Faultline.Tests.Iommu.Smmuv2;

public sealed class Smmuv2RegisterTests
{
    // drivers/iommu/arm/arm-smmu/arm-smmu.h
    private const int ARM_SMMU_CB_SCTLR = 0x0, ARM_SMMU_CB_RESUME = 0x8, ARM_SMMU_CB_FSR = 0x58, ARM_SMMU_CB_FAR = 0x60,
        ARM_SMMU_CB_FSYNR0 = 0x68, ARM_SMMU_CB_FSYNR1 = 0x6c;
    private const uint ARM_SMMU_SCTLR_M = 1u << 0, ARM_SMMU_SCTLR_CFRE = 1u << 5, ARM_SMMU_SCTLR_CFIE = 1u << 6,
        ARM_SMMU_SCTLR_CFCFG = 1u << 7, ARM_SMMU_SCTLR_HUPCF = 1u << 8;
    private const uint ARM_SMMU_RESUME_TERMINATE = 1u << 0;
    private const uint FSR_MULTI = 1u << 31, FSR_SS = 1u << 30, FSR_UUT = 1u << 8, FSR_ASF = 1u << 7, FSR_TLBLKF = 1u << 6,
        FSR_TLBMCF = 1u << 5, FSR_EF = 1u << 4, FSR_PF = 1u << 3, FSR_AFF = 1u << 2, FSR_TF = 1u << 1;
    private const uint FSR_FORMAT = 0x3u << 9; // GENMASK(10, 9)
    private const uint FSYNR0_PLVL = 0x3, FSYNR0_WNR = 1u << 4, FSYNR0_PNU = 1u << 5, FSYNR0_IND = 1u << 6,
        FSYNR0_NSATTR = 1u << 8, FSYNR0_PTWF = 1u << 10, FSYNR0_AFR = 1u << 11, FSYNR0_S1CBNDX = 0xFFu << 16;
    private const uint UG1087_FSYNR0_ATOF = 1u << 9;

    [Fact]
    public void H_SMMUv2_1_offsets_match_linux_arm_smmu_h()
    {
        Assert.Equal(ARM_SMMU_CB_SCTLR, ContextBankRegisters.Sctlr);
        Assert.Equal(ARM_SMMU_CB_RESUME, ContextBankRegisters.Resume);
        Assert.Equal(ARM_SMMU_CB_FSR, ContextBankRegisters.Fsr);
        Assert.Equal(ARM_SMMU_CB_FAR, ContextBankRegisters.Far);
        Assert.Equal(ARM_SMMU_CB_FSYNR0, ContextBankRegisters.Fsynr0);
        Assert.Equal(ARM_SMMU_CB_FSYNR1, ContextBankRegisters.Fsynr1);
        Assert.Equal(0x400, Cbfrsynra.Offset(0)); // ARM_SMMU_GR1_CBFRSYNRA(n) (0x400 + ((n) << 2))
        Assert.Equal(0x43C, Cbfrsynra.Offset(15)); // UG1087: SMMU_CBFRSYNRA15 at GR1 + 0x43C
    }

    [Fact]
    public void H_SMMUv2_1_fsr_bits_match_linux_and_mmu500()
    {
        Assert.Equal(FSR_TF, new Fsr { Tf = true }.Encode());
        Assert.Equal(FSR_AFF, new Fsr { Aff = true }.Encode());
        Assert.Equal(FSR_PF, new Fsr { Pf = true }.Encode());
        Assert.Equal(FSR_EF, new Fsr { Ef = true }.Encode());
        Assert.Equal(FSR_TLBMCF, new Fsr { TlbMcf = true }.Encode());
        Assert.Equal(FSR_TLBLKF, new Fsr { TlbLkf = true }.Encode());
        Assert.Equal(FSR_ASF, new Fsr { Asf = true }.Encode());
        Assert.Equal(FSR_UUT, new Fsr { Uut = true }.Encode());
        Assert.Equal(FSR_FORMAT, new Fsr { Format = 3 }.Encode());
        Assert.Equal(FSR_SS, new Fsr { Ss = true }.Encode());
        Assert.Equal(FSR_MULTI, new Fsr { Multi = true }.Encode());
        // ARM_SMMU_CB_FSR_FAULT: every bit but FORMAT.
        Assert.Equal(FSR_MULTI | FSR_SS | FSR_UUT | FSR_EF | FSR_PF | FSR_TF | FSR_AFF | FSR_ASF | FSR_TLBMCF | FSR_TLBLKF, Fsr.FaultBits);
        // A stalled translation fault on a write, as a driver reads it: SS | TF.
        Assert.Equal(new Fsr { Tf = true, Ss = true }, Fsr.Decode(0x4000_0002).Value);
        Assert.True(Fsr.Decode(0x4000_0002).Value.IsFault);
        Assert.False(Fsr.Decode(0x0000_0400).Value.IsFault); // FORMAT alone is no fault
    }

    [Fact]
    public void H_SMMUv2_1_fsynr0_bits_match_linux_and_ug1087()
    {
        Assert.Equal(FSYNR0_PLVL, new Fsynr0 { Plvl = 3 }.Encode());
        Assert.Equal(FSYNR0_WNR, new Fsynr0 { Wnr = true }.Encode());
        Assert.Equal(FSYNR0_PNU, new Fsynr0 { Pnu = true }.Encode());
        Assert.Equal(FSYNR0_IND, new Fsynr0 { Ind = true }.Encode());
        Assert.Equal(FSYNR0_NSATTR, new Fsynr0 { NsAttr = true }.Encode());
        Assert.Equal(UG1087_FSYNR0_ATOF, new Fsynr0 { Atof = true }.Encode());
        Assert.Equal(FSYNR0_PTWF, new Fsynr0 { Ptwf = true }.Encode());
        Assert.Equal(FSYNR0_AFR, new Fsynr0 { Afr = true }.Encode());
        Assert.Equal(FSYNR0_S1CBNDX, new Fsynr0 { S1CbNdx = 0xFF }.Encode());
        Assert.Equal(new Fsynr0 { Plvl = 2, Wnr = true, Ptwf = true, S1CbNdx = 5 }, Fsynr0.Decode(0x0005_0412).Value);
    }

    [Fact]
    public void H_SMMUv2_1_sctlr_resume_and_cbfrsynra_bits()
    {
        Assert.Equal(ARM_SMMU_SCTLR_M, new Sctlr { M = true }.Encode());
        Assert.Equal(ARM_SMMU_SCTLR_CFRE, new Sctlr { Cfre = true }.Encode());
        Assert.Equal(ARM_SMMU_SCTLR_CFIE, new Sctlr { Cfie = true }.Encode());
        Assert.Equal(ARM_SMMU_SCTLR_CFCFG, new Sctlr { Cfcfg = true }.Encode());
        Assert.Equal(ARM_SMMU_SCTLR_HUPCF, new Sctlr { Hupcf = true }.Encode());
        // MMU-500 SCTLR with TRE, AFE and E set (unmodelled fields): decodes, and they read back as 0.
        Assert.Equal(new Sctlr(true, true, true, true, true), Sctlr.Decode(0x0000_01F7).Value);

        Assert.Equal(ARM_SMMU_RESUME_TERMINATE, new Resume(Terminate: true).Encode());
        Assert.Equal(0u, new Resume(Terminate: false).Encode()); // RESUME_RETRY (0 << 0)
        Assert.True(Resume.Decode(1).Value.Terminate);
        Assert.False(Resume.Decode(0).Value.Terminate);

        Assert.Equal(0x0003_8021u, new Cbfrsynra(0x8021, 3).Encode());
        Assert.Equal(new Cbfrsynra(0x8021, 3), Cbfrsynra.Decode(0x0003_8021).Value);
    }

    public static TheoryData<string, uint> Malformed => new()
    {
        { "fsr", 1u << 0 },
        { "fsr", 1u << 11 },
        { "fsr", 1u << 29 },
        { "fsynr0", 1u << 2 },
        { "fsynr0", 1u << 7 },
        { "fsynr0", 1u << 12 },
        { "fsynr0", 1u << 24 },
        { "sctlr", 1u << 11 },
        { "sctlr", 1u << 30 },
        { "sctlr", 1u << 31 },
        { "resume", 2 },
        { "resume", 0x8000_0001 },
        { "cbfrsynra", 1u << 31 },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void H_SMMUv2_1_reserved_bits_decode_as_an_error_naming_reserved(string register, uint value)
    {
        var error = register switch
        {
            "fsr" => Fsr.Decode(value).Error,
            "fsynr0" => Fsynr0.Decode(value).Error,
            "sctlr" => Sctlr.Decode(value).Error,
            "resume" => Resume.Decode(value).Error,
            _ => Cbfrsynra.Decode(value).Error,
        };
        Assert.NotNull(error);
        Assert.Equal("reserved", error!.Value.Field);
    }

    [Fact]
    public void H_SMMUv2_1_every_register_value_round_trips_or_names_a_field()
    {
        var random = new Random(62);
        for (int i = 0; i < RecordChecks.Inputs; i++)
        {
            uint value = (uint)random.NextInt64(0, 1L << 32);
            RoundTrip(value, Fsr.Fields, Fsr.Decode, r => r.Encode());
            RoundTrip(value, Fsynr0.Fields, Fsynr0.Decode, r => r.Encode());
            RoundTrip(value, Cbfrsynra.Fields, Cbfrsynra.Decode, r => r.Encode());
            RoundTrip(value, Resume.TnRBit, Resume.Decode, r => r.Encode());
            var sctlr = Sctlr.Decode(value);
            Assert.Equal((value & Sctlr.Reserved) == 0, sctlr.IsOk);
            if (sctlr.IsOk) Assert.Equal(value & Sctlr.Fields, sctlr.Value.Encode());
        }
    }

    /// <summary>Reserved bits are the only cause of an error, and a value without them re-encodes to itself.</summary>
    private static void RoundTrip<T>(uint value, uint fields, Func<uint, DecodeResult<T>> decode, Func<T, uint> encode) where T : struct
    {
        var decoded = decode(value);
        Assert.Equal((value & ~fields) == 0, decoded.IsOk);
        if (!decoded.IsOk) Assert.Equal("reserved", decoded.Error!.Value.Field);
        var clean = decode(value & fields);
        Assert.True(clean.IsOk, clean.Error?.ToString());
        Assert.Equal(value & fields, encode(clean.Value));
    }
}
