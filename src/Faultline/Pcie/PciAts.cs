namespace Faultline.Pcie;

/// <summary>Why the host could not enable the PASID / ATS / PRI path on a function.</summary>
public enum PciEnableError
{
    /// <summary>Every step the driver takes succeeded: PASID (when present), ATS, and PRI where the driver enables it.</summary>
    None,
    /// <summary>No ATS capability, or ATS without Page Aligned Request, which the VT-d driver requires (H-PCI-17).</summary>
    AtsUnusable,
    /// <summary>No PRI capability (it lives in the PF; H-PCI-15).</summary>
    NoPri,
    /// <summary>R34: a PASID-enabled function must require the PASID in PRG Responses.</summary>
    PrgResponsePasidNotRequired,
    /// <summary>H-PCI-13: Linux enables PRI only when it reads Stopped = 1 and Enable = 0 (-EBUSY).</summary>
    PriNotStopped,
}

/// <summary>
/// The host PCI core's PASID / ATS / PRI enabling (Linux <c>drivers/pci/ats.c</c>, called by the
/// IOMMU driver at probe): PASID before ATS (H-PCI-16), ATS before PRI, PRI reset before enable with
/// Allocation = min(Capacity, requested) (H-PCI-13, H-PCI-14, R34).
/// </summary>
public static class PciAts
{
    /// <summary>
    /// PASID if present (with whatever execute / privileged support the function has), then ATS (H-PCI-16): the
    /// part of a probe every IOMMU driver does, and all that mainline SMMUv3 does (R38). With
    /// <paramref name="requirePageAligned"/>, ATS without Page Aligned Request is refused (H-PCI-17).
    /// </summary>
    public static PciEnableError EnablePasidAndAts(IPciConfigSpace function, long now, bool requirePageAligned)
    {
        if (function.HasCapability(PasidCapability.CapabilityId))
        {
            uint supported = function.ReadConfig(PasidCapability.CapabilityId, PasidCapability.CapabilityOffset) & 0x6;
            function.WriteConfig(PasidCapability.CapabilityId, PasidCapability.ControlOffset, 1 | supported, now);
        }
        if (!function.HasCapability(AtsCapability.CapabilityId)
            || (requirePageAligned && (function.ReadConfig(AtsCapability.CapabilityId, AtsCapability.CapabilityOffset) & (1u << 5)) == 0))
            return PciEnableError.AtsUnusable;
        function.WriteConfig(AtsCapability.CapabilityId, AtsCapability.ControlOffset, AtsCapability.ControlEnable, now);
        return PciEnableError.None;
    }

    /// <summary>
    /// Probe-time enabling of a function for page requests: PASID if present, then ATS, then a PRI reset and enable
    /// with Allocation = min(Capacity, <paramref name="requestedCredits"/>). <paramref name="requirePrgResponsePasid"/>
    /// is VT-d's check (R34, <c>intel_iommu_enable_iopf</c>): a PASID-enabled function must say "PRG Response PASID
    /// Required". AMD's <c>pdev_enable_cap_pri</c> and the SMMUv3 PRI series make no such check.
    /// </summary>
    public static PciEnableError EnableForPageRequests(IPciConfigSpace function, uint requestedCredits, long now, bool requirePrgResponsePasid = true)
    {
        var error = EnablePasidAndAts(function, now, requirePageAligned: true);
        if (error != PciEnableError.None) return error;
        bool pasid = function.HasCapability(PasidCapability.CapabilityId);
        if (!function.HasCapability(PriCapability.CapabilityId)) return PciEnableError.NoPri;
        uint status = function.ReadConfig(PriCapability.CapabilityId, PriCapability.StatusOffset);
        if (requirePrgResponsePasid && pasid && (status & PriCapability.StatusPrgResponsePasidRequired) == 0)
            return PciEnableError.PrgResponsePasidNotRequired;
        return EnablePri(function, requestedCredits, now);
    }

    /// <summary>
    /// A PRI reset of an enabled function (<c>pci_disable_pri</c>, then <see cref="EnablePri"/>): the
    /// function forgets its outstanding page requests and gets its whole allocation back (H-PCI-12), so
    /// credits held by groups nobody will answer return (POL-9).
    /// </summary>
    public static PciEnableError ResetPri(IPciConfigSpace function, uint requestedCredits, long now)
    {
        DisablePri(function, now);
        return EnablePri(function, requestedCredits, now);
    }

    /// <summary><c>pci_disable_pri</c>: no new page requests; those already sent stay outstanding (H-PCI-11).</summary>
    public static void DisablePri(IPciConfigSpace function, long now)
    {
        uint control = function.ReadConfig(PriCapability.CapabilityId, PriCapability.ControlOffset);
        if ((control & PriCapability.ControlEnable) != 0)
            function.WriteConfig(PriCapability.CapabilityId, PriCapability.ControlOffset, control & ~(uint)PriCapability.ControlEnable, now);
    }

    /// <summary><c>pci_reset_pri</c> then <c>pci_enable_pri</c>.</summary>
    public static PciEnableError EnablePri(IPciConfigSpace function, uint requestedCredits, long now)
    {
        uint control = function.ReadConfig(PriCapability.CapabilityId, PriCapability.ControlOffset);
        if ((control & PriCapability.ControlEnable) == 0)
            function.WriteConfig(PriCapability.CapabilityId, PriCapability.ControlOffset, PriCapability.ControlReset, now);
        uint status = function.ReadConfig(PriCapability.CapabilityId, PriCapability.StatusOffset);
        if ((control & PriCapability.ControlEnable) != 0 || (status & PriCapability.StatusStopped) == 0) return PciEnableError.PriNotStopped;
        uint capacity = function.ReadConfig(PriCapability.CapabilityId, PriCapability.CapacityOffset);
        function.WriteConfig(PriCapability.CapabilityId, PriCapability.AllocationOffset, Math.Min(capacity, requestedCredits), now);
        function.WriteConfig(PriCapability.CapabilityId, PriCapability.ControlOffset, PriCapability.ControlEnable, now);
        return PciEnableError.None;
    }
}
