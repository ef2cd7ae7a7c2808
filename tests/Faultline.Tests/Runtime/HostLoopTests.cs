using Faultline.Runtime;

namespace Faultline.Tests.Runtime;

// No timing is asserted here (DESIGN rule 7): only what ran, how often, in which order, and how the loop ended.
// Waits carry a generous timeout only so a bug shows as a failure instead of a hang.
public class HostLoopTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Posts_from_many_threads_run_once_each_in_the_order_each_thread_posted()
    {
        const int Threads = 8, PostsPerThread = 2_000;
        using var loop = new HostLoop(TimeProvider.System);
        var ran = new List<(int Thread, int Sequence)>(); // touched only on the loop thread
        bool allOnLoop = true;
        loop.Start();

        using var go = new Barrier(Threads);
        var posters = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            go.SignalAndWait();
            for (int i = 0; i < PostsPerThread; i++)
            {
                int sequence = i;
                loop.Post(() =>
                {
                    allOnLoop &= loop.IsLoopThread;
                    ran.Add((t, sequence));
                });
            }
        })).ToList();
        posters.ForEach(p => p.Start());
        posters.ForEach(p => Assert.True(p.Join(HangGuard)));

        await loop.StopAsync().WaitAsync(HangGuard); // drains what was posted

        Assert.Equal(HostLoopState.Stopped, loop.State);
        Assert.True(allOnLoop);
        Assert.Equal(Threads * PostsPerThread, ran.Count);
        Assert.Equal(Threads * PostsPerThread, loop.ActionsRun);
        Assert.Equal(0, loop.ActionsDropped);
        for (int t = 0; t < Threads; t++)
            Assert.Equal(Enumerable.Range(0, PostsPerThread), ran.Where(r => r.Thread == t).Select(r => r.Sequence));
    }

    [Fact]
    public async Task Timers_fire_in_due_order_and_same_due_timers_in_the_order_set()
    {
        using var loop = new HostLoop(TimeProvider.System);
        var fired = new List<string>();
        using var done = new CountdownEvent(6);
        void Mark(string name)
        {
            fired.Add(name);
            done.Signal();
        }

        // Set before Start, all already due but one: the loop must still take them by due time, not insertion.
        long past = loop.Now - 1_000_000_000;
        loop.At(past + 30, () => Mark("c@30"));
        loop.At(past + 10, () => Mark("a@10"));
        loop.After(1_000_000, () => Mark("f@+1ms")); // the only one the provider's timer has to wake the loop for
        loop.At(past + 20, () => Mark("b1@20"));
        loop.At(past + 20, () => Mark("b2@20"));
        loop.At(past + 10, () => loop.At(past + 25, () => Mark("n@25, set by a timer")));
        loop.Start();

        Assert.True(done.Wait(HangGuard));
        await loop.StopAsync().WaitAsync(HangGuard);
        Assert.Equal(["a@10", "b1@20", "b2@20", "n@25, set by a timer", "c@30", "f@+1ms"], fired);
    }

    [Fact]
    public async Task A_timer_far_in_the_future_waits_in_bounded_wakes_and_never_faults_the_loop()
    {
        var clock = new ManualClock();
        using var loop = new HostLoop(clock);
        var fired = new List<string>();
        long sixtyDays = (long)TimeSpan.FromDays(60).TotalNanoseconds;
        loop.At(long.MaxValue, () => fired.Add("at the end of time"));
        loop.After(long.MaxValue, () => fired.Add("after the end of time"));
        loop.At(sixtyDays, () => fired.Add("in sixty days")); // past the ~49.7 days a System.Threading.Timer takes
        loop.Start();

        // Each wake the loop asks for is at most a day; it re-arms until the sixty days are there.
        int wakes = 0;
        while (!fired.Contains("in sixty days") && wakes < 100)
        {
            var (due, fire) = clock.NextWake(HangGuard);
            Assert.InRange(due - clock.Now, 1, (long)TimeSpan.FromDays(1).TotalNanoseconds);
            clock.Now = due;
            fire();
            wakes++;
            await loop.InvokeAsync(() => 0).WaitAsync(HangGuard); // the loop has looked at its timers again
        }

        Assert.Equal(60, wakes);
        Assert.Equal(["in sixty days"], await loop.InvokeAsync(() => fired.ToList()).WaitAsync(HangGuard));
        Assert.Equal(HostLoopState.Running, loop.State);
        await loop.StopAsync().WaitAsync(HangGuard);
        Assert.Equal(HostLoopState.Stopped, loop.State);
        Assert.Equal(2, loop.ActionsDropped); // the two at the end of time
    }

    [Fact]
    public async Task Stop_drains_what_was_posted_and_what_that_posts_but_drops_timers_not_due()
    {
        var loop = new HostLoop(TimeProvider.System);
        var ran = new List<string>();
        loop.After(3_600_000_000_000, () => ran.Add("an hour later"));
        loop.Post(() =>
        {
            ran.Add("a");
            loop.Post(() => ran.Add("b, posted by a")); // the loop may post to itself while stopping
        });
        loop.Start();
        await loop.StopAsync().WaitAsync(HangGuard);

        Assert.Equal(["a", "b, posted by a"], ran);
        Assert.Equal(HostLoopState.Stopped, loop.State);
        Assert.Equal(2, loop.ActionsRun);
        Assert.Equal(1, loop.ActionsDropped);
        Assert.Throws<InvalidOperationException>(() => loop.Post(() => ran.Add("too late")));
        loop.Dispose();
    }

    [Fact]
    public async Task An_exception_faults_the_loop_which_runs_nothing_more_and_reports_it()
    {
        var loop = new HostLoop(TimeProvider.System);
        var boom = new InvalidOperationException("boom");
        var ran = new List<string>();
        loop.Post(() => ran.Add("before"));
        loop.Post(() => throw boom);
        loop.Post(() => ran.Add("after"));
        var pending = loop.InvokeAsync(() => 42);
        loop.Start();

        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => loop.Completion.WaitAsync(HangGuard));
        Assert.Same(boom, thrown);
        Assert.Equal(HostLoopState.Faulted, loop.State);
        Assert.Same(boom, loop.Fault);
        Assert.Equal(["before"], ran);
        Assert.Equal(1, loop.ActionsRun);
        Assert.Equal(2, loop.ActionsDropped);

        // Work queued behind the fault is not left hanging: it fails, naming the fault.
        var abandoned = await Assert.ThrowsAsync<InvalidOperationException>(() => pending.WaitAsync(HangGuard));
        Assert.Same(boom, abandoned.InnerException);
        var refused = Assert.Throws<InvalidOperationException>(() => loop.Post(() => ran.Add("refused")));
        Assert.Same(boom, refused.InnerException);
        Assert.Equal(1, loop.Refused);
        loop.Dispose(); // does not throw the fault again
        Assert.Equal(HostLoopState.Faulted, loop.State);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_faulted_or_stopped_loop_refuses_every_later_submission_the_same_way_and_counts_them(bool faulted)
    {
        var loop = new HostLoop(TimeProvider.System);
        var boom = new InvalidOperationException("boom");
        loop.Start();
        if (faulted)
        {
            loop.Post(() => throw boom);
            await Assert.ThrowsAsync<InvalidOperationException>(() => loop.Completion.WaitAsync(HangGuard));
        }
        else
        {
            await loop.StopAsync().WaitAsync(HangGuard);
        }

        var submissions = new Action[] { () => loop.Post(() => { }), () => loop.At(0, () => { }), () => loop.After(1, () => { }), () => loop.InvokeAsync(() => 1) };
        var messages = new HashSet<string>();
        for (int i = 0; i < 1000; i++)
        {
            var refused = Assert.Throws<InvalidOperationException>(submissions[i % submissions.Length]);
            Assert.Same(faulted ? boom : null, refused.InnerException);
            messages.Add(refused.Message);
        }

        Assert.Equal([$"the host loop is {(faulted ? "Faulted" : "Stopped")}; nothing more runs on it"], messages);
        Assert.Equal(1000, loop.Refused);
        Assert.Equal(0, loop.ActionsRun);
        loop.Dispose();
    }

    [Fact]
    public async Task An_invocation_that_throws_fails_its_task_and_faults_the_loop()
    {
        using var loop = new HostLoop(TimeProvider.System);
        loop.Start();
        var task = loop.InvokeAsync<int>(() => throw new ArgumentException("bad"));

        await Assert.ThrowsAsync<ArgumentException>(() => task.WaitAsync(HangGuard));
        await Assert.ThrowsAsync<ArgumentException>(() => loop.Completion.WaitAsync(HangGuard));
        Assert.Equal(HostLoopState.Faulted, loop.State);
    }

    [Fact]
    public async Task Dispose_on_the_loop_cancels_what_is_queued_and_ends_the_thread()
    {
        var loop = new HostLoop(TimeProvider.System);
        var ran = new List<string>();
        loop.Post(() =>
        {
            ran.Add("a");
            loop.Dispose(); // from the loop itself: no join, the loop ends after this action
            loop.Post(() => ran.Add("posted after the cancel")); // accepted so the action ends cleanly, then dropped
        });
        loop.Post(() => ran.Add("b"));
        var invocation = loop.InvokeAsync(() => 1);
        loop.Start();

        await loop.Completion.WaitAsync(HangGuard);
        Assert.Equal(["a"], ran);
        Assert.Equal(HostLoopState.Stopped, loop.State);
        Assert.Null(loop.Fault);
        Assert.Equal(3, loop.ActionsDropped);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => invocation.WaitAsync(HangGuard));
        Assert.Throws<InvalidOperationException>(() => loop.Post(() => ran.Add("c")));
    }

    [Fact]
    public async Task Dispose_from_another_thread_waits_for_the_loop_to_end()
    {
        var loop = new HostLoop(TimeProvider.System);
        loop.Start();
        Assert.Equal(42, await loop.InvokeAsync(() => 42).WaitAsync(HangGuard));

        loop.Dispose();

        Assert.Equal(HostLoopState.Stopped, loop.State);
        Assert.True(loop.Completion.IsCompletedSuccessfully);
        Assert.Throws<InvalidOperationException>(() => loop.Post(() => { }));
    }

    [Fact]
    public async Task A_loop_stopped_before_it_started_cancels_what_was_queued()
    {
        var loop = new HostLoop(TimeProvider.System);
        var invocation = loop.InvokeAsync(() => 1);

        await loop.StopAsync().WaitAsync(HangGuard);

        Assert.Equal(HostLoopState.Stopped, loop.State);
        Assert.Equal(1, loop.ActionsDropped);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => invocation.WaitAsync(HangGuard));
        Assert.Throws<InvalidOperationException>(loop.Start);
        loop.Dispose();
    }

    /// <summary>A clock the test moves by hand, with the one timer the loop arms (its wake), fired by hand.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private readonly object _gate = new();
        private long _now;
        private ManualTimer? _timer;

        public long Now
        {
            get => Interlocked.Read(ref _now);
            set => Interlocked.Exchange(ref _now, value);
        }

        public override long TimestampFrequency => 1_000_000_000;

        public override long GetTimestamp() => Now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_gate)
            {
                _timer = new ManualTimer(this, () => callback(state));
                _timer.Change(dueTime, period);
                return _timer;
            }
        }

        /// <summary>Waits for the loop to arm its wake; the due time and how to fire it.</summary>
        public (long Due, Action Fire) NextWake(TimeSpan guard)
        {
            lock (_gate)
            {
                while (_timer?.Due is null)
                    Assert.True(Monitor.Wait(_gate, guard), "the loop armed a wake");
                long due = _timer.Due.Value;
                var fire = _timer.Callback;
                _timer.Due = null;
                return (due, fire);
            }
        }

        private sealed class ManualTimer(ManualClock clock, Action callback) : ITimer
        {
            public Action Callback { get; } = callback;
            public long? Due { get; set; }

            public bool Change(TimeSpan dueTime, TimeSpan period)
            {
                lock (clock._gate)
                {
                    Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock.Now + (long)dueTime.TotalNanoseconds;
                    Monitor.PulseAll(clock._gate);
                }
                return true;
            }

            public void Dispose() => Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
