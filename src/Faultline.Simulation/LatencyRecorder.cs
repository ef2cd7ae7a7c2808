using HdrHistogram;

namespace Faultline.Simulation;

/// <summary>
/// Latency percentiles (nearest rank) of a run. Exact over every sample up to <see cref="ExactLimit"/> samples;
/// past it the samples move into an HDR histogram (3 significant digits: a percentile is the top of a bucket
/// at most 0.1 % wide), so a recorder holds at most ~512 KB however long the run. The maximum stays exact.
/// The exact samples sit in chunks, each as large as all before it (from 64 up to 4096 samples) and never copied
/// while recording: a recorder holds at most twice its samples, as a doubling list does, but allocates only what it
/// holds, not the arrays a doubling list discards (issue 9: those were 116 of the 137 bytes a saturated run
/// allocated per answered group).
/// </summary>
public sealed class LatencyRecorder
{
    /// <summary>Samples kept one by one before the recorder turns to a histogram.</summary>
    public const int ExactLimit = 1 << 16;

    /// <summary>Latencies above this (~2.4 h of model time) are counted in the histogram's last bucket.</summary>
    private const long HighestTrackable = 1L << 43;

    private const int FirstChunk = 64;
    private const int LargestChunk = 4096;

    // The exact samples in arrival order, chunk after chunk, the last one (_last) filled up to _inLast; null past
    // ExactLimit. The chunks add up to ExactLimit exactly, so the turn to the histogram comes at a chunk's end.
    private List<long[]>? _chunks = [];
    private long[] _last = [];
    private int _inLast;
    private long _lastSample;
    // Set once a sample arrived below the one before it; then the percentiles sort (into one chunk).
    private bool _sorted = true;
    private LongHistogram? _histogram;

    public long Count { get; private set; }

    public long Max { get; private set; }

    // Exact integer sums (a latency is below 2^43, so 2^40 samples of its square fit), for the mean and deviation.
    private Int128 _sum;
    private Int128 _sumOfSquares;

    /// <summary>The mean, 0 without samples.</summary>
    public double Mean => Count == 0 ? 0 : (double)_sum / Count;

    /// <summary>The sample standard deviation (n − 1), 0 below two samples.</summary>
    public double StandardDeviation
    {
        get
        {
            if (Count < 2) return 0;
            // n·Σx² − (Σx)² is exact in integers; only the last division and the root round.
            Int128 spread = _sumOfSquares * Count - _sum * _sum;
            return Math.Sqrt((double)spread / ((double)Count * (Count - 1)));
        }
    }

    public void Add(long nanoseconds)
    {
        Count++;
        _sum += nanoseconds;
        _sumOfSquares += Math.BigMul(nanoseconds, nanoseconds); // one 64x64 multiply, not Int128's 128x128
        if (nanoseconds > Max) Max = nanoseconds;
        if (_histogram is { } histogram)
        {
            histogram.RecordValue(Math.Clamp(nanoseconds, 0, HighestTrackable));
            return;
        }
        if (_inLast == _last.Length && !NextChunk())
        {
            _histogram!.RecordValue(Math.Clamp(nanoseconds, 0, HighestTrackable));
            return;
        }
        if (nanoseconds < _lastSample) _sorted = false;
        _last[_inLast++] = _lastSample = nanoseconds;
    }

    /// <summary>Starts a chunk for the sample just counted; false when that sample is past the limit and the recorder turned to the histogram.</summary>
    private bool NextChunk()
    {
        long room = ExactLimit - (Count - 1);
        if (room <= 0)
        {
            ToHistogram();
            return false;
        }
        _last = new long[Math.Min(room, Math.Clamp(Count - 1, FirstChunk, LargestChunk))];
        _chunks!.Add(_last);
        _inLast = 0;
        return true;
    }

    /// <summary>The exact samples, chunk by chunk.</summary>
    private IEnumerable<long> Samples()
    {
        var chunks = _chunks!;
        for (int c = 0; c < chunks.Count; c++)
            for (int i = 0, n = c == chunks.Count - 1 ? _inLast : chunks[c].Length; i < n; i++)
                yield return chunks[c][i];
    }

    /// <summary>Every sample of <paramref name="other"/> as well.</summary>
    public void Add(LatencyRecorder other)
    {
        if (other._histogram is { } theirs)
        {
            if (_histogram is null) ToHistogram();
            _histogram!.Add(theirs);
            Count += other.Count;
            _sum += other._sum;
            _sumOfSquares += other._sumOfSquares;
            Max = Math.Max(Max, other.Max);
            return;
        }
        foreach (long sample in other.Samples()) Add(sample);
    }

    public long Percentile(double p) => Percentiles([p])[0];

    /// <summary>
    /// The percentiles <paramref name="percents"/> (nearest rank), each as <see cref="Percentile"/> gives it, in one
    /// walk of the histogram: a report asks for ~125 of each recorder, and a walk per percentile was ~5 % of a
    /// saturated run (issue 9).
    /// </summary>
    public long[] Percentiles(ReadOnlySpan<double> percents)
    {
        var result = new long[percents.Length];
        if (Count == 0) return result;
        var ranks = new long[percents.Length];
        for (int i = 0; i < percents.Length; i++) ranks[i] = Math.Clamp((long)Math.Ceiling(percents[i] / 100.0 * Count), 1, Count);
        if (_histogram is { } histogram)
        {
            // Percentiles by rank, lowest first, each answered by the first bucket that reaches its rank.
            var order = new int[percents.Length];
            for (int i = 0; i < order.Length; i++) order[i] = i;
            Array.Sort((long[])ranks.Clone(), order);
            int next = 0;
            foreach (var bucket in histogram.RecordedValues())
            {
                for (; next < order.Length && bucket.TotalCountToThisValue >= ranks[order[next]]; next++)
                    result[order[next]] = Math.Min(bucket.ValueIteratedTo, Max);
                if (next == order.Length) return result;
            }
            for (; next < order.Length; next++) result[order[next]] = Max;
            return result;
        }
        if (!_sorted || _chunks!.Count > 1)
        {
            // One chunk of every sample, sorted: the report reads ~125 percentiles of each recorder.
            var all = Samples().ToArray();
            if (!_sorted) Array.Sort(all);
            _chunks!.Clear();
            _chunks.Add(_last = all);
            _inLast = all.Length;
            _lastSample = all[^1]; // a later sample below the largest unsorts them
            _sorted = true;
        }
        var sorted = _chunks![0];
        for (int i = 0; i < ranks.Length; i++) result[i] = sorted[(int)ranks[i] - 1];
        return result;
    }

    private void ToHistogram()
    {
        var histogram = new LongHistogram(HighestTrackable, 3);
        if (_chunks is not null)
            foreach (long sample in Samples()) histogram.RecordValue(Math.Clamp(sample, 0, HighestTrackable));
        _histogram = histogram;
        _chunks = null;
        _last = [];
    }
}
