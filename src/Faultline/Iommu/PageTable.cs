namespace Faultline.Iommu;

/// <summary>What a page-table walk found for one address: present, and with which rights.</summary>
public readonly record struct Translation(bool Present, bool Read, bool Write, bool Execute)
{
    public static readonly Translation NotPresent = default;
}

/// <summary>A first-stage page table the IOMMU walks for a (device, PASID), e.g. a process's (SVA).</summary>
public interface IPageTable
{
    Translation Translate(ulong address);
}

/// <summary>The IOMMU side of a device's PASID table: which page table translates each PASID.</summary>
public interface IPasidTable
{
    void Install(uint pasid, IPageTable table);
    void Remove(uint pasid);
}
