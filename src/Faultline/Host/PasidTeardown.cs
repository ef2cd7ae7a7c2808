using Faultline.Devices;
using Faultline.Iommu;
using Faultline.Sva;

namespace Faultline.Host;

/// <summary>
/// Tearing one (device, PASID) down in the order R25 gives: the device driver stops the PASID on the
/// function (H-PCI-19) → the IOMMU clears its PASID entry → the driver drains the page request queue
/// and flushes the fault queue (R33, R23) → the handle is detached (POL-10) → the PASID may be freed.
/// </summary>
public sealed class PasidTeardown(DevicePort device, AddressSpace mm, uint pasid, PasidStopMode? mode, long startedAt)
{
    public DevicePort Device { get; } = device;
    public AddressSpace Mm { get; } = mm;
    public uint Pasid { get; } = pasid;
    /// <summary>How the function stops the PASID (H-PCI-19); null for a platform master, which has no such protocol.</summary>
    public PasidStopMode? Mode { get; } = mode;
    public long StartedAt { get; } = startedAt;
    public long? StoppedAt { get; internal set; }
    public IPasidDrain? Drain { get; internal set; }
    public long? DoneAt { get; internal set; }

    public TeardownReport Report() => new()
    {
        Device = Device.Name,
        Process = Mm.Name,
        Pasid = Pasid,
        Stop = Mode switch { PasidStopMode.StopMarker => "marker", PasidStopMode.WaitForResponses => "wait", _ => "none" },
        StartNs = StartedAt,
        StopNs = (StoppedAt ?? StartedAt) - StartedAt,
        DrainNs = DoneAt is { } done && StoppedAt is { } stopped ? done - stopped : 0,
        TotalNs = (DoneAt ?? StartedAt) - StartedAt,
        FlushedGroups = Drain?.FlushedGroups ?? 0,
        UnrelatedWaitNs = Drain?.UnrelatedWaitNs ?? 0,
        HardwareRounds = Drain?.HardwareRounds ?? 0,
        Completed = DoneAt is not null,
    };
}

/// <summary>One teardown as the report shows it.</summary>
public sealed record TeardownReport
{
    public required string Device { get; init; }
    public required string Process { get; init; }
    public required uint Pasid { get; init; }
    public required string Stop { get; init; }
    public required long StartNs { get; init; }
    /// <summary>From the unbind to the function reporting the PASID stopped.</summary>
    public required long StopNs { get; init; }
    /// <summary>Drain and flush, from the stop to the detach.</summary>
    public required long DrainNs { get; init; }
    public required long TotalNs { get; init; }
    public required int FlushedGroups { get; init; }
    /// <summary>Flush time spent on groups of other devices or PASIDs (F5, POL-8).</summary>
    public required long UnrelatedWaitNs { get; init; }
    public required int HardwareRounds { get; init; }
    public required bool Completed { get; init; }
}
