using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Userspace;

/// <summary>What a (device, PASID) is attached to: the HWPT and the attach handle installed for it (R28).</summary>
public readonly record struct HwptAttachment(Hwpt Hwpt, FaultAttachment Handle);

/// <summary>
/// A device bound to the context (<c>iommufd_device_bind</c>): the framework's <see cref="FaultDevice"/>, whose
/// attach handles the context sets, and its config space, for the R41 check and the PRI allocation that sizes
/// its share of a fault queue (POL-6). Its driver holds one reference until <see cref="IommufdContext.Unbind"/>.
/// </summary>
public sealed class IommufdDevice : IommufdObject
{
    internal IommufdDevice(uint id, FaultDevice device, IPciConfigSpace function) : base(id)
    {
        Device = device;
        Function = function;
        HeldBy = 1;
    }

    /// <inheritdoc />
    public override IommufdObjectType Type => IommufdObjectType.Device;
    /// <summary>The framework's device, whose attach handles the context sets.</summary>
    public FaultDevice Device { get; }
    /// <summary>The function's config space: the PRI capability read for R41 and for its POL-6 depth share.</summary>
    public IPciConfigSpace Function { get; }

    /// <summary>The device's vDEVICE, if any (one per device).</summary>
    public Vdevice? Vdevice { get; internal set; }

    /// <summary>Attachments by PASID (0 = RID), ascending.</summary>
    internal SortedDictionary<uint, HwptAttachment> Attachments { get; } = new();

    /// <summary>What <paramref name="pasid"/> (0 = RID) is attached to, or null.</summary>
    public HwptAttachment? AttachmentAt(uint pasid) => Attachments.TryGetValue(pasid, out var a) ? a : null;

    /// <summary>PASIDs with an attachment, ascending.</summary>
    public uint[] AttachedPasids() => [.. Attachments.Keys];

    /// <summary>POL-6: what the function may have outstanding, its PRI Outstanding Page Request Allocation; 0 without PRI.</summary>
    internal int DepthShare =>
        Function.HasCapability(PriCapability.CapabilityId)
            ? (int)Math.Min(Function.ReadConfig(PriCapability.CapabilityId, PriCapability.AllocationOffset), int.MaxValue)
            : 0;
}
