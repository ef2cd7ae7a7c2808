namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// A write to SMMU_CBn_RESUME (offset 0x8, write-only): TnR, bit 0, ends the context bank's stalled
/// transaction, 0 retrying it and 1 terminating it (H-SMMUv2-5). Bits 31:1 are reserved: decode names them.
/// <para>
/// Sources. Linux drivers/iommu/arm/arm-smmu/arm-smmu.h: <c>ARM_SMMU_CB_RESUME</c> 0x8,
/// <c>ARM_SMMU_RESUME_TERMINATE</c> BIT(0) (older kernels also <c>RESUME_RETRY</c> (0 &lt;&lt; 0)); arm-smmu.c
/// <c>arm_smmu_context_fault</c> writes <c>ret == -EAGAIN ? 0 : ARM_SMMU_RESUME_TERMINATE</c>. AMD UG1087 and
/// the Intel HPS map: SMMU_CBn_RESUME, WO, field TnR at bit 0, all other bits reserved.
/// </para>
/// </summary>
public readonly record struct Resume(bool Terminate)
{
    /// <summary>TnR, bit 0: 1 terminates the stalled transaction, 0 retries it.</summary>
    public const uint TnRBit = 1u << 0;

    /// <summary>The value written to RESUME.</summary>
    public uint Encode() => Terminate ? TnRBit : 0;

    /// <summary>Reads a written value; fails when a reserved bit (31:1) is set.</summary>
    public static DecodeResult<Resume> Decode(uint value)
    {
        if ((value & ~TnRBit) != 0)
            return DecodeResult<Resume>.Fail("reserved", $"RESUME bits 0x{value & ~TnRBit:x8} are reserved (31:1)");
        return new Resume(value == TnRBit);
    }
}
