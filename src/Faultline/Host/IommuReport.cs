namespace Faultline.Host;

/// <summary>One IOMMU unit over a run: its hardware queue, what its driver did, and its stall model where it has one.</summary>
public sealed record IommuReport
{
    public required string Name { get; init; }
    public required string Kind { get; init; }
    public required int RingEntries { get; init; }
    public required int RingHighWater { get; init; }
    public required long PageRequestsReceived { get; init; }
    public required long Queued { get; init; }
    public required long RefusedAtGate { get; init; }
    public required long DiscardedFull { get; init; }
    public required long DiscardedWhileOverflowed { get; init; }
    public required long AutoResponses { get; init; }
    public required long Events { get; init; }
    public required long DriverBatches { get; init; }
    public required long Reported { get; init; }
    public required long StopMarkersDropped { get; init; }
    public required long BadRequestsAnswered { get; init; }
    public required long BadRequestsDropped { get; init; }
    public required long OverflowsCleared { get; init; }
    public required long PrgResponsesSent { get; init; }
    /// <summary>SMMUv3 only: the shared stall buffer (H-SMMU-9).</summary>
    public StallReport? Stall { get; init; }
    /// <summary>SMMUv2 only: its context banks' stalls (H-SMMUv2-3..5).</summary>
    public Smmuv2Report? Smmuv2 { get; init; }
}

/// <summary>An SMMUv2's context banks over the run: one stall per bank, later transactions of the bank held behind it.</summary>
public sealed record Smmuv2Report
{
    public required int ContextBanks { get; init; }
    /// <summary>Context banks with a master.</summary>
    public required int BanksInUse { get; init; }
    public required long Stalls { get; init; }
    /// <summary>RESUME with TnR = 0: translated again (H-SMMUv2-5).</summary>
    public required long Retries { get; init; }
    /// <summary>RESUME with TnR = 1: the stalled transaction terminated.</summary>
    public required long ResumeTerminations { get; init; }
    /// <summary>Faults terminated without a stall (H-SMMUv2-7, H-SMMUv2-9, H-SMMUv2-10).</summary>
    public required long FaultTerminations { get; init; }
    /// <summary>Transactions that waited behind their bank's stall (H-SMMUv2-4).</summary>
    public required long HeldBehind { get; init; }
    public required long MultiFaults { get; init; }
    /// <summary>The longest a stalled or held transaction waited before it ended or went on.</summary>
    public required long LongestHoldNs { get; init; }
}

/// <summary>An SMMUv3's stall buffer over the run: STALL_MAX shared by every master (H-SMMU-9).</summary>
public sealed record StallReport
{
    public required int StallMax { get; init; }
    /// <summary>back-pressure or abort: what a fault meets when STALL_MAX transactions are held.</summary>
    public required string WhenFull { get; init; }
    public required int HighWater { get; init; }
    public required long Stalls { get; init; }
    public required long ResumedRetry { get; init; }
    public required long ResumedAbort { get; init; }
    public required long ResumedTerminate { get; init; }
    /// <summary>Ended by CMD_STALL_TERM.</summary>
    public required long StallTermTerminated { get; init; }
    /// <summary>Faults terminated at once because STALL_MAX was reached (abort mode).</summary>
    public required long AbortedAtFull { get; init; }
    /// <summary>Transactions that waited at the SMMU's input because STALL_MAX was reached (back-pressure mode).</summary>
    public required long BackPressured { get; init; }
    public required long EventsLost { get; init; }
    /// <summary>POL-12: faults terminated instead of stalled because their owner was at its budget.</summary>
    public required long BudgetTerminated { get; init; }
    /// <summary>Stalls held over time, in equal slices of the run.</summary>
    public required IReadOnlyList<OccupancySlice> Occupancy { get; init; }
}
