namespace Faultline.Simulation.Sweeps;

/// <summary>One value of the sized parameter, run over the sweep's seeds: the target metric's estimate there.</summary>
public sealed record SizeProbe(long Value, Estimate Estimate, bool Meets, long InvariantsBroken);

/// <summary>
/// The smallest value, or null when none in the bracket meets the target; the probes made, by value; and
/// <see cref="Problem"/> when the bracket's ends contradict the monotonicity the search assumes.
/// </summary>
public sealed record SizeAnswer(long? Value, IReadOnlyList<SizeProbe> Probes, string? Problem)
{
    public SizeProbe? At(long value) => Probes.FirstOrDefault(p => p.Value == value);
}

/// <summary>
/// The smallest integer value of one parameter whose mean across seeds meets a target, by bisection: each probe is a
/// sweep of one point per seed. The target is assumed to hold from some value on (a larger queue drops less); the
/// ends of the bracket are probed first and a contradiction is reported, not bisected.
/// </summary>
public static class SizeSearch
{
    /// <param name="sweep">The base scenario, settings, one policy at most, seeds; its parameters are not used.</param>
    public static SizeAnswer Find(SweepDefinition sweep, TreePath parameter, long from, long to, SizeTarget target, int jobs, Action<SizeProbe>? probed = null)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(from, to);
        var probes = new SortedDictionary<long, SizeProbe>();
        SizeProbe Probe(long value)
        {
            if (probes.TryGetValue(value, out var known)) return known;
            var plan = SweepPlan.Build(sweep with
            {
                Parameters = [new SweepParameter(parameter, [value.ToString(System.Globalization.CultureInfo.InvariantCulture)])],
                Metrics = [target.Metric],
            });
            var results = SweepRunner.Run(plan, Enumerable.Range(0, plan.Count), jobs, out _);
            var estimate = Estimate.Of(results.Select(r => r.Values[0]));
            var probe = probes[value] = new SizeProbe(value, estimate, target.IsMetBy(estimate.Mean), results.Sum(r => r.InvariantsBroken));
            probed?.Invoke(probe);
            return probe;
        }

        var (low, high) = (Probe(from), Probe(to));
        if (low.Meets && !high.Meets)
            return new SizeAnswer(null, [.. probes.Values], $"the target is met at {from} but not at {to}: it does not grow easier with the parameter, so there is no smallest value to bisect for");
        if (low.Meets || !high.Meets) return new SizeAnswer(low.Meets ? from : null, [.. probes.Values], null);
        long fails = from, meets = to;
        while (meets - fails > 1)
        {
            long mid = fails + ((meets - fails) / 2);
            if (Probe(mid).Meets) meets = mid;
            else fails = mid;
        }
        // The neighbour below the answer is always probed: its interval is reported beside the answer's.
        Probe(meets - 1);
        return new SizeAnswer(meets, [.. probes.Values], null);
    }
}
