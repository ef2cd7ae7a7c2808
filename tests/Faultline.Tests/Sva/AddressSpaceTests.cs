using Faultline.Iommu;
using Faultline.Sva;

namespace Faultline.Tests.Sva;

/// <summary>The mm side of R27: VMAs that never overlap, find_vma without stack growth, resident pages.</summary>
public class AddressSpaceTests
{
    private static AddressSpace ThreeVmas()
    {
        var mm = new AddressSpace("mm");
        mm.Map(new Vma(0x40000, 0x10000, VmaPermissions.Read, FaultCost.Minor));
        mm.Map(new Vma(0x10000, 0x10000, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor));
        mm.Map(new Vma(0x20000, 0x10000, VmaPermissions.Read | VmaPermissions.Exec, FaultCost.Major));
        return mm;
    }

    [Theory]
    [InlineData(0x10000ul, 0x1000ul)]  // same start
    [InlineData(0xf000ul, 0x2000ul)]   // across the start
    [InlineData(0x1f000ul, 0x2000ul)]  // across the end
    [InlineData(0x12000ul, 0x1000ul)]  // inside
    [InlineData(0x8000ul, 0x20000ul)]  // covering it
    public void R27_map_rejects_a_vma_overlapping_another(ulong start, ulong length)
    {
        var mm = new AddressSpace("mm");
        mm.Map(new Vma(0x10000, 0x10000, VmaPermissions.Read, FaultCost.Minor));

        Assert.Throws<ArgumentException>(() => mm.Map(new Vma(start, length, VmaPermissions.Read, FaultCost.Minor)));
        Assert.Single(mm.Vmas);
    }

    [Theory]
    [InlineData(0x10001ul, 0x1000ul)]
    [InlineData(0x10800ul, 0x1000ul)]
    [InlineData(0x10000ul, 0x800ul)]
    [InlineData(0x10000ul, 0x1001ul)]
    [InlineData(0x10000ul, 0ul)]
    public void R27_map_rejects_an_unaligned_or_empty_vma(ulong start, ulong length)
    {
        var mm = new AddressSpace("mm");

        Assert.Throws<ArgumentException>(() => mm.Map(new Vma(start, length, VmaPermissions.Read, FaultCost.Minor)));
        Assert.Empty(mm.Vmas);
    }

    [Fact]
    public void R27_map_rejects_a_vma_that_wraps_past_the_top_of_the_address_space()
    {
        var mm = new AddressSpace("mm");
        mm.Map(new Vma(0x1000, 0x1000, VmaPermissions.Read, FaultCost.Minor));

        Assert.Throws<ArgumentException>(() =>
            mm.Map(new Vma(0xFFFF_FFFF_FFFF_F000, 0x3000, VmaPermissions.Read, FaultCost.Minor)));
        Assert.Single(mm.Vmas);
    }

    [Fact]
    public void R27_map_accepts_adjacent_vmas_and_keeps_them_sorted()
    {
        var mm = ThreeVmas();
        mm.Map(new Vma(0x30000, 0x10000, VmaPermissions.Read, FaultCost.Minor)); // fills the hole exactly
        mm.Map(new Vma(0xf000, 0x1000, VmaPermissions.Read, FaultCost.Minor));

        Assert.Equal([0xf000ul, 0x10000, 0x20000, 0x30000, 0x40000], mm.Vmas.Select(v => v.Start));
    }

    [Theory]
    [InlineData(0x0ul, -1)]
    [InlineData(0xfffful, -1)]
    [InlineData(0x10000ul, 0x10000)]
    [InlineData(0x1fffful, 0x10000)]
    [InlineData(0x20000ul, 0x20000)] // end of one VMA is the start of the next
    [InlineData(0x2fffful, 0x20000)]
    [InlineData(0x30000ul, -1)]
    [InlineData(0x3fffful, -1)]
    [InlineData(0x40000ul, 0x40000)]
    [InlineData(0x4fffful, 0x40000)]
    [InlineData(0x50000ul, -1)]
    [InlineData(ulong.MaxValue, -1)]
    public void R27_find_vma_returns_the_vma_containing_the_address_with_end_exclusive(ulong address, long expectedStart)
    {
        var vma = ThreeVmas().FindVma(address);

        Assert.Equal(expectedStart < 0 ? null : (ulong?)expectedStart, vma?.Start);
    }

    [Fact]
    public void R27_find_vma_does_not_grow_a_vma_to_reach_an_address_just_below_it()
    {
        var mm = new AddressSpace("stack");
        mm.Map(new Vma(0x7fff0000, 0x10000, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor));

        Assert.Null(mm.FindVma(0x7ffef000));
        Assert.Single(mm.Vmas);
        Assert.Equal(0x7fff0000ul, mm.Vmas[0].Start);
    }

    [Fact]
    public void R27_resident_pages_are_page_granular_and_only_inside_vmas()
    {
        var mm = ThreeVmas();

        mm.MakeResident(0x10010);

        Assert.True(mm.IsResident(0x10fff));
        Assert.False(mm.IsResident(0x11000));
        Assert.Equal(1, mm.ResidentPages);
        Assert.Throws<ArgumentException>(() => mm.MakeResident(0x30000));
        Assert.Equal(1, mm.ResidentPages);
    }

    [Fact]
    public void R27_translate_reports_a_resident_page_with_its_vma_rights_and_not_present_otherwise()
    {
        var mm = ThreeVmas();
        mm.MakeResident(0x21000);

        Assert.Equal(new Translation(true, true, false, true), mm.Translate(0x21abc));
        Assert.Equal(Translation.NotPresent, mm.Translate(0x22000));
        Assert.Equal(Translation.NotPresent, mm.Translate(0x60000));
    }
    [Fact]
    public void R27_a_range_made_resident_may_span_adjacent_vmas_and_maps_nothing_if_a_page_is_outside()
    {
        var mm = ThreeVmas();
        mm.Map(new Vma(0x30000, 0x10000, VmaPermissions.Read, FaultCost.Minor)); // 0x10000-0x50000 now one stretch

        mm.MakeResident(0x1f000, 0x22); // the last page of the first VMA to the first of the fourth

        Assert.Equal(0x22, mm.ResidentPages);
        Assert.False(mm.IsResident(0x1e000));
        Assert.True(mm.IsResident(0x1f000) && mm.IsResident(0x2f000) && mm.IsResident(0x40fff));
        Assert.False(mm.IsResident(0x41000));

        Assert.Throws<ArgumentException>(() => mm.MakeResident(0x48000, 0x9)); // its last page, 0x50000, is outside
        Assert.Throws<ArgumentException>(() => mm.MakeResident(0x8000, 0x10));
        Assert.Throws<ArgumentOutOfRangeException>(() => mm.MakeResident(0x10000, -1));
        Assert.Equal(0x22, mm.ResidentPages);
        Assert.False(mm.IsResident(0x48000));
        mm.MakeResident(0x10000, 0);
        Assert.Equal(0x22, mm.ResidentPages);
    }

    [Fact]
    public void R27_a_huge_vma_made_resident_whole_is_built_cheaply_at_once_or_page_by_page()
    {
        // Issue 9: as a set of single pages, six such VMAs took 5.5 GB.
        const int Pages = 1 << 24;
        var mm = new AddressSpace("huge");
        mm.Map(new Vma(0x1_0000_0000, (ulong)Pages << 12, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor));
        long before = GC.GetAllocatedBytesForCurrentThread();
        mm.MakeResident(0x1_0000_0000, Pages);
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 8192);
        Assert.Equal(Pages, mm.ResidentPages);
        Assert.Equal(new Translation(true, true, true, false), mm.Translate(0x1_0000_0000 + ((ulong)Pages << 12) - 1));
        Assert.False(mm.IsResident(0x1_0000_0000 + ((ulong)Pages << 12)));

        // Page by page, as the simulator builds a VMA with resident: 1.0: one bitmap at a time, reused.
        var byPage = new AddressSpace("by-page");
        const int Some = 1 << 20;
        byPage.Map(new Vma(0x1_0000_0000, (ulong)Some << 12, VmaPermissions.Read, FaultCost.Minor));
        before = GC.GetAllocatedBytesForCurrentThread();
        for (int page = 0; page < Some; page++) byPage.MakeResident(0x1_0000_0000 + ((ulong)page << 12));
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 8192);
        Assert.Equal(Some, byPage.ResidentPages);
    }

    [Fact]
    public void R27_map_finds_the_place_of_a_vma_among_many_in_any_order()
    {
        var mm = new AddressSpace("many");
        var starts = Enumerable.Range(0, 2000).Select(i => 0x1000_0000UL + ((ulong)((i * 7919) % 2000) << 16)).ToList();
        foreach (var start in starts) mm.Map(new Vma(start, 0x8000, VmaPermissions.Read, FaultCost.Minor));

        Assert.Equal(starts.Order(), mm.Vmas.Select(v => v.Start));
        var e = Assert.Throws<ArgumentException>(() => mm.Map(new Vma(starts[5] + 0x7000, 0x2000, VmaPermissions.Read, FaultCost.Minor)));
        Assert.StartsWith($"VMA [0x{starts[5] + 0x7000:x}, 0x{starts[5] + 0x9000:x}) r-- Minor overlaps another mapping of many", e.Message, StringComparison.Ordinal);
        mm.Map(new Vma(starts[5] + 0x8000, 0x8000, VmaPermissions.Read, FaultCost.Minor)); // the hole after it, exactly
    }
}
