using Faultline.Simulation.Statistics;

namespace Faultline.Tests.Simulation;

/// <summary>The driver stage's batch lookup (issue 11 item 3) is a binary search now (issue 9): it answers as the newest-first scan did.</summary>
public class DriverBatchesTests
{
    [Fact]
    public void EndOf_finds_the_latest_batch_that_began_then_over_the_kept_window()
    {
        var random = new Random(9);
        var batches = new DriverBatches();
        var added = new List<(long Start, long End)>();
        long now = 0;
        for (int i = 0; i < 3000; i++)
        {
            now += random.Next(3); // several threads may start a batch at the same instant
            long end = now + random.Next(1, 50);
            batches.Add(now, end);
            added.Add((now, end));
            for (int probe = 0; probe < 4; probe++)
            {
                long start = Math.Max(0, now - random.Next(0, 2500));
                Assert.Equal(Scan(added, start), batches.EndOf(start));
            }
        }
        Assert.Equal(5, new DriverBatches().EndOf(5)); // none kept: the start itself
    }

    // The reference: newest first over the last 1024 batches, stopping at an older start.
    private static long Scan(List<(long Start, long End)> added, long start)
    {
        for (int i = added.Count - 1; i >= Math.Max(0, added.Count - 1024); i--)
        {
            if (added[i].Start == start) return added[i].End;
            if (added[i].Start < start) break;
        }
        return start;
    }
}
