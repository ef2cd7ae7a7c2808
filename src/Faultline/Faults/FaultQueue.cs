namespace Faultline.Faults;

/// <summary>Work a handler queued on a fault queue's worker pool (R26): run it, then respond and free.</summary>
public interface IFaultWork
{
    /// <summary>Resolves the group and returns the response the host sends for it, with its cost.</summary>
    FaultWorkOutcome Run(FaultGroup group);
}

/// <summary>The result of running queued work: the response and how long resolving it took (model time).</summary>
public readonly record struct FaultWorkOutcome(PageResponseCode Code, long CostNanoseconds);

/// <summary>A group's work, queued on a fault queue's worker pool (R26).</summary>
/// <param name="Group">The group the work resolves.</param>
/// <param name="Work">What the handler queued for it.</param>
public readonly record struct FaultWorkItem(FaultGroupHandle Group, IFaultWork Work);

/// <summary>
/// An IOPF queue (<c>iopf_queue</c>, R1): the devices that report through one hardware queue, and
/// the unordered worker pool that handlers queue groups on. Hosts dequeue and run the work: the
/// simulator in virtual time, an embedder on its own threads.
/// </summary>
public sealed class FaultQueue
{
    private readonly List<FaultDevice> _devices = [];
    private readonly Queue<FaultWorkItem> _work = new();

    internal FaultQueue(string name) => Name = name;

    /// <summary>The queue's name in reports and traces.</summary>
    public string Name { get; }

    /// <summary>Devices, most recently added first (R3 inserts at the head).</summary>
    public IReadOnlyList<FaultDevice> Devices => _devices;

    /// <summary>Work items queued and not yet taken by a worker.</summary>
    public int QueuedWork => _work.Count;

    /// <summary>R26: the group's work item is scheduled on the queue's worker pool.</summary>
    public void QueueWork(FaultGroup group, IFaultWork work)
    {
        group.OnWorkqueue = true;
        _work.Enqueue(new FaultWorkItem(group.Handle, work));
    }

    /// <summary>Takes the oldest queued work item for a worker to run; false when there is none.</summary>
    public bool TryDequeueWork(out FaultWorkItem item) => _work.TryDequeue(out item);

    /// <summary>Takes out the queued items that match, keeping the others in order; returns the ones taken.</summary>
    internal List<FaultWorkItem> RemoveWork(Func<FaultWorkItem, bool> match)
    {
        var taken = new List<FaultWorkItem>();
        int count = _work.Count;
        for (int i = 0; i < count; i++)
        {
            var item = _work.Dequeue();
            if (match(item)) taken.Add(item);
            else _work.Enqueue(item);
        }
        return taken;
    }

    internal void Insert(FaultDevice device) => _devices.Insert(0, device);

    internal void Remove(FaultDevice device) => _devices.Remove(device);
}
