namespace Faultline.Host;

/// <summary>
/// A level that changes over virtual time (stalls held in STALL_MAX), summarised as equal time slices:
/// the most held in each slice and the time-weighted mean.
/// </summary>
internal sealed class OccupancyTimeline
{
    private readonly List<(long Time, int Level)> _changes = [(0, 0)];

    public void Record(long time, int level)
    {
        if (_changes[^1].Level == level) return;
        if (_changes[^1].Time == time) _changes[^1] = (time, level);
        else _changes.Add((time, level));
    }

    public IReadOnlyList<OccupancySlice> Slices(long end, int count)
    {
        var slices = new List<OccupancySlice>(count);
        if (end <= 0) return slices;
        long width = Math.Max(1, (end + count - 1) / count);
        int i = 0;
        for (long start = 0; start < end; start += width)
        {
            long stop = Math.Min(end, start + width);
            while (i + 1 < _changes.Count && _changes[i + 1].Time <= start) i++;
            int max = _changes[i].Level;
            double area = 0;
            for (int j = i; j < _changes.Count && _changes[j].Time < stop; j++)
            {
                long from = Math.Max(start, _changes[j].Time);
                long to = j + 1 < _changes.Count ? Math.Min(stop, _changes[j + 1].Time) : stop;
                max = Math.Max(max, _changes[j].Level);
                area += (double)_changes[j].Level * (to - from);
            }
            slices.Add(new OccupancySlice(start, stop, max, Math.Round(area / (stop - start), 2)));
        }
        return slices;
    }
}

/// <summary>One slice of an <see cref="OccupancyTimeline"/>.</summary>
public sealed record OccupancySlice(long StartNs, long EndNs, int Max, double Mean);
