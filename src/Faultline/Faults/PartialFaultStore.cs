using System.Runtime.InteropServices;

namespace Faultline.Faults;

/// <summary>
/// The partial (non-last) faults of one device, chained per <see cref="GroupKey"/> in arrival order.
/// Append and extraction are O(1) per fault (F1: Linux scans one list per last request); nodes are
/// recycled, so the steady state allocates nothing.
/// </summary>
internal sealed class PartialFaultStore
{
    private struct Chain
    {
        public int Head;
        public int Tail;
    }

    private readonly Dictionary<ulong, Chain> _chains = new();
    private Fault[] _faults = new Fault[16];
    private int[] _next = new int[16];
    private int _freeHead = -1;
    private int _used;

    public int Count { get; private set; }

    public void Append(GroupKey key, in Fault fault)
    {
        int node = AllocateNode();
        _faults[node] = fault;
        _next[node] = -1;
        ref var chain = ref CollectionsMarshal.GetValueRefOrAddDefault(_chains, key.Value, out bool exists);
        if (exists)
        {
            _next[chain.Tail] = node;
            chain.Tail = node;
        }
        else
        {
            chain.Head = node;
            chain.Tail = node;
        }
        Count++;
    }

    /// <summary>Moves every partial of <paramref name="key"/>, oldest first, into <paramref name="group"/> (R14).</summary>
    public void MoveTo(GroupKey key, FaultGroup group)
    {
        if (!_chains.Remove(key.Value, out var chain)) return;
        for (int node = chain.Head; node != -1;)
        {
            group.Add(_faults[node]);
            int next = _next[node];
            FreeNode(node);
            node = next;
        }
    }

    /// <summary>Drops every partial of <paramref name="key"/>; returns how many.</summary>
    public int Drop(GroupKey key)
    {
        if (!_chains.Remove(key.Value, out var chain)) return 0;
        int dropped = 0;
        for (int node = chain.Head; node != -1;)
        {
            int next = _next[node];
            FreeNode(node);
            node = next;
            dropped++;
        }
        return dropped;
    }

    /// <summary>Frees every partial (R4 removal, R24 discard); returns how many.</summary>
    public int Clear()
    {
        int dropped = Count;
        _chains.Clear();
        _freeHead = -1;
        _used = 0;
        Count = 0;
        return dropped;
    }

    private int AllocateNode()
    {
        if (_freeHead != -1)
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
