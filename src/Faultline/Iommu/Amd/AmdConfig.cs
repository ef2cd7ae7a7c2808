using Faultline.Pcie;

namespace Faultline.Iommu.Amd;

/// <summary>The configuration of one AMD IOMMU (amd.md §1, §6).</summary>
public sealed record AmdConfig
{
    /// <summary>PCI segment of the IOMMU function; with <see cref="DeviceId"/> it names the IOPF queue (<c>amdvi-&lt;sbdf&gt;</c>).</summary>
    public ushort Segment { get; init; }

    /// <summary>The IOMMU's own PCI function (00:00.2 on most platforms).</summary>
    public RequesterId DeviceId { get; init; } = RequesterId.From(0, 0, 2);

    /// <summary>PPR log base register 59:56: log2 of the entry count. Linux writes 9 (512 entries, 8 KiB).</summary>
    public int PprLogOrder { get; init; } = 9;

    /// <summary>Command buffer entries (Linux: 512 × 16 B).</summary>
    public int CommandBufferEntries { get; init; } = 512;

    /// <summary>EFR.PPRSup (H-AMD-1).</summary>
    public bool PprSupported { get; init; } = true;

    /// <summary>
    /// The IOMMU's PASID limit: EFR PASmax = 15 gives (1 &lt;&lt; 16) − 1, the most Linux accepts (H-AMD-6);
    /// a device's limit is the smaller of this and its PASID capability's 2^width.
    /// </summary>
    public uint MaxPasids { get; init; } = (1u << 16) - 1;

    /// <summary>
    /// H-AMD-2 switch [UNVERIFIED]: what the IOMMU answers by itself for a last request the log does not
    /// take (full, stopped, or refused at the gate). Null (default): nothing, which is what Linux assumes.
    /// </summary>
    public ResponseCode? LostRequestAutoResponse { get; init; }

    /// <summary>
    /// H-AMD-3 switch "interrupt precedes entry write by Δ" (ns): the tail moves and the interrupt fires on
    /// arrival, the entry reaches memory Δ later. Null (default): the entry is written before the tail moves.
    /// </summary>
    public long? InterruptPrecedesEntryBy { get; init; }

    /// <summary>PPR log entries: 2^<see cref="PprLogOrder"/>.</summary>
    public int PprLogEntries => 1 << PprLogOrder;

    /// <summary>The IOMMU's segment:bus:device.function, as its IOPF queue's name carries it.</summary>
    public string Sbdf => $"{Segment:x4}:{DeviceId}";
}

/// <summary>What the AMD IOMMU model does to the world outside it; the host decides when it lands.</summary>
public interface IAmdPlatform
{
    /// <summary>The PPR log interrupt (MSI) fires: Status.PPRInt or PPROverflow became set with Control.PPRIntEn.</summary>
    void RaisePprInterrupt(AmdIommu iommu);

    /// <summary>H-AMD-3: a PPR log entry becomes visible in memory at <paramref name="due"/>; the host then calls <see cref="AmdIommu.CompletePprLogWrites"/>.</summary>
    void SchedulePprLogWrite(AmdIommu iommu, long due);

    /// <summary>Software moved the command buffer tail; the hardware should fetch commands.</summary>
    void CommandQueued(AmdIommu iommu);

    /// <summary>A PRG Response message leaves the root port toward the function.</summary>
    void SendPrgResponse(AmdIommu iommu, in PrgResponse response);
}
