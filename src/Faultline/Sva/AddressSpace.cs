using Faultline.Iommu;

namespace Faultline.Sva;

/// <summary>
/// A process address space (<c>mm</c>): VMAs and the set of pages mapped in its page table. The
/// IOMMU walks it for SVA; the SVA handler faults pages in (R27).
/// </summary>
public sealed class AddressSpace(string name) : IPageTable
{
    private const int PageShift = 12;
    private readonly List<Vma> _vmas = [];
    private readonly HashSet<ulong> _resident = [];

    public string Name { get; } = name;

    /// <summary>The mm is being torn down; faults on it are answered INVALID (R27).</summary>
    public bool Exiting { get; set; }

    public IReadOnlyList<Vma> Vmas => _vmas;
    public int ResidentPages => _resident.Count;

    public void Map(Vma vma)
    {
        if (vma.Length == 0 || (vma.Start & 0xFFF) != 0 || (vma.Length & 0xFFF) != 0)
            throw new ArgumentException($"VMA {vma} must be page aligned and non-empty", nameof(vma));
        if (vma.Length > ulong.MaxValue - vma.Start)
            throw new ArgumentException($"VMA at 0x{vma.Start:x} of 0x{vma.Length:x} bytes runs past the top of the address space", nameof(vma));
        int at = _vmas.FindIndex(v => v.Start >= vma.Start);
        if (at < 0) at = _vmas.Count;
        if ((at > 0 && _vmas[at - 1].End > vma.Start) || (at < _vmas.Count && vma.End > _vmas[at].Start))
            throw new ArgumentException($"VMA {vma} overlaps another mapping of {Name}", nameof(vma));
        _vmas.Insert(at, vma);
    }

    /// <summary><c>find_vma</c> without stack growth: the VMA containing the address (binary search).</summary>
    public Vma? FindVma(ulong address)
    {
        int lo = 0, hi = _vmas.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var vma = _vmas[mid];
            if (address < vma.Start) hi = mid - 1;
            else if (address >= vma.End) lo = mid + 1;
            else return vma;
        }
        return null;
    }

    public bool IsResident(ulong address) => _resident.Contains(address >> PageShift);

    /// <summary>Maps a page in the page table (the effect of a successful CPU fault).</summary>
    public void MakeResident(ulong address)
    {
        if (FindVma(address) is null) throw new ArgumentException($"0x{address:x} is outside every VMA of {Name}", nameof(address));
        _resident.Add(address >> PageShift);
    }

    /// <summary>
    /// <c>handle_mm_fault</c> for one device fault (R27): INVALID outside every VMA or without the
    /// rights asked for; else the page is made resident, at the cost of a present, minor or major fault.
    /// </summary>
    public Faults.PageResponseCode Fault(ulong address, VmaPermissions required, SvaCosts costs, ref long cost)
    {
        if (FindVma(address) is not { } vma || (vma.Permissions & required) != required) return Faults.PageResponseCode.Invalid;
        if (IsResident(address))
        {
            cost += costs.PresentNanoseconds;
        }
        else
        {
            cost += vma.Cost == FaultCost.Major ? costs.MajorFaultNanoseconds : costs.MinorFaultNanoseconds;
            MakeResident(address);
        }
        return Faults.PageResponseCode.Success;
    }

    public Translation Translate(ulong address)
    {
        if (!IsResident(address) || FindVma(address) is not { } vma) return Translation.NotPresent;
        var p = vma.Permissions;
        return new Translation(true, p.HasFlag(VmaPermissions.Read), p.HasFlag(VmaPermissions.Write), p.HasFlag(VmaPermissions.Exec));
    }

    public override string ToString() => Name;
}
