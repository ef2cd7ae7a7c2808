using Faultline.Sva;

namespace Faultline.Tests.Sva;

/// <summary>
/// Resident pages stored by ranges (issue 9): runs of full 4096-page chunks that merge, bitmaps for
/// the chunks in part resident, and the same answers as the set of single pages it replaces.
/// </summary>
public sealed class PageSetTests
{
    private const ulong Chunk = (ulong)PageSet.ChunkPages;

    [Fact]
    public void A_chunk_filled_page_by_page_becomes_a_run_and_gives_up_its_bitmap()
    {
        var set = new PageSet();
        for (ulong page = 0; page < Chunk - 1; page++) Assert.True(set.Add(5 * Chunk + page));
        Assert.Equal((0, 1), (set.FullRuns, set.PartialChunks));

        Assert.True(set.Add(5 * Chunk + Chunk - 1));

        Assert.Equal((1, 0), (set.FullRuns, set.PartialChunks));
        Assert.Equal((long)Chunk, set.Count);
        Assert.False(set.Add(5 * Chunk + 17)); // already there, in the run
        Assert.True(set.Contains(5 * Chunk) && set.Contains(6 * Chunk - 1));
        Assert.False(set.Contains(5 * Chunk - 1) || set.Contains(6 * Chunk));
    }

    [Fact]
    public void Runs_that_touch_merge_and_a_gap_filled_between_two_runs_makes_one()
    {
        var set = new PageSet();
        set.AddRange(0, 2 * Chunk);
        set.AddRange(4 * Chunk, 2 * Chunk);
        Assert.Equal(2, set.FullRuns);

        set.AddRange(2 * Chunk, Chunk); // touches the first run only
        Assert.Equal(2, set.FullRuns);

        for (ulong page = 3 * Chunk; page < 4 * Chunk; page++) set.Add(page); // the last gap, page by page
        Assert.Equal(1, set.FullRuns);
        Assert.Equal(0, set.PartialChunks);
        Assert.Equal(6 * (long)Chunk, set.Count);
    }

    [Fact]
    public void A_range_is_split_into_bitmaps_for_its_ragged_ends_and_one_run_for_the_whole_chunks_between()
    {
        var set = new PageSet();
        set.AddRange(Chunk - 3, 3 * Chunk + 5); // the last 3 pages of chunk 0, chunks 1-3 whole, the first 2 of chunk 4

        Assert.Equal((1, 2), (set.FullRuns, set.PartialChunks));
        Assert.Equal(3 * (long)Chunk + 5, set.Count);
        Assert.False(set.Contains(Chunk - 4));
        Assert.True(set.Contains(Chunk - 3));
        Assert.True(set.Contains(4 * Chunk + 1));
        Assert.False(set.Contains(4 * Chunk + 2));

        set.AddRange(0, Chunk - 3); // completes chunk 0: it joins the run
        Assert.Equal((1, 1), (set.FullRuns, set.PartialChunks));
        Assert.Equal(4 * (long)Chunk + 2, set.Count);
    }

    [Fact]
    public void A_range_over_pages_already_in_the_set_counts_only_the_new_ones()
    {
        var set = new PageSet();
        set.Add(10);
        set.Add(Chunk + 5);
        set.AddRange(2 * Chunk, Chunk);
        set.Add(3 * Chunk + 1);

        set.AddRange(0, 4 * Chunk);

        Assert.Equal(4 * (long)Chunk, set.Count);
        Assert.Equal((1, 0), (set.FullRuns, set.PartialChunks));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Answers_as_the_set_of_single_pages_it_replaces(int seed)
    {
        var set = new PageSet();
        var reference = new HashSet<ulong>();
        var random = new Random(seed);
        ulong span = 12 * Chunk; // a few chunks, so ranges, fills and merges meet
        for (int step = 0; step < 4000; step++)
        {
            if (random.Next(8) == 0)
            {
                ulong first = (ulong)random.NextInt64((long)span);
                ulong pages = (ulong)random.NextInt64(Math.Min(3 * (long)Chunk, (long)(span - first)) + 1);
                set.AddRange(first, pages);
                for (ulong p = first; p < first + pages; p++) reference.Add(p);
            }
            else
            {
                ulong page = (ulong)random.NextInt64((long)span);
                Assert.Equal(reference.Add(page), set.Add(page));
            }
            Assert.Equal(reference.Count, set.Count);
        }
        for (ulong page = 0; page < span + Chunk; page++) Assert.Equal(reference.Contains(page), set.Contains(page));
    }

    [Fact]
    public void A_huge_range_costs_one_run()
    {
        var set = new PageSet();
        long before = GC.GetAllocatedBytesForCurrentThread();
        set.AddRange(Chunk / 2, 1UL << 40);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(1L << 40, set.Count);
        Assert.Equal((1, 2), (set.FullRuns, set.PartialChunks));
        Assert.InRange(bytes, 0, 8192);
        Assert.True(set.Contains((1UL << 40) + Chunk / 2 - 1));
        Assert.False(set.Contains((1UL << 40) + Chunk / 2));
    }

    [Fact]
    public void A_range_past_the_last_page_of_a_64_bit_address_space_is_refused()
    {
        var set = new PageSet();
        Assert.Throws<ArgumentOutOfRangeException>(() => set.AddRange(PageSet.PageLimit - 1, 2));
        set.AddRange(PageSet.PageLimit - 1, 1);
        Assert.Equal(1, set.Count);
    }
}
