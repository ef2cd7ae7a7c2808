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
    /// <summary>The device whose PASID is torn down.</summary>
    public DevicePort Device { get; } = device;
    /// <summary>The process that was bound at the PASID.</summary>
    public AddressSpace Mm { get; } = mm;
    /// <summary>The PASID torn down.</summary>
    public uint Pasid { get; } = pasid;
    /// <summary>How the function stops the PASID (H-PCI-19); null for a platform master, which has no such protocol.</summary>
    public PasidStopMode? Mode { get; } = mode;
    /// <summary>When the unbind or exit began the teardown, in ns.</summary>
    public long StartedAt { get; } = startedAt;
    /// <summary>When the function reported the PASID stopped (H-PCI-19), or null while it has not.</summary>
    public long? StoppedAt { get; internal set; }
    /// <summary>The IOMMU's drain and fault queue flush (R33, R23), once begun.</summary>
    public IPasidDrain? Drain { get; internal set; }
    /// <summary>When the handle was detached and the teardown ended, or null while it runs.</summary>
    public long? DoneAt { get; internal set; }

    /// <summary>The teardown's durations and counts as the report shows them.</summary>
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
    /// <summary>The device's name.</summary>
    public required string Device { get; init; }
    /// <summary>The process's name.</summary>
    public required string Process { get; init; }
    /// <summary>The PASID torn down.</summary>
    public required uint Pasid { get; init; }
    /// <summary>How the function stopped the PASID: <c>marker</c>, <c>wait</c> or <c>none</c> (H-PCI-19).</summary>
    public required string Stop { get; init; }
    /// <summary>When the teardown began, in ns.</summary>
    public required long StartNs { get; init; }
    /// <summary>From the unbind to the function reporting the PASID stopped.</summary>
    public required long StopNs { get; init; }
    /// <summary>Drain and flush, from the stop to the detach.</summary>
    public required long DrainNs { get; init; }
    /// <summary>From the unbind to the detach; 0 if the teardown never completed.</summary>
    public required long TotalNs { get; init; }
    /// <summary>Groups the flush waited for (R23).</summary>
    public required int FlushedGroups { get; init; }
    /// <summary>Flush time spent on groups of other devices or PASIDs (F5, POL-8).</summary>
    public required long UnrelatedWaitNs { get; init; }
    /// <summary>Hardware drains submitted, VT-d only: more than one after a ring overflow (R33).</summary>
    public required int HardwareRounds { get; init; }
    /// <summary>The teardown reached the detach before the run ended.</summary>
    public required bool Completed { get; init; }
}
