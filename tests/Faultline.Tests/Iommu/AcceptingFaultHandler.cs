using Faultline.Faults;

namespace Faultline.Tests.Iommu;

/// <summary>
/// A fault handler that takes every group and leaves the answer to the test, which responds
/// through <see cref="FaultFramework.Respond"/> with a handle from <see cref="Groups"/>.
/// </summary>
internal sealed class AcceptingFaultHandler : IFaultHandler, IFaultWork
{
    public List<FaultGroupHandle> Groups { get; } = [];

    /// <summary>The faults of each accepted group, copied in arrival order.</summary>
    public List<Fault[]> Faults { get; } = [];

    /// <summary>Also queue each group as work, as SVA does (R26): what a linux flush waits for (R23).</summary>
    public bool QueueWork { get; set; }

    /// <summary>A worker takes each queued item at once and runs it until the test answers: hardened cancels work
    /// still queued at a teardown, but a flush waits for work that runs (R23, POL-8).</summary>
    public bool WorkerTakesIt { get; set; }

    /// <summary>Runs after a group is recorded, while the driver is still inside its batch.</summary>
    public Action<FaultGroup>? OnHandle { get; set; }

    public bool Handle(FaultGroup group, long now)
    {
        Groups.Add(group.Handle);
        Faults.Add(group.Faults.ToArray());
        OnHandle?.Invoke(group);
        if (!QueueWork) return true;
        group.Device.Queue!.QueueWork(group, this);
        if (WorkerTakesIt) group.Device.Queue.TryDequeueWork(out _);
        return true;
    }

    public FaultWorkOutcome Run(FaultGroup group) => new(PageResponseCode.Success, 0);
}
