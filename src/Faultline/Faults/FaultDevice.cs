namespace Faultline.Faults;

/// <summary>
/// A device as the fault framework sees it (the <c>struct device</c> side): the driver's
/// response op, the attach handles per PASID (RID at PASID 0, R28), and the per-device fault
/// state while it is on a queue (<c>iommu_fault_param</c>, §1.3).
/// </summary>
public sealed class FaultDevice(string name, IPageResponder? responder)
{
    private readonly Dictionary<uint, FaultAttachment> _attachments = new();

    public string Name { get; } = name;
    public IPageResponder? Responder { get; } = responder;

    internal FaultDeviceParam? Param { get; set; }

    /// <summary>The queue the device was added to, or null (R3, R4).</summary>
    public FaultQueue? Queue => Param?.Queue;

    public int PartialCount => Param?.Partials.Count ?? 0;
    public int PendingCount => Param?.PendingCount ?? 0;

    /// <summary>R28: attaching is a compare-exchange NULL → handle.</summary>
    public FaultStatus Attach(uint pasid, FaultAttachment attachment) =>
        _attachments.TryAdd(pasid, attachment) ? FaultStatus.Ok : FaultStatus.Busy;

    public FaultAttachment? Detach(uint pasid) =>
        _attachments.Remove(pasid, out var old) ? old : null;

    public FaultAttachment? AttachmentAt(uint pasid) => _attachments.GetValueOrDefault(pasid);

    /// <summary>R9: the handle at the fault's PASID if it has one, else at the RID.</summary>
    internal FaultAttachment? Route(in Fault fault) =>
        _attachments.GetValueOrDefault(fault.HasPasid ? fault.Pasid : 0);

    public override string ToString() => Name;
}

/// <summary>The per-device fault state (<c>iommu_fault_param</c>): partials and pending groups.</summary>
internal sealed class FaultDeviceParam(FaultQueue queue)
{
    public FaultQueue Queue { get; } = queue;
    public PartialFaultStore Partials { get; } = new();
    public FaultGroup? PendingHead { get; private set; }
    public int PendingCount { get; private set; }

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
