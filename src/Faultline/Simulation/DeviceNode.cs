using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;

namespace Faultline.Simulation;

/// <summary>
/// A device in the topology that performs DMA for workloads: a PCIe function (<see cref="FunctionNode"/>)
/// or a platform stall master (<see cref="MasterNode"/>), behind one IOMMU.
/// </summary>
internal abstract class DeviceNode(IommuNode iommu)
{
    public abstract string Name { get; }
    /// <summary>Its process in the trace.</summary>
    public abstract string TraceName { get; }
    public IommuNode Iommu { get; } = iommu;
    public FaultDevice? FaultDevice { get; set; }
    public IPasidTable PasidTable { get; set; } = null!;
    /// <summary>Processes bound to the device, by name, and their PASIDs.</summary>
    public Dictionary<string, uint> Pasids { get; } = new();
    /// <summary>The guest that owns the device, or null for a host device.</summary>
    public string? Owner { get; set; }
    public long[] Results { get; } = new long[Enum.GetValues<AccessResult>().Length];
    public LatencyRecorder FaultLatency { get; } = new();

    public abstract void StartAccess(DmaAccess access, long now);

    /// <summary>Whether its IOMMU's hardware queue still holds requests or events of it at <paramref name="pasid"/> (the drain's scan).</summary>
    public abstract bool QueueHolds(uint pasid);
}
