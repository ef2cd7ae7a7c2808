using Faultline.Pcie;

namespace Faultline.Devices;

/// <summary>What the ATC keeps of a translation completion: the rights it granted.</summary>
internal readonly record struct AtcEntry(bool Read, bool Write, bool Execute);

/// <summary>
/// A function's address translation cache: translations keyed by (PASID key, page), at most
/// <see cref="Capacity"/> of them; past capacity the one inserted or refreshed longest ago goes
/// (lookups do not refresh). Storage grows by doubling up to the capacity as translations arrive,
/// so an idle function holds none (issue 9); at capacity nothing is allocated (rule 7).
/// Nodes sit in one array, chained oldest to newest; an open-addressed table of node numbers
/// finds them in O(1). Nothing iterates the table, so its order decides nothing (rule 2). Each slot
/// keeps its key's hash beside the node number, so a probe, a miss and a deletion's shift read the
/// table alone and touch a node only on a hash match: with one ATC per function the nodes are cache
/// misses, and a saturated run looks up and evicts on nearly every page (issue 9).
/// </summary>
internal sealed class AddressTranslationCache(int capacity)
{
    private const int None = -1;
    private const int FirstNodes = 8;

    private Node[] _nodes = [];
    // Per slot: the key's hash (the high half of its product, Home) above node number + 1; 0 for an empty slot.
    // At most half full.
    private ulong[] _table = [];
    private int _shift;         // 64 - log2 of the table's length: the hash's top bits are a key's home slot
    private int _used;          // nodes ever handed out; below it, free ones are chained through Newer
    private int _free = None;
    private int _oldest = None;
    private int _newest = None;

    public int Capacity { get; } = capacity;
    public int Count { get; private set; }

    public bool TryGet(uint pasid, ulong page, out AtcEntry entry)
    {
        int node = Find(pasid, page, out _);
        entry = node == None ? default : _nodes[node].Entry;
        return node != None;
    }

    /// <summary>Inserts or refreshes a translation, which becomes the newest; past capacity the oldest goes.</summary>
    public void Insert(uint pasid, ulong page, AtcEntry entry)
    {
        if (Capacity <= 0) return; // it would be evicted at once
        int node = Find(pasid, page, out _);
        if (node != None)
        {
            _nodes[node].Entry = entry;
            Unlink(node);
            LinkNewest(node);
            return;
        }
        // Evicting before inserting leaves the same set as inserting first: the new one is never the oldest.
        if (Count == Capacity) Remove(_oldest);
        node = Allocate();
        _nodes[node] = new Node { Page = page, Pasid = pasid, Entry = entry };
        LinkNewest(node);
        ulong hash = Hash(pasid, page);
        _table[EmptySlot(hash)] = Slot(hash, node);
        Count++;
    }

    /// <summary>Drops the translations of <paramref name="pasid"/> the request covers (H-PCI-18).</summary>
    public void Invalidate(uint pasid, in InvalidateRequest request)
    {
        for (int node = _oldest; node != None;)
        {
            int next = _nodes[node].Newer;
            if (_nodes[node].Pasid == pasid && request.Covers(_nodes[node].Page)) Remove(node);
            node = next;
        }
    }

    /// <summary>The cached pages, oldest first (for tests that check eviction order).</summary>
    internal IEnumerable<(uint Pasid, ulong Page)> OldestFirst()
    {
        for (int node = _oldest; node != None; node = _nodes[node].Newer)
            yield return (_nodes[node].Pasid, _nodes[node].Page);
    }

    private void Remove(int node)
    {
        Find(_nodes[node].Pasid, _nodes[node].Page, out int slot);
        Unlink(node);
        _nodes[node] = new Node { Newer = _free };
        _free = node;
        Count--;
        // Backward-shift deletion keeps every probe run unbroken without tombstones.
        int mask = _table.Length - 1;
        _table[slot] = 0;
        for (int next = (slot + 1) & mask; _table[next] != 0; next = (next + 1) & mask)
        {
            int home = Home(_table[next]);
            if (((next - home) & mask) >= ((next - slot) & mask))
            {
                _table[slot] = _table[next];
                _table[next] = 0;
                slot = next;
            }
        }
    }

    private int Allocate()
    {
        if (_free != None)
        {
            int node = _free;
            _free = _nodes[node].Newer;
            return node;
        }
        if (_used == _nodes.Length) Grow();
        return _used++;
    }

    /// <summary>Doubles the nodes, up to the capacity, and rebuilds the table at twice their number.</summary>
    private void Grow()
    {
        int length = (int)Math.Min(Capacity, Math.Max(FirstNodes, 2L * _nodes.Length));
        Array.Resize(ref _nodes, length);
        _table = new ulong[checked((int)(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)length) * 2L))];
        _shift = 64 - System.Numerics.BitOperations.Log2((uint)_table.Length);
        for (int node = _oldest; node != None; node = _nodes[node].Newer)
        {
            ulong hash = Hash(_nodes[node].Pasid, _nodes[node].Page);
            _table[EmptySlot(hash)] = Slot(hash, node);
        }
    }

    private int Find(uint pasid, ulong page, out int slot)
    {
        slot = 0;
        if (_table.Length == 0) return None;
        int mask = _table.Length - 1;
        ulong hash = Hash(pasid, page);
        for (slot = Home(hash); _table[slot] != 0; slot = (slot + 1) & mask)
        {
            if ((_table[slot] & HashBits) != hash) continue;
            int node = (int)(uint)_table[slot] - 1;
            if (_nodes[node].Page == page && _nodes[node].Pasid == pasid) return node;
        }
        return None;
    }

    private int EmptySlot(ulong hash)
    {
        int mask = _table.Length - 1;
        int slot = Home(hash);
        while (_table[slot] != 0) slot = (slot + 1) & mask;
        return slot;
    }

    private const ulong HashBits = 0xFFFF_FFFF_0000_0000UL;

    /// <summary>
    /// Fibonacci hashing of the page number and PASID: fixed, so lookups cost the same on every run. The high half of
    /// the product; its top bits are the home slot, as they were when the table held node numbers alone.
    /// </summary>
    private static ulong Hash(uint pasid, ulong page) =>
        (((page >> PageRequest.PageShift) ^ ((ulong)pasid << 40) ^ pasid) * 0x9E3779B97F4A7C15UL) & HashBits;

    private static ulong Slot(ulong hash, int node) => hash | (uint)(node + 1);

    private int Home(ulong hashOrSlot) => (int)(hashOrSlot >> _shift);

    private void LinkNewest(int node)
    {
        _nodes[node].Older = _newest;
        _nodes[node].Newer = None;
        if (_newest != None) _nodes[_newest].Newer = node;
        else _oldest = node;
        _newest = node;
    }

    private void Unlink(int node)
    {
        ref var n = ref _nodes[node];
        if (n.Older != None) _nodes[n.Older].Newer = n.Newer;
        else _oldest = n.Newer;
        if (n.Newer != None) _nodes[n.Newer].Older = n.Older;
        else _newest = n.Older;
    }

    private struct Node
    {
        public ulong Page;
        public uint Pasid;
        public AtcEntry Entry;
        public int Older;
        public int Newer;
    }
}
