namespace Faultline.Simulation.Distributions;

/// <summary>
/// When a workload's accesses arrive: the gap to the next arrival (a distribution, an on/off source or a trace),
/// the batch size of each, the closed loop's think time, and the opt-in offset of the first. Each draws from its
/// own fork of the workload's stream; a one-number (Poisson) interval draws from the stream itself, as it always did.
/// </summary>
internal sealed class Arrivals
{
    private readonly WorkloadSpec _spec;
    private readonly SimRandom _random;
    private readonly Distribution? _interval;
    private readonly SimRandom? _intervalRandom, _batchRandom, _thinkRandom, _offsetRandom, _burstRandom;
    private long _onUntil = long.MinValue; // the end of the current on period of a burst source
    private int _traced; // the trace's arrivals so far, less one

    public Arrivals(WorkloadSpec spec, SimRandom random)
    {
        _spec = spec;
        _random = random;
        _interval = spec.Interval;
        if (_interval is not null) _intervalRandom = random.Fork("interval");
        if (spec.Batch is not null) _batchRandom = random.Fork("batch");
        if (spec.Think is not null) _thinkRandom = random.Fork("think");
        if (spec.StartOffset is not null) _offsetRandom = random.Fork("start_offset");
        if (spec.Burst is not null) _burstRandom = random.Fork("burst");
    }

    /// <summary>From <see cref="WorkloadSpec.StartNs"/> to the first arrival.</summary>
    public long FirstOffset() =>
        (_spec.StartOffset?.Sample(_offsetRandom!) ?? 0) + (_spec.Trace is { } trace ? trace[0] : 0);

    /// <summary>Accesses of one arrival: at least one.</summary>
    public int BatchSize() => _spec.Batch is { } batch ? (int)Math.Clamp(batch.Sample(_batchRandom!), 1, int.MaxValue) : 1;

    public long Think() => _spec.Think!.Sample(_thinkRandom!);

    /// <summary>From the arrival at <paramref name="now"/> to the next; null once a trace has no more.</summary>
    public long? NextGap(long now)
    {
        if (_spec.Trace is { } trace) return ++_traced < trace.Count ? trace[_traced] - trace[_traced - 1] : null;
        long gap = _interval is { } d ? d.Sample(_intervalRandom!) : _random.NextExponential(_spec.IntervalNs);
        if (_spec.Burst is not { } burst) return gap;
        // Two-state source: the first arrival opens an on period; an arrival that would fall past its end
        // waits out an off period and comes a fresh gap into the next on period.
        if (_onUntil == long.MinValue) _onUntil = now + burst.On.Sample(_burstRandom!);
        long at = now + gap;
        while (at > _onUntil)
        {
            long nextOn = _onUntil + burst.Off.Sample(_burstRandom!);
            _onUntil = nextOn + burst.On.Sample(_burstRandom!);
            at = nextOn + (_interval is { } i ? i.Sample(_intervalRandom!) : _random.NextExponential(_spec.IntervalNs));
        }
        return at - now;
    }
}
