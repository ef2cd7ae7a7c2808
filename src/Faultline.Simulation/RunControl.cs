namespace Faultline.Simulation;

/// <summary>
/// How a caller watches a run and stops it early (issue 13: a long run printed nothing, and Ctrl-C left nothing
/// behind). The run goes in slices of virtual time sized to about <paramref name="progressEvery"/> events; after
/// each, <paramref name="progress"/> hears how far it got, and a cancelled <paramref name="stop"/> ends the run there,
/// its report marked <see cref="RunReport.Partial"/>. The scheduler takes the same events in the same order in slices
/// as in one go, so a watched run gives the same results (the golden digests).
/// </summary>
public sealed class RunControl(CancellationToken stop, Action<RunProgress>? progress = null, long progressEvery = 16_384)
{
    /// <summary>Whether the run stopped on request before its end.</summary>
    public bool Stopped { get; private set; }

    /// <summary>Runs <paramref name="platform"/> to <paramref name="limit"/> as <see cref="Platform.Run"/> does, in slices.</summary>
    internal bool Run(Platform platform, long limit, bool baseline)
    {
        long reached = platform.Now, step = 1_000;
        long total = platform.Workloads.Sum(w => (long)w.Spec.Accesses);
        while (true)
        {
            if (stop.IsCancellationRequested)
            {
                Stopped = true;
                return platform.Scheduler.IsEmpty;
            }
            long end = reached >= limit - step ? limit : reached + step;
            long before = platform.Scheduler.EventsRun;
            bool quiesced = platform.Run(end);
            long ran = platform.Scheduler.EventsRun - before;
            if (progress is not null)
            {
                long done = platform.Workloads.Sum(w => w.Completed + w.Failed + w.Skipped);
                progress(new RunProgress(platform.Now, platform.Scheduler.EventsRun, limit, total > 0 ? (double)done / total : null, baseline));
            }
            if (quiesced || end == limit) return quiesced;
            reached = end;
            // Doubling through idle stretches, halving through bursts: a slice stays near progressEvery events.
            step = ran < progressEvery / 2 ? Math.Min(step * 2, 1L << 40) : ran > progressEvery * 2 ? Math.Max(1, step / 2) : step;
        }
    }
}

/// <summary>How far a run has got: virtual time, events run, and the share of its workloads' accesses ended.</summary>
/// <param name="WorkloadsDone">Accesses ended (completed, failed or skipped) over those the workloads will start; null without workloads.</param>
/// <param name="Baseline">The run of the scenario without its hostile guests, after the run itself.</param>
public readonly record struct RunProgress(long NowNs, long Events, long TimeLimitNs, double? WorkloadsDone, bool Baseline);
