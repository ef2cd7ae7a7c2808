namespace Faultline.Runtime;

/// <summary>Where a <see cref="HostLoop"/> is in its life.</summary>
public enum HostLoopState
{
    /// <summary>Built; posts and timers queue up until <see cref="HostLoop.Start"/>.</summary>
    Created,
    /// <summary>Started: the loop thread runs posts and timers as they come due.</summary>
    Running,
    /// <summary><see cref="HostLoop.StopAsync"/> was called: what was posted still runs, then the thread ends.</summary>
    Stopping,
    /// <summary>The loop thread has ended without a fault, or the loop was stopped or disposed before it started; nothing more runs.</summary>
    Stopped,
    /// <summary>An action threw; the loop stopped at once and <see cref="HostLoop.Fault"/> holds the exception.</summary>
    Faulted,
}

/// <summary>
/// The wall-clock twin of the simulator's <c>Simulation.Scheduler</c>: the one thread that owns a
/// sans-IO core (DESIGN rule 1). Any thread may <see cref="Post"/> work or set timers; only this thread
/// runs them, one at a time, so the core is never entered concurrently and needs no locks of its own.
/// Posts from one thread run in the order that thread made them; timers run in (due time, insertion)
/// order, as the scheduler's events do. An action that throws stops the loop: the core may be half
/// updated, so nothing else runs on it, and the exception is kept in <see cref="Fault"/> and
/// <see cref="Completion"/> rather than lost.
/// </summary>
public sealed class HostLoop : IDisposable
{
    /// <summary>
    /// The longest the loop sleeps on the provider's timer: <see cref="System.Threading.Timer"/> refuses a due
    /// time past 2^32 − 2 ms (about 49.7 days), so a timer further off wakes the loop early and is re-armed
    /// for what is left.
    /// </summary>
    private static readonly TimeSpan LongestWake = TimeSpan.FromDays(1);

    private readonly object _gate = new(); // a monitor, not a Lock: the loop waits on it for posts and timers
    private readonly Queue<LoopItem> _posted = new();
    private readonly PriorityQueue<LoopItem, (long Due, long Sequence)> _timers = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Thread _thread;
    private long _sequence;
    private bool _cancel;
    private bool _started;
    private ITimer? _wakeTimer;
    private long _wakeArmedFor = long.MinValue;
    private long _refused;

    /// <summary>A loop whose timers follow <paramref name="time"/>, on a background thread named <paramref name="name"/>; nothing runs until <see cref="Start"/>.</summary>
    public HostLoop(TimeProvider time, string name = "faultline-host")
    {
        Time = time;
        _thread = new Thread(Run) { IsBackground = true, Name = name };
    }

    /// <summary>The clock the timers follow; read it with <see cref="Now"/>.</summary>
    public TimeProvider Time { get; }

    /// <summary>The clock now, in nanoseconds (<see cref="Clock.Nanoseconds"/>).</summary>
    public long Now => Time.Nanoseconds();

    /// <summary>Where the loop is in its life.</summary>
    public HostLoopState State { get; private set; }

    /// <summary>The exception that stopped the loop, if one did.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Completes when the loop thread has ended; faulted with <see cref="Fault"/> if an action threw.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Actions (posts and timers) the loop has run.</summary>
    public long ActionsRun { get; private set; }

    /// <summary>Posts and timers that never ran because the loop was disposed, faulted, or stopped with timers pending.</summary>
    public long ActionsDropped { get; private set; }

    /// <summary>
    /// Posts, timers and invocations refused because the loop was stopping (from another thread), stopped or
    /// faulted: each refusal throws the same <see cref="InvalidOperationException"/>, naming the state and
    /// carrying <see cref="Fault"/>, and none is ever accepted and then lost.
    /// </summary>
    public long Refused
    {
        get
        {
            lock (_gate) return _refused;
        }
    }

    /// <summary>Whether the caller is on the loop thread, the only one allowed to touch the core.</summary>
    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>Starts the loop thread; throws <see cref="InvalidOperationException"/> unless the loop is <see cref="HostLoopState.Created"/>.</summary>
    public void Start()
    {
        lock (_gate)
        {
            if (State != HostLoopState.Created) throw new InvalidOperationException($"the host loop is {State}");
            State = HostLoopState.Running;
            _started = true;
        }
        _thread.Start();
    }

    /// <summary>
    /// Queues <paramref name="action"/> to run on the loop thread. Thread-safe. Refused once the loop is
    /// stopping (except from the loop itself, so work already under way can finish) or has ended.
    /// </summary>
    public void Post(Action action) => Enqueue(new LoopItem(action, null), null);

    /// <summary>Runs <paramref name="function"/> on the loop thread; the task carries its result, or why it never ran.</summary>
    public Task<T> InvokeAsync<T>(Func<T> function)
    {
        var invocation = new Invocation<T>(function);
        Enqueue(new LoopItem(invocation.Run, invocation.Abandon), null);
        return invocation.Task;
    }

    /// <summary>Runs <paramref name="action"/> on the loop thread once <see cref="Now"/> reaches <paramref name="dueNs"/>.</summary>
    /// <remarks>
    /// Unlike the scheduler, a due time already past is not an error: a wall clock moves between reading it
    /// and calling this, so such a timer simply runs as soon as the loop gets to it.
    /// </remarks>
    public void At(long dueNs, Action action) => Enqueue(new LoopItem(action, null), dueNs);

    /// <summary>
    /// Runs <paramref name="action"/> on the loop thread <paramref name="delayNs"/> from now (a negative delay counts
    /// as 0; one past the end of time, <see cref="long.MaxValue"/>, as never due).
    /// </summary>
    public void After(long delayNs, Action action)
    {
        long now = Now, delay = Math.Max(0, delayNs);
        At(now > long.MaxValue - delay ? long.MaxValue : now + delay, action);
    }

    /// <summary>
    /// Stops taking posts from other threads, runs everything already posted (and what that posts in
    /// turn), drops the timers not yet due, and ends the thread. The task is <see cref="Completion"/>.
    /// </summary>
    public Task StopAsync()
    {
        lock (_gate)
        {
            switch (State)
            {
                case HostLoopState.Created:
                    State = HostLoopState.Stopped; // no thread ever ran: nothing can drain
                    DropQueued(new OperationCanceledException("the host loop was stopped before it started"));
                    _completion.TrySetResult();
                    break;
                case HostLoopState.Running:
                    State = HostLoopState.Stopping;
                    Monitor.Pulse(_gate);
                    break;
            }
        }
        return Completion;
    }

    /// <summary>
    /// Cancels: the loop ends after the action it is running; posts and timers still queued are dropped
    /// (invocations are cancelled). Waits for the thread unless called on it. Never throws the loop's fault:
    /// read <see cref="Fault"/> or await <see cref="Completion"/> for that.
    /// </summary>
    public void Dispose()
    {
        bool started;
        lock (_gate)
        {
            _cancel = true;
            started = _started;
            if (State == HostLoopState.Created)
            {
                State = HostLoopState.Stopped;
                DropQueued(new OperationCanceledException("the host loop was disposed"));
                _completion.TrySetResult();
            }
            else if (State is HostLoopState.Running or HostLoopState.Stopping)
            {
                State = HostLoopState.Stopping;
                Monitor.Pulse(_gate);
            }
        }
        if (started && !IsLoopThread) _thread.Join(); // the thread disposes the wake timer as it ends
    }

    private void Enqueue(in LoopItem item, long? dueNs)
    {
        lock (_gate)
        {
            // The loop may still post while stopping, so the action under way finishes cleanly; after a
            // cancel what it posts is dropped and counted with the rest.
            bool open = State is HostLoopState.Created or HostLoopState.Running
                || (State == HostLoopState.Stopping && IsLoopThread);
            if (!open)
            {
                _refused++;
                throw new InvalidOperationException($"the host loop is {State}; nothing more runs on it", Fault);
            }
            if (dueNs is { } due) _timers.Enqueue(item, (due, _sequence++));
            else _posted.Enqueue(item);
            Monitor.Pulse(_gate);
        }
    }

    private void Run()
    {
        try
        {
            while (Next() is { } item)
            {
                item.Run();
                lock (_gate) ActionsRun++;
            }
            Finish(null);
        }
        catch (Exception e)
        {
            Finish(e);
        }
    }

    /// <summary>The next action to run, waiting for one; null when the loop must end.</summary>
    private LoopItem? Next()
    {
        lock (_gate)
        {
            while (true)
            {
                if (_cancel) return null;
                long now = Now;
                // Due timers go first: a stream of posts must not hold a timer back for ever.
                bool timer = _timers.TryPeek(out _, out var next);
                if (timer && next.Due <= now) return _timers.Dequeue();
                if (_posted.TryDequeue(out var item)) return item;
                if (State == HostLoopState.Stopping) return null;
                if (timer) ArmWake(next.Due, now);
                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>
    /// Sets the provider's timer to wake the loop at the earliest due time (once per due time), or after
    /// <see cref="LongestWake"/> if that comes first; <see cref="Wake"/> then lets the loop re-arm for the rest.
    /// </summary>
    private void ArmWake(long due, long now)
    {
        if (_wakeArmedFor == due) return;
        _wakeArmedFor = due;
        // due > now, so the difference fits an unsigned 64 bits even where the signed one would overflow.
        ulong wait = Math.Min((ulong)(due - now), (ulong)LongestWake.Ticks * TimeSpan.NanosecondsPerTick);
        // Round up to whole ticks so the wake never comes before the due time on a faithful clock.
        var delay = TimeSpan.FromTicks((long)((wait + TimeSpan.NanosecondsPerTick - 1) / TimeSpan.NanosecondsPerTick));
        if (_wakeTimer is null) _wakeTimer = Time.CreateTimer(static state => ((HostLoop)state!).Wake(), this, delay, Timeout.InfiniteTimeSpan);
        else _wakeTimer.Change(delay, Timeout.InfiniteTimeSpan);
    }

    private void Wake()
    {
        lock (_gate)
        {
            _wakeArmedFor = long.MinValue; // if the timer fired early, the loop re-arms it for what is left
            Monitor.Pulse(_gate);
        }
    }

    private void Finish(Exception? fault)
    {
        lock (_gate)
        {
            Fault = fault;
            State = fault is null ? HostLoopState.Stopped : HostLoopState.Faulted;
            DropQueued(fault is null
                ? new OperationCanceledException("the host loop stopped before this ran")
                : new InvalidOperationException("the host loop faulted before this ran", fault));
            _wakeTimer?.Dispose();
        }
        if (fault is null) _completion.TrySetResult();
        else _completion.TrySetException(fault);
    }

    private void DropQueued(Exception reason)
    {
        while (_posted.TryDequeue(out var item)) Drop(item, reason);
        while (_timers.TryDequeue(out var item, out _)) Drop(item, reason);
    }

    private void Drop(in LoopItem item, Exception reason)
    {
        ActionsDropped++;
        item.Abandon?.Invoke(reason);
    }

    private readonly record struct LoopItem(Action Run, Action<Exception>? Abandon);

    private sealed class Invocation<T>(Func<T> function)
    {
        private readonly TaskCompletionSource<T> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<T> Task => _result.Task;

        /// <summary>The caller learns of the exception, and the loop still faults: the core may be half updated.</summary>
        public void Run()
        {
            T value;
            try
            {
                value = function();
            }
            catch (Exception e)
            {
                _result.TrySetException(e);
                throw;
            }
            _result.TrySetResult(value);
        }

        public void Abandon(Exception reason)
        {
            if (reason is OperationCanceledException) _result.TrySetCanceled();
            else _result.TrySetException(reason);
        }
    }
}
