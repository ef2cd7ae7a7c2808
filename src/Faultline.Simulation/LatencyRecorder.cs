using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>Exact latency percentiles (nearest rank) over every sample of a run.</summary>
public sealed class LatencyRecorder
{
    private readonly List<long> _samples = [];
    private bool _sorted = true;

    public int Count => _samples.Count;

    public void Add(long nanoseconds)
    {
        if (_samples.Count > 0 && nanoseconds < _samples[^1]) _sorted = false;
        _samples.Add(nanoseconds);
    }

    /// <summary>Every sample of <paramref name="other"/> as well.</summary>
    public void Add(LatencyRecorder other)
    {
        foreach (long sample in other._samples) Add(sample);
    }

    public long Percentile(double p)
    {
        if (_samples.Count == 0) return 0;
        if (!_sorted)
        {
            _samples.Sort();
            _sorted = true;
        }
        int rank = (int)Math.Ceiling(p / 100.0 * _samples.Count);
        return _samples[Math.Clamp(rank - 1, 0, _samples.Count - 1)];
    }

    public long Max => Percentile(100);
}
