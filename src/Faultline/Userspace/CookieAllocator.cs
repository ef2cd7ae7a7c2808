using Faultline.Faults;

namespace Faultline.Userspace;

/// <summary>
/// The response xarray's id allocator. <see cref="CookiePolicy.LowestFree"/> is <c>xa_alloc</c> on an
/// <c>XA_FLAGS_ALLOC1</c> array: the lowest free id in 1…<see cref="Limit"/> (freed ids wait in a
/// min-heap, O(log outstanding)). <see cref="CookiePolicy.Cyclic"/> is <c>xa_alloc_cyclic</c>: the next id
/// after the last one handed out that is not outstanding, so an answered cookie stays unused for as long
/// as possible (POL-7). Both return -EBUSY when every id is outstanding, and allocate nothing in the steady state.
/// </summary>
internal sealed class CookieAllocator(uint limit, CookiePolicy policy)
{
    private readonly PriorityQueue<uint, uint> _freed = new();
    private readonly HashSet<uint> _outstanding = [];
    private ulong _next = 1; // LowestFree: every id below it is outstanding or in _freed; Cyclic: the next candidate

    public uint Limit { get; } = limit;

    public FaultQueueErrno Allocate(out uint cookie)
    {
        if (policy == CookiePolicy.Cyclic) return AllocateCyclic(out cookie);
        if (_freed.TryDequeue(out cookie, out _)) return FaultQueueErrno.None;
        if (_next > Limit)
        {
            cookie = 0;
            return FaultQueueErrno.EBUSY;
        }
        cookie = (uint)_next++;
        return FaultQueueErrno.None;
    }

    public void Release(uint cookie)
    {
        if (policy == CookiePolicy.Cyclic) _outstanding.Remove(cookie);
        else _freed.Enqueue(cookie, cookie);
    }

    private FaultQueueErrno AllocateCyclic(out uint cookie)
    {
        if (_outstanding.Count >= Limit)
        {
            cookie = 0;
            return FaultQueueErrno.EBUSY;
        }
        while (_outstanding.Contains((uint)_next)) _next = _next >= Limit ? 1 : _next + 1;
        cookie = (uint)_next;
        _outstanding.Add(cookie);
        _next = _next >= Limit ? 1 : _next + 1;
        return FaultQueueErrno.None;
    }
}
