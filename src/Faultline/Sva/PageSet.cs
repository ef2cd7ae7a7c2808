using System.Numerics;

namespace Faultline.Sva;

/// <summary>
/// A set of page numbers (address >> 12), stored so that memory follows the ranges, not the pages
/// (issue 9): the pages are cut into chunks of 4096; a chunk wholly in the set is part of a sorted
/// run of full chunks (adjacent runs merge), a chunk partly in it has a bitmap (512 bytes), an empty
/// chunk costs nothing. A 2^24-page VMA made resident whole is one run; a fragmented one costs at
/// most a bit per page. Contains and Add are O(1) in the bitmaps and O(log runs) in the runs.
/// Nothing iterates the bitmap dictionary in an order that decides anything (rule 2).
/// </summary>
internal sealed class PageSet
{
    public const int ChunkShift = 12;
    public const long ChunkPages = 1L << ChunkShift;
    /// <summary>Page numbers of a 64-bit address space are below this.</summary>
    public const ulong PageLimit = 1UL << 52;
    private const int Words = (int)(ChunkPages / 64);

    // Chunks partly in the set: chunk number → bitmap, never all zeros nor all ones.
    private readonly Dictionary<ulong, ulong[]> _partial = [];
    // Runs of full chunks, [First, End) in chunk numbers: sorted, disjoint, never adjacent.
    private readonly List<ChunkRun> _runs = [];
    // The bitmap of the chunk filled last, cleared, for the next chunk begun (a page-by-page fill allocates one).
    private ulong[]? _spare;
    // The partial chunk looked up last and its bitmap: the pages of one access or group share a chunk, so most
    // lookups skip the table (issue 9). Forgotten when that bitmap leaves the table.
    private ulong _lastChunk = ulong.MaxValue;
    private ulong[]? _lastBits;

    public long Count { get; private set; }

    /// <summary>Runs of full chunks held (for tests: merged runs stay one).</summary>
    internal int FullRuns => _runs.Count;

    /// <summary>Chunks held as bitmaps (for tests: a chunk that fills up leaves its bitmap).</summary>
    internal int PartialChunks => _partial.Count;

    public bool Contains(ulong page)
    {
        ulong chunk = page >> ChunkShift;
        if (Partial(chunk) is { } bits) return (bits[WordOf(page)] & BitOf(page)) != 0;
        return RunHolding(chunk) >= 0;
    }

    /// <summary>The bitmap of a chunk partly in the set, or null.</summary>
    private ulong[]? Partial(ulong chunk)
    {
        if (chunk == _lastChunk) return _lastBits;
        if (!_partial.TryGetValue(chunk, out var bits)) return null;
        _lastChunk = chunk;
        return _lastBits = bits;
    }

    /// <summary>Adds a page; false if it was in the set already.</summary>
    public bool Add(ulong page)
    {
        ulong chunk = page >> ChunkShift;
        if (Partial(chunk) is not { } bits)
        {
            if (RunHolding(chunk) >= 0) return false;
            bits = TakeBitmap();
            _partial.Add(chunk, bits);
        }
        ref ulong word = ref bits[WordOf(page)];
        if ((word & BitOf(page)) != 0) return false;
        word |= BitOf(page);
        Count++;
        if (word == ulong.MaxValue && IsFull(bits)) Fill(chunk, chunk + 1);
        return true;
    }

    /// <summary>Adds <paramref name="pages"/> pages from <paramref name="first"/>; whole chunks go straight into the runs.</summary>
    public void AddRange(ulong first, ulong pages)
    {
        if (pages > PageLimit || first > PageLimit - pages)
            throw new ArgumentOutOfRangeException(nameof(pages), pages, "the range runs past the last page of a 64-bit address space");
        ulong end = first + pages;
        ulong firstWhole = (first + (ulong)ChunkPages - 1) >> ChunkShift;
        ulong endWhole = end >> ChunkShift;
        if (firstWhole >= endWhole)
        {
            AddWithinChunks(first, end);
            return;
        }
        AddWithinChunks(first, firstWhole << ChunkShift);
        Fill(firstWhole, endWhole);
        AddWithinChunks(endWhole << ChunkShift, end);
    }

    /// <summary>Pages [first, end) of chunks the range does not cover whole: into their bitmaps, a word at a time.</summary>
    private void AddWithinChunks(ulong first, ulong end)
    {
        for (ulong page = first; page < end;)
        {
            ulong chunk = page >> ChunkShift;
            ulong upTo = Math.Min((chunk + 1) << ChunkShift, end);
            if (RunHolding(chunk) < 0)
            {
                if (Partial(chunk) is not { } bits)
                {
                    bits = TakeBitmap();
                    _partial.Add(chunk, bits);
                }
                for (ulong p = page; p < upTo;)
                {
                    int bit = (int)(p & 63);
                    int span = (int)Math.Min((ulong)(64 - bit), upTo - p);
                    ulong mask = (span == 64 ? ulong.MaxValue : (1UL << span) - 1) << bit;
                    ref ulong word = ref bits[WordOf(p)];
                    Count += BitOperations.PopCount(mask & ~word);
                    word |= mask;
                    p += (ulong)span;
                }
                if (IsFull(bits)) Fill(chunk, chunk + 1);
            }
            page = upTo;
        }
    }

    /// <summary>Makes chunks [first, end) full: their bitmaps go, the runs they touch merge into one.</summary>
    private void Fill(ulong first, ulong end)
    {
        // Pages already held in the span: those of the runs inside it and of its bitmaps.
        long held = 0;
        int at = FirstRunEndingAtOrAfter(first);
        int to = at;
        ulong mergedFirst = first, mergedEnd = end;
        for (; to < _runs.Count && _runs[to].First <= end; to++)
        {
            var run = _runs[to];
            held += (long)(Math.Min(run.End, end) - Math.Max(run.First, first)) * ChunkPages;
            mergedFirst = Math.Min(mergedFirst, run.First);
            mergedEnd = Math.Max(mergedEnd, run.End);
        }
        // Visit whichever is smaller: the chunks of the span, or the bitmaps held.
        if (end - first <= (ulong)_partial.Count)
        {
            for (ulong chunk = first; chunk < end; chunk++)
                if (_partial.Remove(chunk, out var bits)) held += Release(bits);
        }
        else if (_partial.Count > 0)
        {
            List<ulong>? inside = null;
            foreach (var chunk in _partial.Keys)
                if (chunk >= first && chunk < end) (inside ??= []).Add(chunk);
            if (inside is not null)
                foreach (var chunk in inside)
                    if (_partial.Remove(chunk, out var bits)) held += Release(bits);
        }
        Count += (long)(end - first) * ChunkPages - held;
        var merged = new ChunkRun(mergedFirst, mergedEnd);
        if (to - at == 1)
        {
            _runs[at] = merged; // the common case: a run grows by the chunk next to it
        }
        else
        {
            _runs.RemoveRange(at, to - at);
            _runs.Insert(at, merged);
        }
    }

    /// <summary>The index of the run holding <paramref name="chunk"/>, or -1.</summary>
    private int RunHolding(ulong chunk)
    {
        int at = FirstRunEndingAtOrAfter(chunk + 1);
        return at < _runs.Count && _runs[at].First <= chunk && chunk < _runs[at].End ? at : -1;
    }

    /// <summary>Binary search: the first run whose End is at or after <paramref name="chunk"/> (runs touching or past it).</summary>
    private int FirstRunEndingAtOrAfter(ulong chunk)
    {
        int lo = 0, hi = _runs.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_runs[mid].End < chunk) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    private ulong[] TakeBitmap()
    {
        var bits = _spare ?? new ulong[Words];
        _spare = null;
        return bits;
    }

    /// <summary>Keeps a dropped bitmap, cleared, for the next chunk; returns the pages it held.</summary>
    private long Release(ulong[] bits)
    {
        if (bits == _lastBits)
        {
            _lastChunk = ulong.MaxValue;
            _lastBits = null;
        }
        long held = 0;
        foreach (ulong w in bits) held += BitOperations.PopCount(w);
        Array.Clear(bits);
        _spare = bits;
        return held;
    }

    private static bool IsFull(ulong[] bits)
    {
        foreach (ulong w in bits) if (w != ulong.MaxValue) return false;
        return true;
    }

    private static int WordOf(ulong page) => (int)((page >> 6) & (Words - 1));

    private static ulong BitOf(ulong page) => 1UL << (int)(page & 63);

    private readonly record struct ChunkRun(ulong First, ulong End);
}
