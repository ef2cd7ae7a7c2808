using Faultline.Faults;
using Faultline.Iommu;

namespace Faultline.Sva;

/// <summary>
/// SVA binding (<c>iommu-sva.c</c>, §2.5 context): one PASID per mm from a global allocator, one
/// SVA domain per mm shared by devices; binding (device, mm) twice only adds a user; a different mm
/// already on that PASID of the device is refused. As in Linux, the PASID belongs to the mm until
/// the process exits (<c>mm_pasid_drop</c>); then the lowest free PASID is handed out again.
/// </summary>
public sealed class SvaBinder(SvaCosts costs, uint firstPasid = 1, uint lastPasid = 0xFFFFF)
{
    private readonly Dictionary<AddressSpace, (uint Pasid, SvaDomain Domain, FaultAttachment Attachment)> _byMm = new();
    private readonly SortedSet<uint> _freed = [];
    private uint _nextPasid = firstPasid;

    /// <summary>PASIDs handed out again after their process released them (<c>mm_pasid_drop</c>, then a new bind).</summary>
    public long PasidsReused { get; private set; }

    /// <summary>The PASID allocated to <paramref name="mm"/> (<c>mm->pasid</c>), or null if it was never bound or has been released.</summary>
    public uint? PasidOf(AddressSpace mm) => _byMm.TryGetValue(mm, out var e) ? e.Pasid : null;

    /// <summary>The SVA domain shared by every device bound to <paramref name="mm"/>, or null if it has none.</summary>
    public SvaDomain? DomainOf(AddressSpace mm) => _byMm.TryGetValue(mm, out var e) ? e.Domain : null;

    /// <summary>Binds <paramref name="mm"/> to <paramref name="device"/>; returns the PASID.</summary>
    public (FaultStatus Status, uint Pasid) Bind(FaultDevice device, IPasidTable table, AddressSpace mm)
    {
        if (!_byMm.TryGetValue(mm, out var entry))
        {
            if (!TryAllocatePasid(out uint pasid)) return (FaultStatus.NoMemory, 0);
            var domain = new SvaDomain(mm, costs);
            entry = (pasid, domain, new FaultAttachment("sva", domain));
            _byMm.Add(mm, entry);
        }

        var existing = device.AttachmentAt(entry.Pasid);
        if (existing == entry.Attachment) return (FaultStatus.Ok, entry.Pasid);
        if (device.Attach(entry.Pasid, entry.Attachment) != FaultStatus.Ok) return (FaultStatus.Busy, 0);
        table.Install(entry.Pasid, mm);
        return (FaultStatus.Ok, entry.Pasid);
    }

    /// <summary>
    /// Binds <paramref name="mm"/> at the device's RID, for an IOMMU without PASIDs (SMMUv2): a domain of the
    /// device's own (<see cref="SvaDomain.AtRid"/>), its address space installed at PASID 0 of
    /// <paramref name="table"/>. No PASID is allocated, so nothing returns to the allocator when the mm goes;
    /// a RID that already has a handle is <see cref="FaultStatus.Busy"/> (one address space per context bank).
    /// </summary>
    public (FaultStatus Status, uint Pasid) BindAtRid(FaultDevice device, IPasidTable table, AddressSpace mm)
    {
        if (device.Attach(0, new FaultAttachment("unmanaged", new SvaDomain(mm, costs, atRid: true))) != FaultStatus.Ok)
            return (FaultStatus.Busy, 0);
        table.Install(0, mm);
        return (FaultStatus.Ok, 0);
    }

    /// <summary>The attachment SVA put at the mm's PASID, to detach it at unbind.</summary>
    public FaultAttachment? AttachmentOf(AddressSpace mm) => _byMm.TryGetValue(mm, out var e) ? e.Attachment : null;

    /// <summary>
    /// The process is gone and no device is bound to it any more: its PASID returns to the
    /// allocator. The caller has torn every binding down first (R25).
    /// </summary>
    public bool Release(AddressSpace mm)
    {
        if (!_byMm.Remove(mm, out var entry)) return false;
        _freed.Add(entry.Pasid);
        return true;
    }

    private bool TryAllocatePasid(out uint pasid)
    {
        if (_freed.Count > 0)
        {
            pasid = _freed.Min;
            _freed.Remove(pasid);
            PasidsReused++;
            return true;
        }
        pasid = _nextPasid;
        if (_nextPasid > lastPasid) return false;
        _nextPasid++;
        return true;
    }
}
