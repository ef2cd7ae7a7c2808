using Faultline.Devices;

namespace Faultline.Iommu.Smmuv2;

/// <summary>The configuration of one SMMUv2 (docs/smmuv2.md §6).</summary>
public sealed record Smmuv2Config
{
    /// <summary>The SMMU's name in reports; its IOPF queue is <c>&lt;name&gt;-iopfq</c>.</summary>
    public required string Name { get; init; }

    /// <summary>SMMU_IDR1.NUMCB: context banks (Linux caps them at <c>ARM_SMMU_MAX_CBS</c> 128).</summary>
    public int ContextBanks { get; init; } = 8;
}

/// <summary>What the SMMUv2 model does to the world outside it; the host decides when it lands.</summary>
public interface ISmmuv2Platform
{
    /// <summary>The context bank's interrupt line went up: CFIE is set and FSR holds a fault (H-SMMUv2-8).</summary>
    void RaiseContextInterrupt(Smmuv2 smmu, int contextBank);

    /// <summary>A master's transaction ended: performed, aborted or terminated as read-zero / write-ignore.</summary>
    void TransactionEnded(Smmuv2 smmu, in StallTransaction transaction, TransactionOutcome outcome);
}

/// <summary>What the SMMUv2 model counted.</summary>
public sealed class Smmuv2Counters
{
    /// <summary>Masters' transactions that reached the SMMU.</summary>
    public long Transactions { get; internal set; }
    /// <summary>Transactions translated without a fault and performed (bypassed ones are in <see cref="Bypassed"/>).</summary>
    public long Completed { get; internal set; }
    /// <summary>SCTLR.M = 0: the context bank let the transaction through untranslated.</summary>
    public long Bypassed { get; internal set; }
    /// <summary>No stream mapping for the StreamID (sCR0.USFCFG = 1 behaviour): aborted.</summary>
    public long UnmatchedStreams { get; internal set; }
    /// <summary>H-SMMUv2-3: faults that stalled (FSR.SS set).</summary>
    public long Stalls { get; internal set; }
    /// <summary>H-SMMUv2-5: RESUME writes with TnR = 0.</summary>
    public long Retries { get; internal set; }
    /// <summary>H-SMMUv2-5: RESUME writes with TnR = 1.</summary>
    public long ResumeTerminations { get; internal set; }
    /// <summary>H-SMMUv2-9: faults terminated at once (CFCFG = 0, or a stall that could not be recorded).</summary>
    public long FaultTerminations { get; internal set; }
    /// <summary>H-SMMUv2-10: transactions terminated because HUPCF = 0 and a fault was still recorded.</summary>
    public long TerminatedUnderFault { get; internal set; }
    /// <summary>H-SMMUv2-4: transactions held behind a stalled one.</summary>
    public long HeldBehind { get; internal set; }
    /// <summary>H-SMMUv2-7: faults found while FSR already recorded one (MULTI).</summary>
    public long MultiFaults { get; internal set; }
    /// <summary>The longest time (ns) a stalled or held transaction waited before it ended or went on.</summary>
    public long LongestHold { get; internal set; }
    /// <summary>Rising edges of the context banks' interrupt lines.</summary>
    public long ContextInterrupts { get; internal set; }
    /// <summary>RESUME written with no transaction stalled: ignored.</summary>
    public long ResumesWithoutStall { get; internal set; }
    /// <summary>Register writes with reserved bits set: ignored (docs/smmuv2.md §2).</summary>
    public long RejectedWrites { get; internal set; }
}
