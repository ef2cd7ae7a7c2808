namespace Faultline.Simulation;

/// <summary>
/// The virtual-time engine: integer nanoseconds, events ordered by (time, insertion sequence),
/// so two events at the same instant run in the order they were scheduled, on every machine.
/// </summary>
public sealed class Scheduler
{
    private readonly PriorityQueue<Action, (long Time, long Sequence)> _events = new();
    private long _sequence;

    public Scheduler() => Time = new VirtualTime(this);

    public long Now { get; private set; }

    /// <summary>The virtual clock as a <see cref="TimeProvider"/> (nanosecond timestamps), for components that stamp events.</summary>
    public TimeProvider Time { get; }
    public long EventsRun { get; private set; }
    public int Pending => _events.Count;

    public void At(long time, Action action)
    {
        if (time < Now) throw new ArgumentOutOfRangeException(nameof(time), time, $"cannot schedule in the past (now {Now})");
        _events.Enqueue(action, (time, _sequence++));
    }

    public void After(long delay, Action action) => At(Now + Math.Max(0, delay), action);

    /// <summary>Runs events until none is left or the next one lies beyond <paramref name="limit"/>; true if none is left.</summary>
    public bool Run(long limit)
    {
        while (_events.TryPeek(out _, out var key))
        {
            if (key.Time > limit) return false;
            var action = _events.Dequeue();
            Now = key.Time;
            EventsRun++;
            action();
        }
        return true;
    }
}

/// <summary>The scheduler's clock for the core: timestamps are virtual nanoseconds.</summary>
internal sealed class VirtualTime(Scheduler scheduler) : TimeProvider
{
    public override long TimestampFrequency => 1_000_000_000;
    public override long GetTimestamp() => scheduler.Now;
}
