using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>
/// The ATC that grows on demand (issue 9) keeps the translations, and evicts them in the order,
/// of the Dictionary + order queue it replaces (kept below as the reference).
/// </summary>
public sealed class AddressTranslationCacheTests
{
    private const uint NoPasid = uint.MaxValue;

    [Fact]
    public void Past_capacity_the_translation_inserted_or_refreshed_longest_ago_goes_and_lookups_do_not_refresh()
    {
        var atc = new AddressTranslationCache(3);
        atc.Insert(1, 0x1000, Rw);
        atc.Insert(1, 0x2000, Rw);
        atc.Insert(1, 0x3000, Rw);
        Assert.True(atc.TryGet(1, 0x1000, out _)); // a hit is not a refresh
        atc.Insert(1, 0x2000, ReadOnly);          // a refresh is

        atc.Insert(2, 0x1000, Rw); // evicts 1:0x1000
        atc.Insert(1, 0x4000, Rw); // evicts 1:0x3000

        Assert.Equal([(1u, 0x2000UL), (2u, 0x1000UL), (1u, 0x4000UL)], atc.OldestFirst());
        Assert.False(atc.TryGet(1, 0x1000, out _));
        Assert.True(atc.TryGet(1, 0x2000, out var entry));
        Assert.Equal(ReadOnly, entry);
        Assert.Equal(3, atc.Count);
    }

    [Fact]
    public void H_PCI_18_invalidation_drops_the_covered_pages_of_its_pasid_only_and_keeps_the_order_of_the_rest()
    {
        var atc = new AddressTranslationCache(16);
        for (ulong page = 0; page < 6; page++)
        {
            atc.Insert(1, 0x40_0000 + (page << 12), Rw);
            atc.Insert(NoPasid, 0x40_0000 + (page << 12), Rw);
        }

        atc.Invalidate(1, new InvalidateRequest(default, new Pasid(1), 0x40_1000, 0x2000, 0));

        Assert.Equal(10, atc.Count);
        Assert.False(atc.TryGet(1, 0x40_1000, out _));
        Assert.False(atc.TryGet(1, 0x40_2000, out _));
        Assert.True(atc.TryGet(NoPasid, 0x40_1000, out _));
        Assert.Equal(
            Enumerable.Range(0, 6).SelectMany(p => new[] { (1u, 0x40_0000UL + ((ulong)p << 12)), (NoPasid, 0x40_0000UL + ((ulong)p << 12)) })
                .Where(k => !(k.Item1 == 1 && k.Item2 is 0x40_1000 or 0x40_2000)),
            atc.OldestFirst());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(64)]
    [InlineData(1024)]
    public void Holds_and_evicts_exactly_what_the_dictionary_and_order_queue_did(int capacity)
    {
        var atc = new AddressTranslationCache(capacity);
        var reference = new ReferenceAtc(capacity);
        var random = new Random(capacity + 17);
        // Few PASIDs and pages, so refreshes, re-inserts after eviction and invalidations are frequent.
        int pages = Math.Max(4, capacity * 2);
        for (int step = 0; step < 20_000; step++)
        {
            uint pasid = random.Next(4) == 0 ? NoPasid : (uint)random.Next(1, 4);
            ulong page = 0x7f00_0000_0000UL + ((ulong)random.Next(pages) << 12);
            switch (random.Next(10))
            {
                case < 6:
                    var entry = new AtcEntry(true, random.Next(2) == 0, random.Next(4) == 0);
                    atc.Insert(pasid, page, entry);
                    reference.Insert(pasid, page, entry);
                    break;
                case < 9:
                    Assert.Equal(reference.TryGet(pasid, page, out var expected), atc.TryGet(pasid, page, out var actual));
                    Assert.Equal(expected, actual);
                    break;
                default:
                    var request = new InvalidateRequest(default, pasid == NoPasid ? null : new Pasid(pasid), page, (ulong)random.Next(1, 64) << 12, 0);
                    atc.Invalidate(pasid, request);
                    reference.Invalidate(pasid, request);
                    break;
            }
            Assert.Equal(reference.Count, atc.Count);
            if (step % 97 == 0) Assert.Equal(reference.OldestFirst(), atc.OldestFirst());
        }
        Assert.Equal(reference.OldestFirst(), atc.OldestFirst());
    }

    [Fact]
    public void Grows_by_doubling_to_its_capacity_and_keeps_every_translation_across_growth()
    {
        var atc = new AddressTranslationCache(1000);
        for (ulong i = 0; i < 1000; i++) atc.Insert((uint)(i % 3), i << 12, Rw);
        Assert.Equal(1000, atc.Count);
        for (ulong i = 0; i < 1000; i++) Assert.True(atc.TryGet((uint)(i % 3), i << 12, out _));

        // At capacity, churn allocates nothing (rule 7).
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (ulong i = 1000; i < 5000; i++) atc.Insert(7, i << 12, Rw);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1000, atc.Count);
        Assert.Equal(Enumerable.Range(4000, 1000).Select(i => (7u, (ulong)i << 12)), atc.OldestFirst());
    }

    private static readonly AtcEntry Rw = new(true, true, false);
    private static readonly AtcEntry ReadOnly = new(true, false, false);

    /// <summary>The ATC as PriFunction kept it before issue 9: a dictionary and a queue of insertion serials.</summary>
    private sealed class ReferenceAtc(int capacity)
    {
        private readonly Dictionary<(uint Pasid, ulong Page), (AtcEntry Translation, long Serial)> _atc = new();
        private readonly Queue<((uint Pasid, ulong Page) Key, long Serial)> _order = new();
        private long _serial;

        public int Count => _atc.Count;

        public bool TryGet(uint pasid, ulong page, out AtcEntry entry)
        {
            bool found = _atc.TryGetValue((pasid, page), out var e);
            entry = e.Translation;
            return found;
        }

        public void Insert(uint pasid, ulong page, AtcEntry translation)
        {
            var key = (pasid, page);
            long serial = ++_serial;
            _atc[key] = (translation, serial);
            _order.Enqueue((key, serial));
            while (_atc.Count > capacity && _order.TryDequeue(out var oldest))
                if (_atc.TryGetValue(oldest.Key, out var e) && e.Serial == oldest.Serial) _atc.Remove(oldest.Key);
            if (_order.Count > 2 * capacity + 16)
            {
                var live = _order.Where(o => _atc.TryGetValue(o.Key, out var e) && e.Serial == o.Serial).ToList();
                _order.Clear();
                foreach (var o in live) _order.Enqueue(o);
            }
        }

        public void Invalidate(uint pasid, InvalidateRequest request)
        {
            foreach (var key in _atc.Keys.Where(k => k.Pasid == pasid && request.Covers(k.Page)).ToList()) _atc.Remove(key);
        }

        /// <summary>The live keys in eviction order: the queue's records still current.</summary>
        public List<(uint, ulong)> OldestFirst() =>
            _order.Where(o => _atc.TryGetValue(o.Key, out var e) && e.Serial == o.Serial).Select(o => (o.Key.Pasid, o.Key.Page)).ToList();
    }
}
