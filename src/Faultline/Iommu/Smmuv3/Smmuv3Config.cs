using Faultline.Iommu.Vtd;

namespace Faultline.Iommu.Smmuv3;

/// <summary>SMMU_IDR0.STALL_MODEL (bits 25:24, smmuv3.md §1).</summary>
public enum StallModel : byte
{
    /// <summary>0b00: stall and terminate models both supported; a stream chooses with CD.S / STE.S1STALLD.</summary>
    StallAndTerminate = 0b00,
    /// <summary>0b01: terminate only; no transaction is ever stalled.</summary>
    TerminateOnly = 0b01,
    /// <summary>0b10: stall forced; CD.S = 0 is illegal and STE.S1STALLD cannot turn stalling off.</summary>
    StallForced = 0b10,
}

/// <summary>H-SMMU-9 switch: what a faulting stall-eligible transaction meets when STALL_MAX transactions are already held.</summary>
public enum StallBufferFullMode
{
    /// <summary>It waits at the SMMU's input, and every transaction behind it waits too, until a slot frees.</summary>
    BackPressure,
    /// <summary>It is terminated with an abort at once (its fault recorded without Stall).</summary>
    Abort,
}

/// <summary>The configuration of one SMMUv3 (ID registers and the open-point switches of smmuv3.md §10).</summary>
public sealed record Smmuv3Config
{
    /// <summary>The SMMU's name in reports; its IOPF queues are <c>&lt;name&gt;-priq</c> and <c>&lt;name&gt;-evtq</c>.</summary>
    public required string Name { get; init; }

    /// <summary>log2 of the PRI queue entries (PRIQ_BASE.LOG2SIZE). 8 = 256, Linux's bound before 5.3 (smmuv3.md §8).</summary>
    public int PriQueueShift { get; init; } = 8;

    /// <summary>log2 of the event queue entries. 7 = 128, Linux's bound before 5.3.</summary>
    public int EventQueueShift { get; init; } = 7;

    /// <summary>log2 of the command queue entries. 8 = 256.</summary>
    public int CommandQueueShift { get; init; } = 8;

    /// <summary>IDR0.ATS.</summary>
    public bool AtsSupported { get; init; } = true;

    /// <summary>IDR0.PRI (H-SMMU-1).</summary>
    public bool PriSupported { get; init; } = true;

    /// <summary>IDR0.STALL_MODEL: whether and how streams may stall (H-SMMU-5).</summary>
    public StallModel StallModel { get; init; } = StallModel.StallAndTerminate;

    /// <summary>IDR5.STALL_MAX, shared by all streams (H-SMMU-9). No public source gives a typical value; 16 is arbitrary.</summary>
    public int StallMax { get; init; } = 16;

    /// <summary>H-SMMU-9: what a faulting transaction meets when STALL_MAX stalls are already held.</summary>
    public StallBufferFullMode WhenStallBufferFull { get; init; } = StallBufferFullMode.BackPressure;

    /// <summary>H-SMMU-3 [UNVERIFIED]: the answer to a last request the full PRIQ discarded; default Success as H-VTD-5.</summary>
    public DiscardAutoResponse DiscardAutoResponse { get; init; } = DiscardAutoResponse.Success;

    /// <summary>PRIQ entries: 2^<see cref="PriQueueShift"/>.</summary>
    public int PriQueueEntries => 1 << PriQueueShift;
    /// <summary>EVTQ entries: 2^<see cref="EventQueueShift"/>.</summary>
    public int EventQueueEntries => 1 << EventQueueShift;
    /// <summary>CMDQ entries: 2^<see cref="CommandQueueShift"/>.</summary>
    public int CommandQueueEntries => 1 << CommandQueueShift;
}

/// <summary>
/// The STE and CD fields of a platform stall master's stream (smmuv3.md §5). One CD per stream: every
/// substream of the stream shares these bits, which is all the stall rules need.
/// </summary>
public sealed record StallStreamConfig
{
    /// <summary>CD.S: stall on a stage-1 fault (H-SMMU-5).</summary>
    public bool Stall { get; init; } = true;

    /// <summary>CD.R: record faults in the event queue; a stall needs it.</summary>
    public bool Record { get; init; } = true;

    /// <summary>CD.A: a terminated transaction gets an abort, rather than read-as-zero / write-ignored (H-SMMU-6).</summary>
    public bool AbortOnTerminate { get; init; } = true;

    /// <summary>STE.S1STALLD: stalling disabled for the stream.</summary>
    public bool StallDisabled { get; init; }
}
