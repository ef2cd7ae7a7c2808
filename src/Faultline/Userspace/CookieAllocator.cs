namespace Faultline.Userspace;

/// <summary>
/// The response xarray's id allocator (<c>xa_alloc</c> on an <c>XA_FLAGS_ALLOC1</c> array): the lowest
/// free id in 1…<see cref="Limit"/>, -EBUSY when none is free. Freed ids go to a min-heap, so
/// allocation and release are O(log outstanding) and allocate nothing in the steady state.
/// </summary>
internal sealed class CookieAllocator(uint limit)
{
    private readonly PriorityQueue<uint, uint> _freed = new();
    private ulong _next = 1; // every id below it is either outstanding or in _freed

    public uint Limit { get; } = limit;

    public FaultQueueErrno Allocate(out uint cookie)
    {
        if (_freed.TryDequeue(out cookie, out _)) return FaultQueueErrno.None;
        if (_next > Limit)
        {
            cookie = 0;
            return FaultQueueErrno.EBUSY;
        }
        cookie = (uint)_next++;
        return FaultQueueErrno.None;
    }

    public void Release(uint cookie) => _freed.Enqueue(cookie, cookie);
}
