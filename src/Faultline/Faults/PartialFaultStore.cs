using System.Runtime.InteropServices;

namespace Faultline.Faults;

/// <summary>
/// The partial (non-last) faults of one device, chained per <see cref="GroupKey"/> in arrival order.
/// Append and extraction are O(1) per fault (F1: Linux scans one list per last request); chains are
/// also linked oldest first, so a bound (POL-4) drops the oldest incomplete group in O(its size).
/// Fault nodes and chain slots are recycled, so the steady state allocates nothing.
/// </summary>
internal sealed class PartialFaultStore
{
    private const int None = -1;

    private struct Chain
    {
        public ulong Key;
        public int Head;
        public int Tail;
        public int Count;
        // Links in the age list (oldest first); the free list reuses Newer.
        public int Older;
        public int Newer;
    }

    private readonly Dictionary<ulong, int> _chainOf = new();
    // Chain records hold no reference, so writing one needs no GC write barrier (the fault path, issue 9); where
    // each chain's first request was routed when it arrived (the isolation check) sits beside them, by slot.
    private Chain[] _chains = new Chain[8];
    private FaultAttachment?[] _firstRoute = new FaultAttachment?[8];
    private int _chainFree = None;
    private int _chainsUsed;
    private int _oldest = None;
    private int _newest = None;

    private Fault[] _faults = new Fault[16];
    private int[] _next = new int[16];
    private int _freeHead = None;
    private int _used;

    public int Count { get; private set; }

    /// <summary>Incomplete groups held (one chain per key).</summary>
    public int GroupCount => _chainOf.Count;

    /// <summary>
    /// Appends <paramref name="fault"/> to the chain of <paramref name="key"/>. When the store already
    /// holds <paramref name="limit"/> faults, the oldest chain is dropped whole first (POL-4) — even
    /// when it is the chain of this key: a group that outgrew the bound is stale (its last request
    /// was lost and its index is being reused). The arriving fault is always kept.
    /// Returns how many faults were dropped (0, or the size of the one chain dropped). A new chain remembers
    /// <paramref name="route"/>, the attachment its first request was routed to.
    /// </summary>
    public int Append(GroupKey key, in Fault fault, int limit = int.MaxValue, FaultAttachment? route = null)
    {
        int evicted = Count >= limit && _oldest != None ? DropChain(_oldest) : 0;
        int node = AllocateNode();
        _faults[node] = fault;
        _next[node] = None;
        ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_chainOf, key.Value, out bool exists);
        if (exists)
        {
            ref var chain = ref _chains[slot];
            _next[chain.Tail] = node;
            chain.Tail = node;
            chain.Count++;
        }
        else
        {
            slot = AllocateChain(key.Value, node);
            _firstRoute[slot] = route;
        }
        Count++;
        return evicted;
    }

    /// <summary>
    /// Moves every partial of <paramref name="key"/>, oldest first, into <paramref name="group"/> (R14). Returns
    /// where the first of them was routed when it arrived, or null when the key had none.
    /// </summary>
    public FaultAttachment? MoveTo(GroupKey key, FaultGroup group)
    {
        if (!_chainOf.Remove(key.Value, out int slot)) return null;
        var firstRoute = _firstRoute[slot];
        for (int node = _chains[slot].Head; node != None;)
        {
            group.Add(_faults[node]);
            int next = _next[node];
            FreeNode(node);
            node = next;
        }
        FreeChain(slot);
        return firstRoute;
    }

    /// <summary>Drops every partial of <paramref name="key"/>; returns how many.</summary>
    public int Drop(GroupKey key) => _chainOf.TryGetValue(key.Value, out int slot) ? DropChain(slot) : 0;

    /// <summary>
    /// Drops every partial that the attachment at <paramref name="pasid"/> would have handled
    /// (<see cref="Fault.RoutedPasid"/>; 0 is the RID) — POL-10 at detach. A chain whose key holds a
    /// PASID (POL-2 <c>hardened</c>) goes whole; a chain keyed by PRG index only may mix PASIDs, so
    /// its faults are checked one by one. O(chains + faults in chains without a PASID key).
    /// Returns how many faults were dropped.
    /// </summary>
    public int DropPasid(uint pasid)
    {
        int dropped = 0;
        for (int slot = _oldest; slot != None;)
        {
            int newer = _chains[slot].Newer;
            var key = new GroupKey(_chains[slot].Key);
            if (key.PasidValid)
            {
                if (key.Pasid == pasid) dropped += DropChain(slot);
            }
            else
            {
                dropped += DropMatching(slot, pasid);
            }
            slot = newer;
        }
        return dropped;
    }

    /// <summary>Partials the attachment at <paramref name="pasid"/> would handle. O(partials): for checks, not the hot path.</summary>
    public int CountPasid(uint pasid)
    {
        int count = 0;
        for (int slot = _oldest; slot != None; slot = _chains[slot].Newer)
            for (int node = _chains[slot].Head; node != None; node = _next[node])
                if (_faults[node].RoutedPasid == pasid) count++;
        return count;
    }

    /// <summary>Frees every partial (R4 removal, R24 discard); returns how many.</summary>
    public int Clear()
    {
        int dropped = Count;
        _chainOf.Clear();
        _chainFree = None;
        Array.Clear(_firstRoute, 0, _chainsUsed);
        _chainsUsed = 0;
        _oldest = _newest = None;
        _freeHead = None;
        _used = 0;
        Count = 0;
        return dropped;
    }

    private int DropMatching(int slot, uint pasid)
    {
        ref var chain = ref _chains[slot];
        int dropped = 0, kept = None;
        for (int node = chain.Head; node != None;)
        {
            int next = _next[node];
            if (_faults[node].RoutedPasid == pasid)
            {
                if (kept == None) chain.Head = next;
                else _next[kept] = next;
                if (chain.Tail == node) chain.Tail = kept;
                FreeNode(node);
                chain.Count--;
                dropped++;
            }
            else
            {
                kept = node;
            }
            node = next;
        }
        if (chain.Count == 0)
        {
            _chainOf.Remove(chain.Key);
            FreeChain(slot);
        }
        return dropped;
    }

    private int DropChain(int slot)
    {
        ref var chain = ref _chains[slot];
        int dropped = chain.Count;
        _chainOf.Remove(chain.Key);
        for (int node = chain.Head; node != None;)
        {
            int next = _next[node];
            FreeNode(node);
            node = next;
        }
        FreeChain(slot);
        return dropped;
    }

    private int AllocateChain(ulong key, int node)
    {
        int slot;
        if (_chainFree != None)
        {
            slot = _chainFree;
            _chainFree = _chains[slot].Newer;
        }
        else
        {
            if (_chainsUsed == _chains.Length)
            {
                Array.Resize(ref _chains, _chains.Length * 2);
                Array.Resize(ref _firstRoute, _chains.Length);
            }
            slot = _chainsUsed++;
        }
        _chains[slot] = new Chain { Key = key, Head = node, Tail = node, Count = 1, Older = _newest, Newer = None };
        if (_newest != None) _chains[_newest].Newer = slot;
        else _oldest = slot;
        _newest = slot;
        return slot;
    }

    private void FreeChain(int slot)
    {
        ref var chain = ref _chains[slot];
        if (chain.Older != None) _chains[chain.Older].Newer = chain.Newer;
        else _oldest = chain.Newer;
        if (chain.Newer != None) _chains[chain.Newer].Older = chain.Older;
        else _newest = chain.Older;
        chain = new Chain { Head = None, Tail = None, Older = None, Newer = _chainFree };
        _firstRoute[slot] = null;
        _chainFree = slot;
    }

    private int AllocateNode()
    {
        if (_freeHead != None)
        {
            int node = _freeHead;
            _freeHead = _next[node];
            return node;
        }
        if (_used == _faults.Length)
        {
            Array.Resize(ref _faults, _faults.Length * 2);
            Array.Resize(ref _next, _next.Length * 2);
        }
        return _used++;
    }

    private void FreeNode(int node)
    {
        _next[node] = _freeHead;
        _freeHead = node;
        Count--;
    }
}
