using Faultline.Iommu;
using Faultline.Sva;

namespace Faultline.Host;

/// <summary>What the host kernel is: its workqueue, SVA costs, fault injection and POL-5 override (docs/scenarios.md, <c>host:</c>).</summary>
public sealed record HostSpec
{
    /// <summary>
    /// Work items of one IOMMU's fault queues that run at once: the CPUs the host gives the unbound workqueue. The
    /// default is the workqueue's own limit, <see cref="WorkqueueMaxActive"/>, as on a host with CPUs to spare (R1).
    /// </summary>
    public int Workers { get; init; } = WorkqueueMaxActive;

    /// <summary>R1: <c>iopf_queue_alloc</c> makes an unbound workqueue with max_active 0, i.e. WQ_DFL_ACTIVE (256) items in flight.</summary>
    public const int WorkqueueMaxActive = 256;
    /// <summary>The model time the SVA handler charges per page it resolves.</summary>
    public SvaCosts Costs { get; init; } = SvaCosts.Default;
    /// <summary>Group allocations (1-based, counted over the run) that fail, for R13 / POL-3.</summary>
    public IReadOnlyList<long> FailGroupAllocations { get; init; } = [];
    /// <summary>The width of canonical virtual addresses: the VT-d driver treats a page request for a non-canonical address as bad (R31).</summary>
    public int VirtualAddressBits { get; init; } = 48;
    /// <summary>POL-5: overrides the policy's userspace response deadline (hardened: 1 s); linux has none.</summary>
    public long? ResponseDeadlineNs { get; init; }
}

/// <summary>The IOMMU architectures a scenario can place.</summary>
public enum IommuType
{
    /// <summary>Intel VT-d: the page request queue and the invalidation queue.</summary>
    Vtd,
    /// <summary>Arm SMMUv3: the PRI queue, and the event queue with the stall model for platform masters.</summary>
    Smmuv3,
    /// <summary>AMD IOMMU: the PPR log and the command buffer.</summary>
    Amd,
    /// <summary>Arm SMMUv2: context banks, platform masters only (docs/smmuv2.md §7).</summary>
    Smmuv2,
}

/// <summary>One IOMMU of the host: its name, architecture and the sizes and switches of its hardware (docs/scenarios.md, <c>iommus:</c>).</summary>
public sealed record IommuSpec
{
    /// <summary>The IOMMU's name in reports, notes and the trace.</summary>
    public required string Name { get; init; }
    /// <summary>The architecture; VT-d unless set.</summary>
    public IommuType Type { get; init; } = IommuType.Vtd;
    /// <summary>VT-d PQA.QS: 2^(order+7) descriptors.</summary>
    public int PageRequestQueueOrder { get; init; } = 4;
    /// <summary>SMMUv3 PRIQ LOG2SIZE (default 8) or AMD PPR log log2(entries) (default 9).</summary>
    public int? QueueLog2 { get; init; }
    /// <summary>What a discarded last request is answered; null: the architecture's default (Success on VT-d and SMMUv3, none on AMD).</summary>
    public DiscardAutoResponse? DiscardAutoResponse { get; init; }
    /// <summary>VT-d ECAP.PDS: page-request drain supported; without it the driver refuses IOPF (H-VTD-14).</summary>
    public bool PageDrainSupported { get; init; } = true;
    /// <summary>SMMUv3 EVENTQ LOG2SIZE.</summary>
    public int EventQueueLog2 { get; init; } = 7;
    /// <summary>SMMUv3 IDR5.STALL_MAX (H-SMMU-9).</summary>
    public int StallMax { get; init; } = 16;
    /// <summary>SMMUv3: what a fault meets when STALL_MAX transactions are held, back-pressure or abort (H-SMMU-9).</summary>
    public Iommu.Smmuv3.StallBufferFullMode StallBufferFull { get; init; } = Iommu.Smmuv3.StallBufferFullMode.BackPressure;
    /// <summary>SMMUv3 PRI service; null: from the policy (linux: deny as upstream, R38; hardened: the framework).</summary>
    public Iommu.Smmuv3.PriService? PriService { get; init; }
    /// <summary>SMMUv3: the 2020 PRI series' probe enables PRI in PCIe functions; null: from the policy (linux: off, as mainline never does, R38; hardened: on).</summary>
    public bool? PriSeries { get; init; }
    /// <summary>AMD H-AMD-3: the PPR interrupt precedes the entry's write by this much; null: the entry is written first.</summary>
    public long? InterruptBeforeEntryNs { get; init; }
    /// <summary>SMMUv2 SMMU_IDR1.NUMCB: context banks, one per master.</summary>
    public int ContextBanks { get; init; } = 8;
}

