using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>Records how accesses ended and what the function made of each PRG Response.</summary>
public sealed class RecordingObserver : IPriFunctionObserver
{
    public Dictionary<long, AccessResult> Ended { get; } = [];
    public List<PrgResponseOutcome> Outcomes { get; } = [];

    /// <summary>Highest Pri.Outstanding seen right after a page request, and whether it ever passed Allocation.</summary>
    public uint MaxOutstanding { get; private set; }
    public bool ExceededAllocation { get; private set; }

    public void PageRequestSent(PriFunction function, in PageRequest request, long now)
    {
        MaxOutstanding = Math.Max(MaxOutstanding, function.Pri.Outstanding);
        if (function.Pri.Outstanding > function.Pri.Allocation) ExceededAllocation = true;
    }

    public void PrgResponseReceived(PriFunction function, in PrgResponse response, PrgResponseOutcome outcome, long latency, long now) =>
        Outcomes.Add(outcome);

    public void AccessEnded(PriFunction function, DmaAccess access, AccessResult result, long now)
    {
        Assert.False(Ended.ContainsKey(access.Id), $"access {access.Id} ended twice");
        Ended[access.Id] = result;
        EndOrder.Add(access.Id);
    }

    /// <summary>Access ids in the order they ended.</summary>
    public List<long> EndOrder { get; } = [];

    /// <summary>PASIDs whose stop completed, in order, with the time.</summary>
    public List<(Pasid Pasid, long Time)> Stopped { get; } = [];

    public void PasidStopCompleted(PriFunction function, Pasid pasid, long now) => Stopped.Add((pasid, now));

    public AccessResult? ResultOf(long id) => Ended.TryGetValue(id, out var r) ? r : null;
}
