using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// Events chained to the one scheduled just before them at the same instant (issue 9) run in exactly the order the
/// plain (time, sequence) heap gives: a reference queue and the scheduler take the same random stream, in slices.
/// </summary>
public class SchedulerChainTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Chained_events_run_in_time_then_sequence_order(int seed)
    {
        var random = new Random(seed);
        var scheduler = new Scheduler<int>();
        var reference = new PriorityQueue<int, (long Time, long Sequence)>();
        long sequence = 0, now = 0;
        int id = 0;

        void Schedule(long time)
        {
            scheduler.At(time, id);
            reference.Enqueue(id, (time, sequence++));
            id++;
        }

        // Runs of same-instant events (what chains), nested ones at delay 0, and others in between.
        void Burst()
        {
            int runs = random.Next(1, 4);
            for (int r = 0; r < runs; r++)
            {
                long time = now + random.Next(0, 3) * 10;
                int length = random.Next(1, 5);
                for (int k = 0; k < length; k++) Schedule(time);
            }
        }

        for (int i = 0; i < 20; i++) Burst();
        long limit = 0;
        while (scheduler.Pending > 0 || reference.Count > 0)
        {
            limit += random.Next(0, 25); // slices, as RunControl takes them
            while (scheduler.Next(limit, out int e))
            {
                Assert.True(reference.TryDequeue(out int expected, out var key));
                Assert.Equal(expected, e);
                Assert.Equal(key.Time, scheduler.Now);
                now = scheduler.Now;
                if (id < 5_000 && random.Next(3) == 0) Burst();
                Assert.Equal(reference.Count, scheduler.Pending);
            }
            Assert.True(reference.Count == 0 || reference.TryPeek(out _, out var next) && next.Time > limit);
        }
        Assert.Equal(id, scheduler.EventsRun);
    }
}
