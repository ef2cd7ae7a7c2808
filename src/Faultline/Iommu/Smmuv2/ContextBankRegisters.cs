namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// Offsets of the context bank registers in the bank's page (Linux <c>ARM_SMMU_CB_*</c>, seL4
/// <c>SMMU_CBn_*</c>, AMD UG1087; docs/smmuv2.md §2). FSYNR1 is IMPLEMENTATION DEFINED: the model reads it as 0.
/// </summary>
public static class ContextBankRegisters
{
    public const int Sctlr = 0x0;
    public const int Resume = 0x8;
    public const int Fsr = 0x58;
    public const int Far = 0x60;
    public const int Fsynr0 = 0x68;
    public const int Fsynr1 = 0x6c;
}
