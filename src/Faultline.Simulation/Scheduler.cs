using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>
/// The virtual-time engine: integer nanoseconds, events ordered by (time, insertion sequence), so two events at
/// the same instant run in the order they were scheduled, on every machine. Events are values: the heap holds
/// (time, sequence, slot) and the events sit in a slot table reused through a free list, so scheduling and
/// dispatching allocate nothing once the tables have grown to the run's peak (DESIGN rule 7).
/// An event scheduled for the same instant as the one scheduled just before it, while that one still waits, runs
/// right after it whatever else is pending (their sequences are consecutive), so it is chained to it in the slot
/// table instead of going through the heap: a function's requests of one access, and the kernel's answers to them,
/// come in such runs (issue 9). The order of events, and so every result, is the heap's.
/// </summary>
/// <typeparam name="TEvent">What an event carries: a kind, a target and a payload.</typeparam>
public sealed class Scheduler<TEvent> where TEvent : struct
{
    private const int NoSlot = -1;

    private Entry[] _heap = new Entry[256];
    private int _count;
    private TEvent[] _events = new TEvent[256];
    // By slot: the event chained to run right after it, or NoSlot.
    private int[] _chained = new int[256];
    private int[] _free = new int[256];
    private int _freeCount;
    private int _slotsUsed;
    private long _sequence;
    // The event scheduled last, while it waits (else NoSlot), and its time: a new event at that time joins its chain.
    private int _last = NoSlot;
    private long _lastTime;
    // The rest of the chain of the event taken last, run before the heap's next; and how many chained events wait.
    private int _chainNext = NoSlot;
    private int _chainedCount;

    public long Now { get; private set; }
    public long EventsRun { get; private set; }
    public int Pending => _count + _chainedCount;
    public bool IsEmpty => Pending == 0;

    public void At(long time, in TEvent e)
    {
        if (time < Now) throw new ArgumentOutOfRangeException(nameof(time), time, $"cannot schedule in the past (now {Now})");
        int slot = _freeCount > 0 ? _free[--_freeCount] : NewSlot();
        _events[slot] = e;
        _chained[slot] = NoSlot;
        _sequence++;
        if (_last != NoSlot && time == _lastTime)
        {
            _chained[_last] = slot;
            _chainedCount++;
        }
        else
        {
            if (_count == _heap.Length) Array.Resize(ref _heap, _heap.Length * 2);
            SiftUp(_count++, new Entry(time, _sequence, slot));
            _lastTime = time;
        }
        _last = slot;
    }

    public void After(long delay, in TEvent e) => At(Now + Math.Max(0, delay), e);

    /// <summary>Takes the next event if one is due at or before <paramref name="limit"/>, and moves the clock to it.</summary>
    public bool Next(long limit, out TEvent e)
    {
        int slot;
        if (_chainNext != NoSlot && Now <= limit)
        {
            slot = _chainNext;
            _chainedCount--;
        }
        else if (_chainNext == NoSlot && _count > 0 && _heap[0].Time <= limit)
        {
            var top = _heap[0];
            var last = _heap[--_count];
            if (_count > 0) SiftDown(last);
            Now = top.Time;
            slot = top.Slot;
        }
        else
        {
            e = default;
            return false;
        }
        _chainNext = _chained[slot];
        if (slot == _last) _last = NoSlot; // taken: later events start a chain of their own
        EventsRun++;
        e = _events[slot];
        if (System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<TEvent>()) _events[slot] = default; // drop references the event held
        _free[_freeCount++] = slot;
        return true;
    }

    private int NewSlot()
    {
        if (_slotsUsed == _events.Length)
        {
            Array.Resize(ref _events, _events.Length * 2);
            Array.Resize(ref _chained, _chained.Length * 2);
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
