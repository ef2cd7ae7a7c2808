using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Iommu.Smmuv3;

/// <summary>What the SMMUv3 model does to the world outside it; the host decides when each lands.</summary>
public interface ISmmuv3Platform
{
    /// <summary>The PRIQ interrupt fires (IRQ_CTRL.PRIQ_IRQEN): the queue became non-empty or overflowed.</summary>
    void RaisePriQueueInterrupt(Smmuv3Iommu smmu);

    /// <summary>The EVTQ interrupt fires (IRQ_CTRL.EVENTQ_IRQEN): the queue became non-empty or overflowed.</summary>
    void RaiseEventQueueInterrupt(Smmuv3Iommu smmu);

    /// <summary>Software moved CMDQ_PROD; the host calls <see cref="Smmuv3Iommu.ProcessCommandQueue"/> when the SMMU gets to it.</summary>
    void CommandQueued(Smmuv3Iommu smmu);

    /// <summary>A PRG Response leaves the root port toward the function (CMD_PRI_RESP, or an auto-response).</summary>
    void SendPrgResponse(Smmuv3Iommu smmu, in PrgResponse response);

    /// <summary>A platform master's transaction ended (at once, after a resume, or terminated).</summary>
    void CompleteTransaction(Smmuv3Iommu smmu, in StallTransaction transaction, TransactionOutcome outcome, long now);

    /// <summary>The number of stalled transactions changed (for sampling the shared stall buffer over time, H-SMMU-9).</summary>
    void StallOccupancyChanged(Smmuv3Iommu smmu, int stalled, long now);
}
