using Faultline.Faults;

namespace Faultline.Sva;

/// <summary>
/// An SVA domain: one per process address space, shared by every device bound to it. Its fault
/// handler queues the group on the device's fault queue (R26); the work resolves the faults in
/// order against the mm (R27), stops at the first error, and answers SUCCESS only if all succeed.
/// </summary>
public sealed class SvaDomain(AddressSpace mm, SvaCosts costs) : IFaultHandler, IFaultWork
{
    public AddressSpace AddressSpace { get; } = mm;
    public SvaCosts Costs { get; } = costs;

    public bool Handle(FaultGroup group)
    {
        if (group.Device.Queue is not { } queue) return false;
        queue.QueueWork(group, this);
        return true;
    }

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

    /// <summary>R27, for one fault.</summary>
    private PageResponseCode Resolve(in Fault fault, ref long cost)
    {
        if (!fault.HasPasid || AddressSpace.Exiting) return PageResponseCode.Invalid;
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
