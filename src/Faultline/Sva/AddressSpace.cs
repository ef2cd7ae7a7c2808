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
    // Memory by ranges, not pages: six 2^24-page VMAs resident whole took 5.5 GB as a set of pages (issue 9).
    private readonly PageSet _resident = new();

    /// <summary>The process's name, used in messages and reports.</summary>
    public string Name { get; } = name;

    /// <summary>The mm is being torn down; faults on it are answered INVALID (R27).</summary>
    public bool Exiting { get; set; }

    /// <summary>The VMAs, sorted by start address and never overlapping.</summary>
    public IReadOnlyList<Vma> Vmas => _vmas;
    /// <summary>Pages mapped; past int.MaxValue (possible only through the range form) it throws rather than wraps.</summary>
    public int ResidentPages => checked((int)_resident.Count);

    /// <summary><c>mmap</c>: adds a VMA, or throws <see cref="ArgumentException"/> with the <see cref="Refusal"/> reason.</summary>
    public void Map(Vma vma)
    {
        int at = FirstAtOrAbove(vma.Start);
        if (Refusal(vma, at > 0 ? _vmas[at - 1] : null, at < _vmas.Count ? _vmas[at] : null, Name) is { } problem)
            throw new ArgumentException(problem, nameof(vma));
        _vmas.Insert(at, vma);
    }

    /// <summary>
    /// Why <see cref="Map"/> refuses <paramref name="vma"/> in the address space <paramref name="name"/>
    /// when its neighbours would be <paramref name="below"/> (the VMA starting last below it) and
    /// <paramref name="above"/> (the first starting at or above it); null if it maps. Public so that
    /// a reader of VMAs (the scenario reader, in its own assembly) says what Map says without mapping.
    /// </summary>
    public static string? Refusal(Vma vma, Vma? below, Vma? above, string name)
    {
        if (vma.Length == 0 || (vma.Start & 0xFFF) != 0 || (vma.Length & 0xFFF) != 0)
            return $"VMA {vma} must be page aligned and non-empty";
        if (vma.Length > ulong.MaxValue - vma.Start)
            return $"VMA at 0x{vma.Start:x} of 0x{vma.Length:x} bytes runs past the top of the address space";
        if ((below is { } b && b.End > vma.Start) || (above is { } a && vma.End > a.Start))
            return $"VMA {vma} overlaps another mapping of {name}";
        return null;
    }

    /// <summary>Binary search: the index of the first VMA starting at or above <paramref name="address"/>.</summary>
    private int FirstAtOrAbove(ulong address)
    {
        int lo = 0, hi = _vmas.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_vmas[mid].Start < address) lo = mid + 1;
            else hi = mid;
        }
        return lo;
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

    /// <summary>Whether the page holding <paramref name="address"/> is mapped in the page table.</summary>
    public bool IsResident(ulong address) => _resident.Contains(address >> PageShift);

    /// <summary>Maps a page in the page table (the effect of a successful CPU fault).</summary>
    public void MakeResident(ulong address)
    {
        if (FindVma(address) is null) throw new ArgumentException($"0x{address:x} is outside every VMA of {Name}", nameof(address));
        _resident.Add(address >> PageShift);
    }

    /// <summary>
    /// Maps <paramref name="pages"/> pages from the page of <paramref name="start"/>, in VMAs that may
    /// follow one another; whole 4096-page chunks go in at once, so a huge VMA is made resident cheaply.
    /// Nothing is mapped if any page lies outside every VMA.
    /// </summary>
    public void MakeResident(ulong start, long pages)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pages);
        ulong first = start >> PageShift;
        if ((ulong)pages > PageSet.PageLimit - first)
            throw new ArgumentOutOfRangeException(nameof(pages), pages, $"pages from 0x{start:x} run past the top of the address space");
        // VMAs end below 2^64 (Map refuses a wrap), so each step moves forward to a page number below 2^52.
        for (ulong page = first, end = first + (ulong)pages; page < end;)
        {
            var vma = FindVma(page << PageShift) ?? throw new ArgumentException($"0x{page << PageShift:x} is outside every VMA of {Name}", nameof(start));
            page = vma.End >> PageShift;
        }
        _resident.AddRange(first, (ulong)pages);
    }

    /// <summary>
    /// <c>handle_mm_fault</c> for one device fault (R27): INVALID outside every VMA or without the
    /// rights asked for; else the page is made resident, at the cost of a present, minor or major fault.
    /// </summary>
    public Faults.PageResponseCode Fault(ulong address, VmaPermissions required, SvaCosts costs, ref long cost)
    {
        if (FindVma(address) is not { } vma || (vma.Permissions & required) != required) return Faults.PageResponseCode.Invalid;
        bool present = IsResident(address);
        cost += costs.Of(present, vma.Cost);
        if (!present) MakeResident(address);
        return Faults.PageResponseCode.Success;
    }

    /// <summary>The IOMMU's walk of this page table: present with the VMA's rights if the page is resident, else not present.</summary>
    public Translation Translate(ulong address)
    {
        if (!IsResident(address) || FindVma(address) is not { } vma) return Translation.NotPresent;
        var p = vma.Permissions;
        return new Translation(true, p.HasFlag(VmaPermissions.Read), p.HasFlag(VmaPermissions.Write), p.HasFlag(VmaPermissions.Exec));
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
