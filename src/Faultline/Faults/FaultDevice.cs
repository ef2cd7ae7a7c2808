namespace Faultline.Faults;

/// <summary>
/// A device as the fault framework sees it (the <c>struct device</c> side): the driver's
/// response op, the attach handles per PASID (RID at PASID 0, R28), and the per-device fault
/// state while it is on a queue (<c>iommu_fault_param</c>, §1.3).
/// </summary>
public sealed class FaultDevice(string name, IPageResponder? responder)
{
    private readonly Dictionary<uint, FaultAttachment> _attachments = new();

    /// <summary>The device's name in reports and traces.</summary>
    public string Name { get; } = name;
    /// <summary>The IOMMU driver's <c>page_response</c> op; a device without one cannot join a queue (R3).</summary>
    public IPageResponder? Responder { get; } = responder;

    /// <summary>
    /// The driver declares a user-managed PASID table (SMMUv3 nesting: the guest owns the CD table, and
    /// the iommufd selftest's mock driver): a PASID with no handle of its own is served by a nested handle
    /// at the RID (R9 step 1).
    /// </summary>
    public bool UserManagedPasidTable { get; set; }

    internal FaultDeviceParam? Param { get; set; }

    /// <summary>
    /// The host's object for this device (the kernel's port), set by the host: a group leads back to its device
    /// model without a table keyed by device (issue 9). Untyped, as the framework sits below the host.
    /// </summary>
    internal object? Owner { get; set; }

    /// <summary>The queue the device was added to, or null (R3, R4).</summary>
    public FaultQueue? Queue => Param?.Queue;

    /// <summary>Partial faults held for the device, every PASID.</summary>
    public int PartialCount => Param?.Partials.Count ?? 0;
    /// <summary>Groups reported and not yet answered, every PASID.</summary>
    public int PendingCount => Param?.PendingCount ?? 0;

    /// <summary>Groups of <paramref name="pasid"/> (0 = RID) reported and not yet answered. O(pending).</summary>
    public int PendingCountAt(uint pasid) => Param is { } param ? param.PendingAt(pasid).Count() : 0;
    /// <summary>Pending groups of <paramref name="pasid"/> whose handler queued them as work (R26): what a flush and a
    /// drain wait for. Groups a userspace fault queue holds are answered by their handle's detach instead (R43).</summary>
    internal int WorkPendingAt(uint pasid) => Param is { } param ? param.PendingAt(pasid).Count(g => g.OnWorkqueue) : 0;

    /// <summary>Partial faults of <paramref name="pasid"/> (0 = RID) waiting for their last request.</summary>
    public int PartialCountAt(uint pasid) => Param?.Partials.CountPasid(pasid) ?? 0;

    /// <summary>Incomplete groups held as partials (one per group key).</summary>
    public int PartialGroupCount => Param?.Partials.GroupCount ?? 0;

    /// <summary>R28: attaching is a compare-exchange NULL → handle.</summary>
    public FaultStatus Attach(uint pasid, FaultAttachment attachment) =>
        _attachments.TryAdd(pasid, attachment) ? FaultStatus.Ok : FaultStatus.Busy;

    /// <summary>Empties the attach slot of <paramref name="pasid"/>; hosts go through <see cref="FaultFramework.Detach"/>, which applies POL-10.</summary>
    internal FaultAttachment? Detach(uint pasid) =>
        _attachments.Remove(pasid, out var old) ? old : null;

    /// <summary>What is attached at <paramref name="pasid"/> (0 = RID), or null.</summary>
    public FaultAttachment? AttachmentAt(uint pasid) => _attachments.GetValueOrDefault(pasid);

    /// <summary>
    /// R9: a fault with a PASID finds the handle at that PASID, or — where the user manages the PASID table —
    /// a nested handle at the RID; a fault without one finds the handle at the RID.
    /// </summary>
    internal FaultAttachment? Route(in Fault fault)
    {
        if (!fault.HasPasid) return _attachments.GetValueOrDefault(0u);
        if (_attachments.TryGetValue(fault.Pasid, out var own)) return own;
        return UserManagedPasidTable && _attachments.TryGetValue(0u, out var rid) && rid.Nested ? rid : null;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

/// <summary>
/// The per-device fault state (<c>iommu_fault_param</c>): partials and pending groups, linked newest
/// first (the order R4 answers them in). A flush of one (device, PASID) (POL-8) filters this list:
/// a second per-PASID list would cost the report path two dictionary operations per group for a rare
/// operation (measured: 64 against 41 ns per fault in bench/).
/// </summary>
internal sealed class FaultDeviceParam(FaultQueue queue, int? partialLimit)
{
    public FaultQueue Queue { get; } = queue;
    public PartialFaultStore Partials { get; } = new();

    /// <summary>The bound on partials the host gave at add time (POL-4: the function's PRI allocation), or null.</summary>
    public int? PartialLimit { get; } = partialLimit;

    public FaultGroup? PendingHead { get; private set; }
    public int PendingCount { get; private set; }

    /// <summary>Pending groups, newest first.</summary>
    public IEnumerable<FaultGroup> Pending()
    {
        for (var g = PendingHead; g is not null; g = g.PendingNext) yield return g;
    }

    /// <summary>Pending groups of <paramref name="pasid"/> (0 = RID), newest first. O(pending): for flushes and checks, not the hot path.</summary>
    public IEnumerable<FaultGroup> PendingAt(uint pasid) =>
        Pending().Where(g => g.LastFault.RoutedPasid == pasid);

    /// <summary>R13: pending groups are inserted at the head.</summary>
    public void LinkPending(FaultGroup group)
    {
        group.PendingPrev = null;
        group.PendingNext = PendingHead;
        if (PendingHead is not null) PendingHead.PendingPrev = group;
        PendingHead = group;
        PendingCount++;
    }

    public void UnlinkPending(FaultGroup group)
    {
        if (group.PendingPrev is { } prev) prev.PendingNext = group.PendingNext;
        else PendingHead = group.PendingNext;
        if (group.PendingNext is { } next) next.PendingPrev = group.PendingPrev;
        group.PendingPrev = group.PendingNext = null;
        PendingCount--;
    }
}
