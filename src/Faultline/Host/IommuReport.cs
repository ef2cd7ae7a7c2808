namespace Faultline.Host;

/// <summary>One IOMMU unit over a run: its hardware queue, what its driver did, and its stall model where it has one.</summary>
public sealed record IommuReport
{
    /// <summary>The IOMMU's name.</summary>
    public required string Name { get; init; }
    /// <summary>Its architecture (<see cref="IommuUnit.Kind"/>).</summary>
    public required string Kind { get; init; }
    /// <summary>Size of the page request ring (VT-d PRQ, SMMUv3 PRI queue, AMD PPR log), in entries; 0 on SMMUv2.</summary>
    public required int RingEntries { get; init; }
    /// <summary>The most entries the ring held at once.</summary>
    public required int RingHighWater { get; init; }
    /// <summary>Page Requests and Stop Markers that reached the IOMMU.</summary>
    public required long PageRequestsReceived { get; init; }
    /// <summary>Page requests written into the ring.</summary>
    public required long Queued { get; init; }
    /// <summary>Page requests refused before the ring because the IOMMU or the requester's entry does not take them (H-VTD-1, H-SMMU-1, H-AMD-1).</summary>
    public required long RefusedAtGate { get; init; }
    /// <summary>Page requests discarded because the ring was full (H-VTD-3, H-SMMU-3, H-AMD-2).</summary>
    public required long DiscardedFull { get; init; }
    /// <summary>Page requests discarded while the ring was still overflowed: VT-d PRO set (H-VTD-4), the AMD log stopped (H-AMD-2).</summary>
    public required long DiscardedWhileOverflowed { get; init; }
    /// <summary>PRG Responses the IOMMU sent by itself, at the gate or for a discarded last request.</summary>
    public required long AutoResponses { get; init; }
    /// <summary>Interrupts the hardware raised to its driver (on SMMUv3: event queue records written).</summary>
    public required long Events { get; init; }
    /// <summary>Runs of the driver's interrupt threads.</summary>
    public required long DriverBatches { get; init; }
    /// <summary>Faults the driver passed to the fault framework.</summary>
    public required long Reported { get; init; }
    /// <summary>Stop Markers the driver dropped without a response (R31).</summary>
    public required long StopMarkersDropped { get; init; }
    /// <summary>Requests the driver answered itself, without the framework: R31's bad requests, R38's Deny, AMD's invalid PASIDs (R35).</summary>
    public required long BadRequestsAnswered { get; init; }
    /// <summary>Bad requests the driver dropped without an answer: not last, unknown device, malformed.</summary>
    public required long BadRequestsDropped { get; init; }
    /// <summary>Ring overflows the driver handled: PRO cleared (R32), PRIQ overflow seen (R37), PPR log restarted (H-AMD-2).</summary>
    public required long OverflowsCleared { get; init; }
    /// <summary>PRG Responses the IOMMU sent to functions, its own included.</summary>
    public required long PrgResponsesSent { get; init; }
    /// <summary>SMMUv3 only: the shared stall buffer (H-SMMU-9).</summary>
    public StallReport? Stall { get; init; }
    /// <summary>SMMUv2 only: its context banks' stalls (H-SMMUv2-3..5).</summary>
    public Smmuv2Report? Smmuv2 { get; init; }
}

/// <summary>An SMMUv2's context banks over the run: one stall per bank, later transactions of the bank held behind it.</summary>
public sealed record Smmuv2Report
{
    /// <summary>Context banks the SMMUv2 has (SMMU_IDR1.NUMCB).</summary>
    public required int ContextBanks { get; init; }
    /// <summary>Context banks with a master.</summary>
    public required int BanksInUse { get; init; }
    /// <summary>Faults that stalled their context bank (FSR.SS, H-SMMUv2-3).</summary>
    public required long Stalls { get; init; }
    /// <summary>RESUME with TnR = 0: translated again (H-SMMUv2-5).</summary>
    public required long Retries { get; init; }
    /// <summary>RESUME with TnR = 1: the stalled transaction terminated.</summary>
    public required long ResumeTerminations { get; init; }
    /// <summary>Faults terminated without a stall (H-SMMUv2-7, H-SMMUv2-9, H-SMMUv2-10).</summary>
    public required long FaultTerminations { get; init; }
    /// <summary>Transactions that waited behind their bank's stall (H-SMMUv2-4).</summary>
    public required long HeldBehind { get; init; }
    /// <summary>Faults found while the bank's FSR already held one (FSR.MULTI, H-SMMUv2-7).</summary>
    public required long MultiFaults { get; init; }
    /// <summary>The longest a stalled or held transaction waited before it ended or went on.</summary>
    public required long LongestHoldNs { get; init; }
}

/// <summary>An SMMUv3's stall buffer over the run: STALL_MAX shared by every master (H-SMMU-9).</summary>
public sealed record StallReport
{
    /// <summary>STALL_MAX: transactions the SMMU can hold stalled at once, over every master (IDR5).</summary>
    public required int StallMax { get; init; }
    /// <summary>back-pressure or abort: what a fault meets when STALL_MAX transactions are held.</summary>
    public required string WhenFull { get; init; }
    /// <summary>The most transactions held stalled at once.</summary>
    public required int HighWater { get; init; }
    /// <summary>Transactions stalled, with their event written (H-SMMU-5).</summary>
    public required long Stalls { get; init; }
    /// <summary>Stalls ended by CMD_RESUME with Retry: translated again (H-SMMU-6).</summary>
    public required long ResumedRetry { get; init; }
    /// <summary>Stalls ended by CMD_RESUME with Abort: the transaction aborted.</summary>
    public required long ResumedAbort { get; init; }
    /// <summary>Stalls ended by CMD_RESUME with Terminate: ended as the stream's termination model says.</summary>
    public required long ResumedTerminate { get; init; }
    /// <summary>Ended by CMD_STALL_TERM.</summary>
    public required long StallTermTerminated { get; init; }
    /// <summary>Faults terminated at once because STALL_MAX was reached (abort mode).</summary>
    public required long AbortedAtFull { get; init; }
    /// <summary>Transactions that waited at the SMMU's input because STALL_MAX was reached (back-pressure mode).</summary>
    public required long BackPressured { get; init; }
    /// <summary>Events not recorded, the event queue full or disabled (H-SMMU-12).</summary>
    public required long EventsLost { get; init; }
    /// <summary>POL-12: faults terminated instead of stalled because their owner was at its budget.</summary>
    public required long BudgetTerminated { get; init; }
    /// <summary>POL-12: faults of a slow owner resolved in the background after their transaction was terminated, so a retry finds the page.</summary>
    public long ResolvedInBackground { get; init; }
    /// <summary>Stalls held over time, in equal slices of the run.</summary>
    public required IReadOnlyList<OccupancySlice> Occupancy { get; init; }
}
