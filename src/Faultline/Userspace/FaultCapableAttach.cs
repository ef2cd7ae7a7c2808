using Faultline.Pcie;

namespace Faultline.Userspace;

/// <summary>The device checks iommufd makes before a fault-capable HWPT is attached or replaced in.</summary>
public static class FaultCapableAttach
{
    /// <summary>
    /// R41 (H-PCI-15, BUG-14): a virtual function whose PF supports PRI is refused with EINVAL. PRI is
    /// one pool for the PF and its VFs, so a guest's Response Failure — or credits it never gives back —
    /// would stop or starve PRI for its siblings, and only a PRI reset of the PF recovers it. Linux
    /// (<c>pci_pri_supported</c>) looks at the PF's capability, as a VF has none of its own. With
    /// <paramref name="refuseEveryVf"/> (<see cref="Faults.FaultPolicy.RefuseEveryVf"/>, v6.11–v6.12) every VF is refused.
    /// </summary>
    public static FaultQueueErrno Check(IPciConfigSpace function, bool refuseEveryVf = false)
    {
        ArgumentNullException.ThrowIfNull(function);
        return function.PhysicalFunction is { } pf && (refuseEveryVf || pf.HasCapability(PriCapability.CapabilityId))
            ? FaultQueueErrno.EINVAL
            : FaultQueueErrno.None;
    }
}
