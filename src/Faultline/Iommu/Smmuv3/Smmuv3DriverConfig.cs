using Faultline.Faults;

namespace Faultline.Iommu.Smmuv3;

/// <summary>What the driver's PRIQ thread does with a Page Request.</summary>
public enum PriService
{
    /// <summary>Mainline Linux (R38, H-SMMU-4): log it as unexpected and answer a last request Deny; nothing reaches the fault framework.</summary>
    Deny,
    /// <summary>The 2020 SMMUv3 PRI series (never merged): report it to the fault framework, as VT-d does.</summary>
    Framework,
}

/// <summary>The SMMUv3 driver's options; <see cref="For"/> picks them from the host policy.</summary>
public sealed record Smmuv3DriverConfig
{
    /// <summary>What the PRIQ thread does with a Page Request: deny it (upstream, R38) or report it (the PRI series).</summary>
    public PriService PriService { get; init; } = PriService.Framework;

    /// <summary>
    /// R38: whether the probe enables PRI in a PCIe function, as the 2020 SMMUv3 PRI series does (never merged).
    /// Off, the driver enables PASID and ATS only, as mainline's <c>arm_smmu_enable_pasid</c> and
    /// <c>arm_smmu_enable_ats</c> do: mainline never calls <c>pci_enable_pri</c>.
    /// </summary>
    public bool PriSeries { get; init; } = true;

    /// <summary>
    /// POL-12: stalls one owner (a guest, a userspace driver) may hold at once; past it the owner's new
    /// faults are terminated instead of stalled. Null: no limit (Linux).
    /// </summary>
    public int? StallBudget { get; init; }

    /// <summary>
    /// POL-12, with <see cref="StallBudget"/>: a stall held longer than this (its fault waits for I/O, not a minor fault)
    /// holds a slot every master shares for that long, so the driver terminates it while its handler goes on, and its
    /// owner becomes slow: STE.S1STALLD stays set on the owner's streams, its faults are terminated at once and resolved
    /// in the background (within its budget, once per page), and its master's retry finds the page. A fault of the owner
    /// resolved faster makes it stall again. Null: off.
    /// </summary>
    public long? SlowFaultNs { get; init; }

    /// <summary>PRI credits given to a function at probe: <c>max_inflight_pprs</c> = 16 in the SMMUv3 PRI series (smmuv3.md §8).</summary>
    public uint PriCredits { get; init; } = 16;

    /// <summary>Upstream: PRI never enabled in a function, any PRI request denied, no stall budget.</summary>
    public static Smmuv3DriverConfig Linux { get; } = new() { PriService = PriService.Deny, PriSeries = false };

    /// <summary>POL-12's slow stall: 15 µs, several minor faults with their interrupt and response, far below a read from storage.</summary>
    private const long HardenedSlowFaultNs = 15_000;

    /// <summary>PRI enabled and served through the framework; an owner may hold at most half of STALL_MAX (at least 1), and a slow owner none, so others keep stalling.</summary>
    public static Smmuv3DriverConfig Hardened(int stallMax) => new() { StallBudget = Math.Max(1, stallMax / 2), SlowFaultNs = HardenedSlowFaultNs };

    /// <summary>The upstream driver under the <c>linux</c> policy; else the PRI series (PRI enabled, served through the framework) and the policy's POL-12 budget.</summary>
    public static Smmuv3DriverConfig For(FaultPolicy policy, int stallMax) => policy.Name == FaultPolicy.Linux.Name
        ? Linux
        : policy.StallBudget == StallBudgetPolicy.HalfOfStallMax ? Hardened(stallMax) : new();
}
