using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>The configuration of one VT-d remapping unit.</summary>
public sealed record VtdConfig
{
    /// <summary>The unit's name in reports and traces; its IOPF queue is <c>&lt;name&gt;-iopfq</c>.</summary>
    public required string Name { get; init; }

    /// <summary>PQA.PQS: the PRQ is 2^PQS × 4 KiB, i.e. 2^(PQS+7) 32-byte descriptors (vtd.md §1). Linux uses 4.</summary>
    public int PageRequestQueueOrder { get; init; } = 4;

    /// <summary>Invalidation queue descriptors (Linux QI_LENGTH = 256).</summary>
    public int InvalidationQueueEntries { get; init; } = 256;

    /// <summary>ECAP.PRS: page requests supported (H-VTD-1).</summary>
    public bool PageRequestsSupported { get; init; } = true;

    /// <summary>ECAP.PDS: page-request drain supported (H-VTD-14).</summary>
    public bool PageDrainSupported { get; init; } = true;

    /// <summary>H-VTD-5: what the unit answers by itself for a last request the PRQ discarded (full, or PRO set).</summary>
    public DiscardAutoResponse DiscardAutoResponse { get; init; } = DiscardAutoResponse.Success;

    /// <summary>PRQ descriptors: 2^(PQS+7), from <see cref="PageRequestQueueOrder"/>.</summary>
    public int PageRequestQueueEntries => 1 << (PageRequestQueueOrder + 7);
}

/// <summary>What the VT-d hardware model does to the world outside it; the host decides when it lands.</summary>
public interface IVtdPlatform
{
    /// <summary>The page request event (MSI) fires.</summary>
    void RaisePageRequestEvent(VtdIommu iommu);

    /// <summary>Software moved the invalidation queue tail; the hardware should fetch descriptors.</summary>
    void InvalidationQueued(VtdIommu iommu);

    /// <summary>A PRG Response message leaves the root port toward the function.</summary>
    void SendPrgResponse(VtdIommu iommu, in PrgResponse response);

    /// <summary>An ATS Invalidate Request leaves toward a function (device-TLB invalidation).</summary>
    void SendInvalidateRequest(VtdIommu iommu, in InvalidateRequest request);

    /// <summary>An invalidation wait descriptor with SW = 1 completed: its status data is written.</summary>
    void InvalidationWaitCompleted(VtdIommu iommu, in InvalidationWaitDescriptor wait);
}
