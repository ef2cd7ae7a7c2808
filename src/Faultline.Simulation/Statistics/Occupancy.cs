using Faultline.Host;
using Faultline.Iommu;

namespace Faultline.Simulation.Statistics;

/// <summary>
/// The occupancy of every queue of a run: per IOMMU its hardware rings, its fault queues' work waiting for a worker,
/// its workers busy and (SMMUv3) its stall buffer; per PCIe function its PRI credits in use. The platform looks
/// again at a unit after each event that reached it and at a function after each of its messages, so a level is
/// read when it can have changed, at O(1) per event.
/// </summary>
internal sealed class Occupancy(long warmup)
{
    private readonly List<UnitLevels> _units = [];
    private readonly List<(FunctionNode Node, LevelStatistic Credits)> _functions = [];

    private sealed record UnitLevels(IommuUnit Unit, (RingQueue Ring, LevelStatistic Level)[] Rings, LevelStatistic FaultQueue, LevelStatistic Workers, LevelStatistic? Stall);

    public void Add(IommuUnit unit, int workers)
    {
        var rings = Enumerable.Range(0, unit.ThreadCount)
            .Where(t => unit.ThreadQueue(t) is not null)
            .Select(t => (unit.ThreadQueue(t)!, new LevelStatistic($"{unit.Name} {unit.ThreadName(t).Replace(" thread", "", StringComparison.Ordinal)}", "iommu_queue", unit.Name, unit.ThreadQueue(t)!.Entries, warmup)))
            .ToArray();
        var stall = unit is Smmuv3Unit v3 ? new LevelStatistic($"{unit.Name} stall buffer", "stall_buffer", unit.Name, v3.Spec.StallMax, warmup) : null;
        _units.Add(new UnitLevels(unit, rings,
            new LevelStatistic($"{unit.Name} fault queue", "fault_queue", unit.Name, 0, warmup),
            new LevelStatistic($"{unit.Name} workers", "workers_busy", unit.Name, workers, warmup), stall));
    }

    /// <returns>The function's index, for <see cref="ObserveFunction"/>.</returns>
    public int Add(FunctionNode node)
    {
        _functions.Add((node, new LevelStatistic($"{node.Name} credits", "credits_in_use", node.Name, node.Function.Pri.Allocation, warmup)));
        return _functions.Count - 1;
    }

    public void ObserveUnit(int index, long now)
    {
        var u = _units[index];
        foreach (var (ring, level) in u.Rings) level.Set(now, ring.Count);
        long queued = 0;
        var queues = u.Unit.FaultQueues;
        for (int i = 0; i < queues.Count; i++) queued += queues[i].QueuedWork;
        u.FaultQueue.Set(now, queued);
        u.Workers.Set(now, u.Unit.BusyWorkers);
        if (u.Stall is { } stall) stall.Set(now, ((Smmuv3Unit)u.Unit).Hardware.StallsInUse);
    }

    public void ObserveFunction(int index, long now)
    {
        var (node, credits) = _functions[index];
        credits.Set(now, node.Function.Pri.Outstanding);
    }

    public void ObserveAll(long now)
    {
        for (int i = 0; i < _units.Count; i++) ObserveUnit(i, now);
        for (int i = 0; i < _functions.Count; i++) ObserveFunction(i, now);
    }

    public List<QueueReport> Reports(long end)
    {
        var reports = new List<QueueReport>();
        foreach (var u in _units)
        {
            reports.AddRange(u.Rings.Select(r => r.Level.Report(end)));
            reports.Add(u.FaultQueue.Report(end));
            reports.Add(u.Workers.Report(end));
            if (u.Stall is { } stall) reports.Add(stall.Report(end));
        }
        reports.AddRange(_functions.Select(f => f.Credits.Report(end)));
        return reports;
    }
}
