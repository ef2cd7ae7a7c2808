using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>
/// A device as the host kernel knows it, behind one IOMMU unit: a PCIe function (<see cref="FunctionPort"/>) or a
/// platform stall master (<see cref="MasterPort"/>); its driver handle, its PASID table, the processes bound to it.
/// </summary>
public abstract class DevicePort
{
    private protected DevicePort(int id, IommuUnit unit)
    {
        Id = id;
        Unit = unit;
    }

    /// <summary>Its place in <see cref="HostKernel.Devices"/>, as <see cref="HostAction.Target"/> names it.</summary>
    public int Id { get; }
    /// <summary>The device's name, as its function or master config gives it.</summary>
    public abstract string Name { get; }
    /// <summary>Its process in a trace.</summary>
    public abstract string TraceName { get; }
    /// <summary>The IOMMU the device sits behind.</summary>
    public IommuUnit Unit { get; }
    /// <summary>The framework's handle, when the driver enabled IOPF for it.</summary>
    public FaultDevice? FaultDevice
    {
        get => _faultDevice;
        internal set
        {
            _faultDevice = value;
            if (value is not null) value.Owner = this;
        }
    }
    private FaultDevice? _faultDevice;
    /// <summary>The IOMMU's PASID table for the device (context entry, CD table, DTE or context bank), where bound address spaces are installed.</summary>
    internal IPasidTable PasidTable { get; set; } = null!;
    internal Dictionary<string, uint> BoundPasids { get; } = new();
    /// <summary>Processes bound to the device, by name, and their PASIDs.</summary>
    public IReadOnlyDictionary<string, uint> Pasids => BoundPasids;

    /// <summary>
    /// How many times a process was bound to the device or left it: a host that keeps what it looked up in
    /// <see cref="Pasids"/> (a workload starts an access per lookup) looks again only when this moved (issue 9).
    /// </summary>
    public int BindingChanges { get; private set; }

    internal void Bind(string process, uint pasid)
    {
        BoundPasids.Add(process, pasid);
        BindingChanges++;
    }

    internal bool Unbind(string process, out uint pasid)
    {
        if (!BoundPasids.Remove(process, out pasid)) return false;
        BindingChanges++;
        return true;
    }

    /// <summary>The process bound to the device at <paramref name="pasid"/>, or null. Allocation-free: a host asks it per answered group.</summary>
    public string? ProcessAt(uint pasid)
    {
        foreach (var (process, bound) in BoundPasids) if (bound == pasid) return process;
        return null;
    }
    /// <summary>The guest that owns the device, or null for a host device.</summary>
    public string? Owner { get; internal set; }

    /// <summary>Whether its IOMMU's hardware queue still holds requests or events of it at <paramref name="pasid"/> (the drain's scan).</summary>
    internal abstract bool QueueHolds(uint pasid);
}

/// <summary>A PCIe function: ATS, PRI and PASID, page requests through its IOMMU's queue.</summary>
public sealed class FunctionPort : DevicePort
{
    internal FunctionPort(int id, IommuUnit unit, PriFunction function, uint? credits) : base(id, unit)
    {
        Function = function;
        Credits = credits;
    }

    /// <summary>The function's model.</summary>
    public PriFunction Function { get; }
    /// <inheritdoc />
    public override string Name => Function.Name;
    /// <summary>The function's requester id (bus, device, function).</summary>
    public RequesterId Requester => Function.Requester;
    /// <inheritdoc />
    public override string TraceName => $"{Name} (PCIe {Requester} behind {Unit.Name})";
    /// <summary>The PRI credits its driver asks for; null: the function's capacity.</summary>
    public uint? Credits { get; }
    /// <summary>PRG Responses the kernel sent that the host has not delivered yet (POL-9 waits for none).</summary>
    public int ResponsesInFlight { get; internal set; }
    /// <summary>ATS Translation Completions the kernel sent that the host has not delivered yet (POL-13 waits for none).</summary>
    public int TranslationsInFlight { get; internal set; }
    /// <summary>Teardowns of the function whose PASID stop (H-PCI-19) has not completed yet.</summary>
    internal int StopsUnderWay { get; set; }
    /// <summary>Why the kernel waits to reset the function's PRI, or <see cref="PriResetReason.None"/>.</summary>
    internal PriResetReason PendingReset { get; set; }
    /// <summary>The guest whose domain change asked for the pending reset (POL-9).</summary>
    internal GuestAttachment? ResetGuest { get; set; }
    /// <summary>POL-14: its IOMMU lost page requests since the function's last PRI reset; some may have been its own.</summary>
    internal bool MayHaveLostRequests { get; set; }
    /// <summary>POL-13: PASID stops by Stop Marker the host asked of the function since its last PRI reset; each may keep a credit (H-PCI-21).</summary>
    internal uint MarkerStopsSinceReset { get; set; }
    /// <summary>POL-13: <see cref="MarkerStopsSinceReset"/> has reached the function's allocation: its markers may hold every credit.</summary>
    internal bool MarkersAtAllocation { get; set; }
    /// <summary>Credits the host's PRI resets of the function gave back (POL-9, POL-13, POL-14).</summary>
    public long CreditsRecoveredByReset { get; internal set; }

    internal override bool QueueHolds(uint pasid) => Unit.RingHolds(Requester, pasid);
}

/// <summary>A platform master that can stall (<c>dma-can-stall</c>), behind an SMMUv3 or an SMMUv2 context bank.</summary>
public sealed class MasterPort : DevicePort
{
    internal MasterPort(int id, IommuUnit unit, StallMaster master, string? owner) : base(id, unit)
    {
        Master = master;
        StallOwner = owner;
    }

    /// <summary>The master's model.</summary>
    public StallMaster Master { get; }
    /// <inheritdoc />
    public override string Name => Master.Config.Name;
    /// <summary>The StreamID the master's transactions carry.</summary>
    public uint StreamId => Master.Config.StreamId;
    /// <summary>Whose POL-12 stall budget its stalls count against; null: the master itself.</summary>
    public string? StallOwner { get; }
    /// <inheritdoc />
    public override string TraceName => $"{Name} (stall master 0x{StreamId:x} behind {Unit.Name})";

    internal override bool QueueHolds(uint pasid) => Unit.MasterQueueHolds(StreamId, pasid);
}
