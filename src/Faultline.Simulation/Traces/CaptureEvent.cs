using Faultline.Pcie;

namespace Faultline.Simulation.Traces;

/// <summary>What a line of a capture says about the fault path.</summary>
public enum CaptureEventKind
{
    /// <summary>A page request the driver read (VT-d <c>prq_report</c>, <c>dev_fault</c>, SMMUv3's "unexpected PRI request" lines).</summary>
    PageRequest,
    /// <summary>A response the host sent (VT-d <c>page_grp_resp</c>, <c>dev_page_response</c>, SMMUv3's implied Deny of a last request).</summary>
    Response,
    /// <summary>A VT-d invalidation-queue descriptor other than a response (the R33 drain's fence, IOTLB, device-TLB and drain waits).</summary>
    Invalidation,
    /// <summary>The driver saw its queue overflow: requests were lost (and auto-answered where the hardware does so).</summary>
    Overflow,
    /// <summary>The overflow is over: VT-d cleared PRO with the queue empty (R32), AMD restarted its PPR log (H-AMD-2).</summary>
    OverflowCleared,
    /// <summary>The hardened host reset a function's PRI after its guest left (POL-9): its outstanding groups are void.</summary>
    PriReset,
}

/// <summary>
/// One fact of a capture, decoded from its line. A device is named as the capture names it (its <c>dev_name</c>, or
/// the StreamID of an SMMUv3 log line); a VT-d response names only the requester id, which the checker maps back to
/// the device its requests came from.
/// </summary>
public readonly record struct CaptureEvent
{
    public CaptureEventKind Kind { get; init; }
    /// <summary>The line in the capture.</summary>
    public long Line { get; init; }
    public long TimeNs { get; init; }
    /// <summary>The IOMMU, where the line names it ("" for <c>dev_fault</c>, <c>dev_page_response</c> and AMD log lines).</summary>
    public string Iommu { get; init; }
    /// <summary>The IOMMU's architecture (vtd, smmuv3, amd) where the line tells it, else "".</summary>
    public string IommuKind { get; init; }
    /// <summary>The device, where the line names it.</summary>
    public string Device { get; init; }
    /// <summary>The requester id (VT-d), or null.</summary>
    public ushort? Requester { get; init; }
    public uint Pasid { get; init; }
    public bool HasPasid { get; init; }
    /// <summary>The PRG index (a stall tag or PPR tag for the other IOMMUs).</summary>
    public ushort Index { get; init; }
    /// <summary>A request: the last of its group; a VT-d response: its LPIG bit.</summary>
    public bool Last { get; init; }
    public bool Read { get; init; }
    public bool Write { get; init; }
    public bool Execute { get; init; }
    public bool Privileged { get; init; }
    /// <summary>The page address of a request.</summary>
    public ulong Address { get; init; }
    /// <summary>A response's code, as the device reads it.</summary>
    public ResponseCode Code { get; init; }
    /// <summary>VT-d <c>prq_report</c>: the driver's sequence number; else -1.</summary>
    public long Sequence { get; init; }
    /// <summary>A request the driver answers itself, Deny, when it is the last of its group (SMMUv3 without PRI support, R38).</summary>
    public bool DeniedByDriver { get; init; }
    /// <summary>A stalled transaction of a platform master (dev_fault's <c>stall=1</c>), not a PCIe page request.</summary>
    public bool Stall { get; init; }
    /// <summary>An invalidation descriptor's four quadwords.</summary>
    public (ulong Qw0, ulong Qw1, ulong Qw2, ulong Qw3) Descriptor { get; init; }
}
