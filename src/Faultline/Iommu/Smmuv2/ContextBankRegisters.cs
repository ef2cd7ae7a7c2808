namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// Offsets of the context bank registers in the bank's page (Linux <c>ARM_SMMU_CB_*</c>, seL4
/// <c>SMMU_CBn_*</c>, AMD UG1087; docs/smmuv2.md §2). FSYNR1 is IMPLEMENTATION DEFINED: the model reads it as 0.
/// </summary>
public static class ContextBankRegisters
{
    /// <summary>SMMU_CBn_SCTLR, 0x0.</summary>
    public const int Sctlr = 0x0;
    /// <summary>SMMU_CBn_RESUME, 0x8, write-only.</summary>
    public const int Resume = 0x8;
    /// <summary>SMMU_CBn_FSR, 0x58.</summary>
    public const int Fsr = 0x58;
    /// <summary>SMMU_CBn_FAR, 0x60: 64 bits, the high word at 0x64.</summary>
    public const int Far = 0x60;
    /// <summary>SMMU_CBn_FSYNR0, 0x68.</summary>
    public const int Fsynr0 = 0x68;
    /// <summary>SMMU_CBn_FSYNR1, 0x6C (IMPLEMENTATION DEFINED; reads as 0 here).</summary>
    public const int Fsynr1 = 0x6c;
}
