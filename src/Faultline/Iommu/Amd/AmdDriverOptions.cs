using Faultline.Faults;

namespace Faultline.Iommu.Amd;

/// <summary>Host choices for the AMD driver that are not framework policies.</summary>
public sealed record AmdDriverOptions
{
    /// <summary>R35 <c>LOOP_TIMEOUT</c>: how many 1 µs polls the driver spends on an entry still zero (H-AMD-3).</summary>
    public const int LinuxPollLimit = 100_000;

    /// <summary><c>amd_iommu_snp_en</c>: the PPR log is not writable by software, so consumed entries are not zeroed (R35).</summary>
    public bool SnpEnabled { get; init; }

    /// <summary>Polls of a zero entry before the driver takes it as it is (R35).</summary>
    public int PollLimit { get; init; } = LinuxPollLimit;

    /// <summary>
    /// After a PPR log restart, free the partial faults of the queue: their last request may have been
    /// lost with the overflow (H-AMD-2). Linux does not (amd.md §5 OBS); VT-d does (R32).
    /// </summary>
    public bool DiscardPartialsOnRestart { get; init; }

    /// <summary>
    /// Consume a logged Stop Marker (L = 1, R = W = 0) without reporting it (H-PCI-20). Upstream ppr.c has no
    /// such check: the marker becomes a group of its own and its answer is a PRG Response nothing expects.
    /// </summary>
    public bool DropStopMarkers { get; init; }

    /// <summary>
    /// The options a host policy implies: partials are discarded after a restart when the policy purges
    /// partials that can no longer complete (POL-10 <see cref="DetachedPartialsPolicy.Purge"/>, i.e. <c>hardened</c>);
    /// Stop Markers are dropped as <see cref="FaultPolicy.DropStopMarkers"/> says.
    /// </summary>
    public static AmdDriverOptions For(FaultPolicy policy) =>
        new() { DiscardPartialsOnRestart = policy.DetachedPartials == DetachedPartialsPolicy.Purge, DropStopMarkers = policy.DropStopMarkers };
}
