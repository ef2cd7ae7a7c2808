namespace Faultline.Devices;

/// <summary>A platform master behind an Arm SMMU (H-SMMU-10: not PCIe; it has no PRI and relies on stalls).</summary>
public sealed record StallMasterConfig
{
    public required string Name { get; init; }
    public required uint StreamId { get; init; }

    /// <summary>Transactions in flight at once; the rest of an access waits in the master.</summary>
    public int MaxOutstanding { get; init; } = 4;
}

/// <summary>How one access of a stall master ended: the first page outcome other than Completed (else Completed), and start-to-last-page latency.</summary>
public readonly record struct StallAccessResult(DmaAccess Access, TransactionOutcome Outcome, long StartedAt, long EndedAt)
{
    public long Latency => EndedAt - StartedAt;
}

public interface IStallMasterObserver
{
    void AccessEnded(StallMaster master, in StallAccessResult result);
}

public sealed class StallMasterCounters
{
    public long Transactions;
    public long Accesses;
    public long Completed;
    public long Aborted;
    public long TerminatedRazWi;
    /// <summary>Completions the host delivered for no transaction in flight (ignored).</summary>
    public long UnexpectedCompletions;
    public long MaxLatency;
}

/// <summary>
/// A platform master performing <see cref="DmaAccess"/>es page by page as <see cref="StallTransaction"/>s
/// through its SMMU port, at most <see cref="StallMasterConfig.MaxOutstanding"/> at a time. The PASID
/// prefix of an access gives the SubstreamID (SSV), its execute and privileged bits InD and PnU.
/// </summary>
public sealed class StallMaster(StallMasterConfig config, IStallMasterPort port, IStallMasterObserver? observer = null)
{
    private readonly Queue<(Access Access, int Page)> _toIssue = new();
    private readonly Dictionary<long, Access> _inFlight = new();
    private long _nextTransactionId;

    public StallMasterConfig Config { get; } = config;
    public string Name => Config.Name;
    public uint StreamId => Config.StreamId;
    public IStallMasterObserver? Observer { get; set; } = observer;
    public StallMasterCounters Counters { get; } = new();

    public int Outstanding => _inFlight.Count;

    /// <summary>Pages waiting for a free transaction slot in the master.</summary>
    public int Queued => _toIssue.Count;

    public bool Idle => _inFlight.Count == 0 && _toIssue.Count == 0;

    /// <summary>Whether a transaction of an access on <paramref name="substreamId"/> is in flight or waiting to be issued
    /// (its driver quiesces the PASID before unbinding it). O(outstanding).</summary>
    public bool Uses(uint substreamId) =>
        _inFlight.Values.Any(a => a.Request.Prefix?.Pasid.Value == substreamId) || _toIssue.Any(t => t.Access.Request.Prefix?.Pasid.Value == substreamId);

    public void Start(DmaAccess access, long now)
    {
        var state = new Access(access, now);
        for (int page = 0; page < access.Pages; page++) _toIssue.Enqueue((state, page));
        Issue();
    }

    /// <summary>The host delivers how a transaction ended (<c>ISmmuv3Platform.CompleteTransaction</c>).</summary>
    public void OnTransactionCompleted(in StallTransaction transaction, TransactionOutcome outcome, long now)
    {
        if (!_inFlight.Remove(transaction.Id, out var access))
        {
            Counters.UnexpectedCompletions++;
            return;
        }
        if (access.Outcome == TransactionOutcome.Completed) access.Outcome = outcome; // the first failure names the access
        if (--access.Remaining == 0) End(access, now);
        Issue();
    }

    private void Issue()
    {
        while (_inFlight.Count < Config.MaxOutstanding && _toIssue.TryDequeue(out var next))
        {
            var a = next.Access.Request;
            var t = new StallTransaction(_nextTransactionId++, StreamId, a.Prefix?.Pasid.Value,
                a.Address + ((ulong)next.Page << Pcie.PageRequest.PageShift), a.Write, a.Execute, a.Prefix?.PrivilegedMode ?? false);
            _inFlight.Add(t.Id, next.Access);
            Counters.Transactions++;
            port.SendTransaction(t);
        }
    }

    private void End(Access access, long now)
    {
        var result = new StallAccessResult(access.Request, access.Outcome, access.StartedAt, now);
        Counters.Accesses++;
        switch (access.Outcome)
        {
            case TransactionOutcome.Completed: Counters.Completed++; break;
            case TransactionOutcome.Aborted: Counters.Aborted++; break;
            default: Counters.TerminatedRazWi++; break;
        }
        Counters.MaxLatency = Math.Max(Counters.MaxLatency, result.Latency);
        Observer?.AccessEnded(this, result);
    }

    private sealed class Access(DmaAccess request, long startedAt)
    {
        public DmaAccess Request { get; } = request;
        public long StartedAt { get; } = startedAt;
        public int Remaining { get; set; } = request.Pages;
        public TransactionOutcome Outcome { get; set; } = TransactionOutcome.Completed;
    }
}
