namespace Faultline.Simulation.Statistics;

/// <summary>
/// A level over virtual time (entries in a queue, credits in use, workers busy): its time-weighted mean and its
/// peak from the warm-up's end on. Fed at every change (a repeat of the same level costs nothing); exact, integer area.
/// </summary>
internal sealed class LevelStatistic(string name, string kind, string owner, long capacity, long warmup)
{
    private long _level;
    private long _since;
    private Int128 _area;
    private long _peak;

    public void Set(long now, long level)
    {
        if (level == _level) return;
        Advance(now);
        _level = level;
        if (now >= warmup) _peak = Math.Max(_peak, level);
    }

    private void Advance(long now)
    {
        long from = Math.Max(_since, warmup);
        if (now > from)
        {
            _area += (Int128)_level * (now - from);
            _peak = Math.Max(_peak, _level); // the level held when the warm-up ended counts too
        }
        _since = Math.Max(_since, now);
    }

    public QueueReport Report(long end)
    {
        Advance(end);
        double mean = end > warmup ? Math.Round((double)_area / (end - warmup), 4) : 0;
        return new QueueReport { Name = name, Kind = kind, Owner = owner, Capacity = capacity, MeanOccupancy = mean, PeakOccupancy = _peak };
    }
}
