using BenchmarkDotNet.Attributes;
using Faultline.Host;
using Faultline.Simulation;

namespace Faultline.Bench;

/// <summary>
/// The virtual-time engine alone: schedule + dispatch through <see cref="Scheduler{TEvent}"/> with a steady state of
/// <see cref="Pending"/> events, where each dispatched event schedules one more at a pseudo-random delay (the same
/// delay stream for every variant). One operation is one event: one pop and one push. Beside it:
/// <list type="bullet">
/// <item>the floor (<see cref="ArrayHeap"/>, the baseline, on <see cref="BareHeap"/>): a bare hand-written binary heap of (time, sequence, int
/// payload), no slot table, no free list;</item>
/// <item>the same <see cref="Scheduler{TEvent}"/> with a 16-byte event, to tell the slot table's cost from the cost of
/// copying the simulator's event (<see cref="SimEvent"/>, a few hundred bytes) in and out;</item>
/// <item>the BCL <see cref="PriorityQueue{TElement,TPriority}"/> with a (time, sequence) priority, holding the real
/// <see cref="SimEvent"/> inline, and holding an int payload.</item>
/// </list>
/// </summary>
[MemoryDiagnoser]
public class EngineBenchmark
{
    private const int EventsPerInvoke = 4096;
    private const int MaxDelayMask = 2047; // delays uniform in [0, 2 µs), the spread of the simulator's link / interrupt / work hops

    /// <summary>16: about the saturated-vtd run's mean (12; its peak is 2047); 64 and 4096: deeper heaps.</summary>
    [Params(16, 64, 4096)]
    public int Pending { get; set; }

    private Scheduler<SimEvent> _scheduler = null!;
    private Scheduler<SmallEvent> _small = null!;
    private PriorityQueue<SimEvent, (long, long)> _bclEvents = null!;
    private PriorityQueue<int, (long, long)> _bclInts = null!;
    private BareHeap _heap = null!;
    private long _bclEventsNow, _bclEventsSeq, _bclIntsNow, _bclIntsSeq;
    private ulong _rngScheduler, _rngSmall, _rngBclEvents, _rngBclInts, _rngHeap;

    /// <summary>The size of the simulator's event, as the engine copies it (printed by <c>-- sizes</c>).</summary>
    internal static int SimEventSize => System.Runtime.CompilerServices.Unsafe.SizeOf<SimEvent>();

    [GlobalSetup]
    public void Setup()
    {
        _rngScheduler = _rngSmall = _rngBclEvents = _rngBclInts = _rngHeap = 0x9E3779B97F4A7C15;
        _scheduler = new Scheduler<SimEvent>();
        _small = new Scheduler<SmallEvent>();
        _bclEvents = new PriorityQueue<SimEvent, (long, long)>(Pending);
        _bclInts = new PriorityQueue<int, (long, long)>(Pending);
        _heap = new BareHeap(Pending);
        for (int i = 0; i < Pending; i++)
        {
            _scheduler.At(Delay(ref _rngScheduler), MakeEvent(i));
            _small.At(Delay(ref _rngSmall), new SmallEvent(i, 0));
            _bclEvents.Enqueue(MakeEvent(i), (Delay(ref _rngBclEvents), _bclEventsSeq++));
            _bclInts.Enqueue(i, (Delay(ref _rngBclInts), _bclIntsSeq++));
            _heap.Push(Delay(ref _rngHeap), i);
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = EventsPerInvoke)]
    public long ArrayHeap()
    {
        long sum = 0;
        var heap = _heap;
        for (int i = 0; i < EventsPerInvoke; i++)
        {
            heap.Pop(out long now, out int payload);
            sum += payload;
            heap.Push(now + Delay(ref _rngHeap), payload + 1);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public long SchedulerSimEvent()
    {
        long sum = 0;
        var scheduler = _scheduler;
        for (int i = 0; i < EventsPerInvoke; i++)
        {
            scheduler.Next(long.MaxValue, out var e);
            sum += e.Target;
            e.Target++;
            scheduler.After(Delay(ref _rngScheduler), e);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public long SchedulerSmallEvent()
    {
        long sum = 0;
        var scheduler = _small;
        for (int i = 0; i < EventsPerInvoke; i++)
        {
            scheduler.Next(long.MaxValue, out var e);
            sum += e.Target;
            scheduler.After(Delay(ref _rngSmall), new SmallEvent(e.Target + 1, e.Kind));
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public long PriorityQueueSimEvent()
    {
        long sum = 0;
        var queue = _bclEvents;
        for (int i = 0; i < EventsPerInvoke; i++)
        {
            queue.TryDequeue(out var e, out var at);
            _bclEventsNow = at.Item1;
            sum += e.Target;
            e.Target++;
            queue.Enqueue(e, (_bclEventsNow + Delay(ref _rngBclEvents), _bclEventsSeq++));
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public long PriorityQueueInt()
    {
        long sum = 0;
        var queue = _bclInts;
        for (int i = 0; i < EventsPerInvoke; i++)
        {
            queue.TryDequeue(out int payload, out var at);
            _bclIntsNow = at.Item1;
            sum += payload;
            queue.Enqueue(payload + 1, (_bclIntsNow + Delay(ref _rngBclInts), _bclIntsSeq++));
        }
        return sum;
    }

    /// <summary>A work-done event as the simulator makes them: a kind, a target and a kernel action with its payload.</summary>
    private static SimEvent MakeEvent(int target) => new()
    {
        Kind = SimEventKind.WorkDone,
        Target = target,
        Action = new HostAction { Kind = HostActionKind.RunWork, Unit = 0, Target = target & 3, At = HostAction.NoTime },
        Code = Faults.PageResponseCode.Success,
    };

    /// <summary>xorshift64: the same delay stream for every variant, cheap enough not to hide the engine.</summary>
    private static long Delay(ref ulong state)
    {
        ulong x = state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        state = x;
        return (long)(x & MaxDelayMask);
    }

    private readonly record struct SmallEvent(int Target, int Kind);

    /// <summary>The floor: a binary min-heap of (time, sequence, payload) in one array; ties go in insertion order.</summary>
    public sealed class BareHeap(int capacity)
    {
        private Entry[] _entries = new Entry[Math.Max(capacity, 16)];
        private int _count;
        private long _sequence;

        public void Push(long time, int payload)
        {
            if (_count == _entries.Length) Array.Resize(ref _entries, _entries.Length * 2);
            var entry = new Entry(time, _sequence++, payload);
            int index = _count++;
            while (index > 0)
            {
                int parent = (index - 1) >> 1;
                if (!entry.Before(_entries[parent])) break;
                _entries[index] = _entries[parent];
                index = parent;
            }
            _entries[index] = entry;
        }

        public void Pop(out long time, out int payload)
        {
            var top = _entries[0];
            var last = _entries[--_count];
            int index = 0;
            while (true)
            {
                int child = (index << 1) + 1;
                if (child >= _count) break;
                if (child + 1 < _count && _entries[child + 1].Before(_entries[child])) child++;
                if (!_entries[child].Before(last)) break;
                _entries[index] = _entries[child];
                index = child;
            }
            if (_count > 0) _entries[index] = last;
            time = top.Time;
            payload = top.Payload;
        }

        private readonly record struct Entry(long Time, long Sequence, int Payload)
        {
            public bool Before(in Entry other) => Time < other.Time || (Time == other.Time && Sequence < other.Sequence);
        }
    }
}
