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

    /// <summary>A batch ran from <paramref name="start"/>; starts come in time order (the clock only moves on).</summary>
    public void Add(long start, long end) => _batches[_count++ % Kept] = (start, end);

    /// <summary>The end of the latest batch that began at <paramref name="start"/>; <paramref name="start"/> itself when none is kept.</summary>
    public long EndOf(long start)
    {
        // Starts never decrease, so a binary search over the kept window finds the latest batch that began at or
        // before start: under saturation a group waits hundreds of batches, which a scan from the newest walked.
        int lo = Math.Max(0, _count - Kept), hi = _count - 1, found = -1;
        while (lo <= hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (_batches[mid % Kept].Start <= start)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found >= 0 && _batches[found % Kept].Start == start ? _batches[found % Kept].End : start;
    }
}
