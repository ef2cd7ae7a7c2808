namespace Faultline.Simulation.Statistics;

/// <summary>
/// The recent batches of one unit's driver threads, start and end, so a group reported in a batch (its
/// <see cref="Faultline.Faults.FaultGroup.ReportedAt"/> is the batch's start: a thread reports at its start) can be told
/// when that batch's busy time ended and the workers were woken: the driver stage of its latency.
/// </summary>
internal sealed class DriverBatches
{
    // A group waits a few batches at most before a worker or a guest takes it; older ones are forgotten.
    private const int Kept = 1024;
    private readonly (long Start, long End)[] _batches = new (long, long)[Kept];
    private int _count;

    public void Add(long start, long end) => _batches[_count++ % Kept] = (start, end);

    /// <summary>The end of the latest batch that began at <paramref name="start"/>; <paramref name="start"/> itself when none is kept.</summary>
    public long EndOf(long start)
    {
        for (int i = _count - 1; i >= Math.Max(0, _count - Kept); i--)
        {
            var (s, e) = _batches[i % Kept];
            if (s == start) return e;
            if (s < start) break; // batches are added in time order
        }
        return start;
    }
}
