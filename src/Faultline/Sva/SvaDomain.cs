using Faultline.Faults;

namespace Faultline.Sva;

/// <summary>
/// An SVA domain: one per process address space, shared by every device bound to it. Its fault
/// handler queues the group on the device's fault queue (R26); the work resolves the faults in
/// order against the mm (R27), stops at the first error, and answers SUCCESS only if all succeed.
/// <para>
/// With <see cref="AtRid"/> it is instead an unmanaged domain attached at the RID of one device, for an
/// IOMMU without PASIDs (an SMMUv2 context bank has one page table: docs/smmuv2.md §7): the Adreno path's
/// fault handler, resolving the device's PASID-less faults in the address space the bank walks.
/// </para>
/// </summary>
public sealed class SvaDomain(AddressSpace mm, SvaCosts costs, bool atRid = false) : IFaultHandler, IFaultWork
{
    /// <summary>The mm this domain's faults are resolved against.</summary>
    public AddressSpace AddressSpace { get; } = mm;
    /// <summary>The model time charged per page resolved.</summary>
    public SvaCosts Costs { get; } = costs;

    /// <summary>Attached at the RID: serves faults without a PASID, and no others.</summary>
    public bool AtRid { get; } = atRid;

    /// <summary><c>iommu_sva_iopf_handler</c>: queues the group's work on the device's fault queue (R26); false if the device has none.</summary>
    public bool Handle(FaultGroup group, long now)
    {
        if (group.Device.Queue is not { } queue) return false;
        queue.QueueWork(group, this);
        return true;
    }

    /// <summary><c>iommu_sva_handle_iopf</c>: resolves the group's faults in order against the mm (R27), stopping at the first that fails (R26).</summary>
    public FaultWorkOutcome Run(FaultGroup group)
    {
        long cost = 0;
        foreach (ref readonly var fault in group.Faults)
        {
            var code = Resolve(fault, ref cost);
            if (code != PageResponseCode.Success) return new FaultWorkOutcome(code, cost); // errors are sticky (R26)
        }
        return new FaultWorkOutcome(PageResponseCode.Success, cost);
    }

    /// <summary>R27, for one fault: a PASID domain answers INVALID for a fault without a PASID, a RID domain for one with.</summary>
    private PageResponseCode Resolve(in Fault fault, ref long cost)
    {
        if (fault.HasPasid == AtRid || AddressSpace.Exiting) return PageResponseCode.Invalid;
        return AddressSpace.Fault(fault.Address, Required(fault.Permissions), Costs, ref cost);
    }

    /// <summary>The VMA rights a fault's permissions need (Priv says who asks, not what).</summary>
    public static VmaPermissions Required(FaultPermissions permissions)
    {
        var required = VmaPermissions.None;
        if ((permissions & FaultPermissions.Read) != 0) required |= VmaPermissions.Read;
        if ((permissions & FaultPermissions.Write) != 0) required |= VmaPermissions.Write;
        if ((permissions & FaultPermissions.Exec) != 0) required |= VmaPermissions.Exec;
        return required;
    }
}
