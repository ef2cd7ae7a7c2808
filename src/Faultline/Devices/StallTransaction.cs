namespace Faultline.Devices;

/// <summary>
/// One memory transaction of a platform (non-PCIe) master as an Arm SMMU sees it: the master's
/// StreamID, an optional SubstreamID (SSV), one page, and the attributes that an event record or a
/// fault syndrome reports (RnW, InD, PnU). A stall-capable SMMU may hold it until software resumes or
/// terminates it (H-SMMU-5, H-SMMU-6); the SMMU tells its host how it ended (<see cref="TransactionOutcome"/>).
/// </summary>
public readonly record struct StallTransaction(
    long Id,
    uint StreamId,
    uint? SubstreamId,
    ulong Address,
    bool Write,
    bool Instruction = false,
    bool Privileged = false);

/// <summary>How a platform master's transaction ended.</summary>
public enum TransactionOutcome
{
    /// <summary>Translated (at once, or after a retry that found the page mapped) and performed.</summary>
    Completed,
    /// <summary>Completed with an error to the master: CMD_RESUME Abort, or a terminate with CD.A = 1 (H-SMMU-6).</summary>
    Aborted,
    /// <summary>Terminated without an error: reads as zero, writes ignored (CD.A = 0, H-SMMU-6).</summary>
    TerminatedRazWi,
}

/// <summary>The master's path into its SMMU; the host decides when the transaction arrives.</summary>
public interface IStallMasterPort
{
    /// <summary>Sends one transaction toward the SMMU.</summary>
    void SendTransaction(in StallTransaction transaction);

    /// <summary>Sends an aborted transaction again once <paramref name="delayNs"/> has passed (<see cref="StallMasterConfig.Retries"/>): the host keeps the time.</summary>
    void SendTransaction(in StallTransaction transaction, long delayNs);
}
