using Faultline.Pcie;

namespace Faultline.Iommu;

/// <summary>What a page-table walk found for one address: present, and with which rights.</summary>
public readonly record struct Translation(bool Present, bool Read, bool Write, bool Execute)
{
    /// <summary>What a walk gives for an unmapped address: not present, no rights.</summary>
    public static readonly Translation NotPresent = default;
}

/// <summary>A first-stage page table the IOMMU walks for a (device, PASID), e.g. a process's (SVA).</summary>
public interface IPageTable
{
    /// <summary>Walks the table for <paramref name="address"/>: present or not, and the rights of its mapping.</summary>
    Translation Translate(ulong address);
}

/// <summary>The IOMMU side of a device's PASID table: which page table translates each PASID.</summary>
public interface IPasidTable
{
    /// <summary>Points <paramref name="pasid"/> (0 for requests without one) at <paramref name="table"/>, replacing any table it had.</summary>
    void Install(uint pasid, IPageTable table);
    /// <summary>Clears the entry of <paramref name="pasid"/>: requests with it are no longer translated.</summary>
    void Remove(uint pasid);
}

/// <summary>
/// A device's PASID table as every IOMMU keeps it (VT-d context entry, SMMUv3 CD table, AMD device table
/// entry): a page table per PASID, 0 for requests without one. The architectures derive their entries from
/// it and add their own bits.
/// </summary>
public class PasidTable : IPasidTable
{
    private readonly Dictionary<uint, IPageTable> _tables = new();

    /// <inheritdoc />
    public void Install(uint pasid, IPageTable table) => _tables[pasid] = table;

    /// <inheritdoc />
    public void Remove(uint pasid) => _tables.Remove(pasid);

    /// <summary>The page table installed for <paramref name="pasid"/>, if any.</summary>
    public bool TryGet(uint pasid, out IPageTable table) => _tables.TryGetValue(pasid, out table!);

    /// <summary>
    /// The translation agent's answer to an ATS request (pcie.md §1 step 2): Unsupported Request when the
    /// request's PASID (0 without one) has no page table; else Success, a page absent or a right missing being a
    /// success with R = W = 0.
    /// </summary>
    public TranslationCompletion Translate(in TranslationRequest request)
    {
        if (!TryGet(request.Prefix?.Pasid.Value ?? 0, out var table)) return TranslationCompletion.Unsupported(request.Tag);
        var t = table.Translate(request.Address);
        return new TranslationCompletion(request.Tag, TranslationStatus.Success, t.Present && t.Read, t.Present && t.Write, t.Present && t.Execute);
    }
}
