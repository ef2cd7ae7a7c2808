using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

public class SchedulerTests
{
    [Fact]
    public void Events_run_in_time_order_and_same_time_events_in_insertion_order()
    {
        var s = new Scheduler<(string Name, bool Nest)>();
        var log = new List<string>();
        s.At(20, ("b@20", false));
        s.At(10, ("a@10", false));
        s.At(20, ("c@20", false));
        s.At(10, ("d@10", true));

        while (s.Next(long.MaxValue, out var e))
        {
            if (e.Nest) s.After(0, (e.Name + "-nested", false));
            else log.Add(e.Name);
        }
        Assert.True(s.IsEmpty);
        Assert.Equal(["a@10", "d@10-nested", "b@20", "c@20"], log);
        Assert.Equal(20, s.Now);
        Assert.Equal(5, s.EventsRun);
    }

    [Fact]
    public void Next_stops_before_events_beyond_the_limit_and_refuses_the_past()
    {
        var s = new Scheduler<int>();
        s.At(5, 1);
        s.At(50, 2);
        Assert.True(s.Next(10, out int first));
        Assert.Equal(1, first);
        Assert.False(s.Next(10, out _));
        Assert.Equal(1, s.Pending);
        Assert.Equal(5, s.Now);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.At(4, 3));
    }

    [Fact]
    public void Many_events_with_ties_come_out_in_time_then_insertion_order_and_slots_are_reused()
    {
        var s = new Scheduler<(long Time, int Order)>();
        var random = new Random(7);
        var expected = new List<(long Time, int Order)>();
        for (int i = 0; i < 5000; i++)
        {
            long time = random.Next(0, 300); // many ties
            s.At(time, (time, i));
            expected.Add((time, i));
        }
        var got = new List<(long, int)>();
        while (s.Next(long.MaxValue, out var e))
        {
            got.Add(e);
            if (e.Order % 7 == 0 && e.Order < 5000) s.After(3, (s.Now + 3, 5000 + e.Order)); // interleaved scheduling
        }
        var all = expected.Concat(got.Where(g => g.Item2 >= 5000)).OrderBy(e => e.Item1).ThenBy(e => e.Item2 >= 5000 ? int.MaxValue : e.Item2).ToList();
        Assert.Equal(got.Count, all.Count);
        for (int i = 1; i < got.Count; i++) Assert.True(got[i - 1].Item1 <= got[i].Item1, "time order");
        Assert.Equal(expected.OrderBy(e => e.Time).ThenBy(e => e.Order).ToList(), got.Where(g => g.Item2 < 5000).ToList());
    }

    [Fact]
    public void SimRandom_is_a_fixed_function_of_the_seed_and_streams_are_independent()
    {
        var a = new SimRandom(42);
        var b = new SimRandom(42);
        var first = Enumerable.Range(0, 8).Select(_ => a.NextUInt64()).ToArray();
        Assert.Equal(first, Enumerable.Range(0, 8).Select(_ => b.NextUInt64()));
        // Pinned to xoshiro256** seeded by SplitMix64 (values from an independent implementation):
        // a change of generator would silently change every scenario's output.
        Assert.Equal(0x15780b2e0c2ec716UL, first[0]);
        Assert.Equal(0x6104d9866d113a7eUL, first[1]);
        Assert.NotEqual(new SimRandom(42).Fork("x").NextUInt64(), new SimRandom(42).Fork("y").NextUInt64());
        // A stream depends on the seed and its name only, not on what was drawn or forked before.
        var busy = new SimRandom(42);
        busy.NextUInt64();
        busy.Fork("y");
        Assert.Equal(new SimRandom(42).Fork("x").NextUInt64(), busy.Fork("x").NextUInt64());
        Assert.NotEqual(new SimRandom(43).Fork("x").NextUInt64(), new SimRandom(42).Fork("x").NextUInt64());

        var r = new SimRandom(1);
        for (int i = 0; i < 10_000; i++)
        {
            long v = r.NextInclusive(3, 9);
            Assert.InRange(v, 3, 9);
            Assert.InRange(r.NextDouble(), 0.0, 0.9999999999);
        }
    }
}
