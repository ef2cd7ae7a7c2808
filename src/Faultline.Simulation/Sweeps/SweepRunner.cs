namespace Faultline.Simulation.Sweeps;

/// <summary>
/// Runs a sweep's points in one process on <c>jobs</c> cores. Each point is a whole deterministic run on its own
/// (scenario, seed, policy), so the scheduling changes only the order points finish in, never their results, and
/// results come back in point order.
/// </summary>
public static class SweepRunner
{
    /// <summary>
    /// Runs the points of <paramref name="points"/> not in <paramref name="done"/>, each written to
    /// <paramref name="journal"/> as it finishes; returns every point's result (<paramref name="done"/>'s too) in point order.
    /// </summary>
    /// <param name="progress">Called after each point with the number finished and the number asked for; from worker threads.</param>
    /// <param name="ran">How many points this call ran (the rest came from <paramref name="done"/>).</param>
    /// <exception cref="MetricException">A metric is not in a run's report; points finished before it stay in the journal.</exception>
    public static IReadOnlyList<PointResult> Run(SweepPlan plan, IEnumerable<int> points, int jobs, out int ran,
        IReadOnlyList<PointResult>? done = null, SweepJournal? journal = null, Action<int, int>? progress = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        var wanted = points.ToList();
        var known = (done ?? []).GroupBy(r => r.Point).ToDictionary(g => g.Key, g => g.First());
        var pending = wanted.Where(i => !known.ContainsKey(i)).ToList();
        var fresh = new PointResult[pending.Count];
        int finished = wanted.Count - pending.Count;
        progress?.Invoke(finished, wanted.Count);
        try
        {
            Parallel.For(0, pending.Count, new ParallelOptions { MaxDegreeOfParallelism = jobs }, i =>
            {
                var result = PointResult.Run(plan, plan.Point(pending[i]));
                journal?.Add(result);
                fresh[i] = result;
                progress?.Invoke(Interlocked.Increment(ref finished), wanted.Count);
            });
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is MetricException) is { } metric)
        {
            throw metric;
        }
        ran = pending.Count;
        foreach (var r in fresh) known[r.Point] = r;
        return [.. wanted.Distinct().Order().Select(i => known[i])];
    }
}
