using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>
/// The virtual-time engine: integer nanoseconds, events ordered by (time, insertion sequence), so two events at
/// the same instant run in the order they were scheduled, on every machine. Events are values: the heap holds
/// (time, sequence, slot) and the events sit in a slot table reused through a free list, so scheduling and
/// dispatching allocate nothing once the tables have grown to the run's peak (DESIGN rule 7).
/// </summary>
/// <typeparam name="TEvent">What an event carries: a kind, a target and a payload.</typeparam>
public sealed class Scheduler<TEvent> where TEvent : struct
{
    private Entry[] _heap = new Entry[256];
    private int _count;
    private TEvent[] _events = new TEvent[256];
    private int[] _free = new int[256];
    private int _freeCount;
    private int _slotsUsed;
    private long _sequence;

    public long Now { get; private set; }
    public long EventsRun { get; private set; }
    public int Pending => _count;
    public bool IsEmpty => _count == 0;

    public void At(long time, in TEvent e)
    {
        if (time < Now) throw new ArgumentOutOfRangeException(nameof(time), time, $"cannot schedule in the past (now {Now})");
        int slot = _freeCount > 0 ? _free[--_freeCount] : NewSlot();
        _events[slot] = e;
        if (_count == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
        SiftUp(_count++, new Entry(time, _sequence++, slot));
    }

    public void After(long delay, in TEvent e) => At(Now + Math.Max(0, delay), e);

    /// <summary>Takes the next event if one is due at or before <paramref name="limit"/>, and moves the clock to it.</summary>
    public bool Next(long limit, out TEvent e)
    {
        if (_count == 0 || _heap[0].Time > limit)
        {
            e = default;
            return false;
        }
        var top = _heap[0];
        var last = _heap[--_count];
        if (_count > 0) SiftDown(last);
        Now = top.Time;
        EventsRun++;
        e = _events[top.Slot];
        _events[top.Slot] = default; // drop references the event held
        _free[_freeCount++] = top.Slot;
        return true;
    }

    private int NewSlot()
    {
        if (_slotsUsed == _events.Length)
        {
            Array.Resize(ref _events, _events.Length * 2);
            Array.Resize(ref _free, _free.Length * 2);
        }
        return _slotsUsed++;
    }

    private void SiftUp(int index, Entry entry)
    {
        while (index > 0)
        {
            int parent = (index - 1) >> 1;
            if (!entry.Before(_heap[parent])) break;
            _heap[index] = _heap[parent];
            index = parent;
        }
        _heap[index] = entry;
    }

    private void SiftDown(Entry entry)
    {
        int index = 0;
        while (true)
        {
            int child = (index << 1) + 1;
            if (child >= _count) break;
            if (child + 1 < _count && _heap[child + 1].Before(_heap[child])) child++;
            if (!_heap[child].Before(entry)) break;
            _heap[index] = _heap[child];
            index = child;
        }
        _heap[index] = entry;
    }

    private readonly record struct Entry(long Time, long Sequence, int Slot)
    {
        public bool Before(in Entry other) => Time < other.Time || (Time == other.Time && Sequence < other.Sequence);
    }
}
