namespace Faultline.Devices;

/// <summary>A platform master behind an Arm SMMU (H-SMMU-10: not PCIe; it has no PRI and relies on stalls).</summary>
public sealed record StallMasterConfig
{
    /// <summary>The master's name in reports and traces.</summary>
    public required string Name { get; init; }
    /// <summary>The StreamID the SMMU knows the master by.</summary>
    public required uint StreamId { get; init; }

    /// <summary>Transactions in flight at once; the rest of an access waits in the master.</summary>
    public int MaxOutstanding { get; init; } = 4;

    /// <summary>
    /// Times the master sends an aborted transaction again, as a driver resubmits a job that got a bus error (POL-12:
    /// a host that terminates a fault may still resolve it, so the retry finds the page). 0: an abort ends the access.
    /// A RAZ/WI terminate is not seen as an error, so it is never retried.
    /// </summary>
    public int Retries { get; init; }

    /// <summary>How long the master waits after an abort before it sends the transaction again (<see cref="Retries"/>).</summary>
    public long RetryDelayNs { get; init; }
}

/// <summary>How one access of a stall master ended: the first page outcome other than Completed (else Completed), and start-to-last-page latency.</summary>
public readonly record struct StallAccessResult(DmaAccess Access, TransactionOutcome Outcome, long StartedAt, long EndedAt)
{
    /// <summary>Time from the access's start to its last transaction's end.</summary>
    public long Latency => EndedAt - StartedAt;
}

/// <summary>Optional hook for a host that records how a stall master's accesses end.</summary>
public interface IStallMasterObserver
{
    /// <summary>An access ended: called once per access, after its last transaction.</summary>
    void AccessEnded(StallMaster master, in StallAccessResult result);
}

/// <summary>What a stall master did, counted.</summary>
public sealed class StallMasterCounters
{
    /// <summary>Transactions sent to the SMMU, retries included.</summary>
    public long Transactions { get; internal set; }
    /// <summary>Aborted transactions sent again (<see cref="StallMasterConfig.Retries"/>).</summary>
    public long Retried { get; internal set; }
    /// <summary>Accesses ended.</summary>
    public long Accesses { get; internal set; }
    /// <summary>Accesses whose every transaction completed.</summary>
    public long Completed { get; internal set; }
    /// <summary>Accesses ended by an abort (CMD_RESUME Abort, or a terminate with CD.A = 1).</summary>
    public long Aborted { get; internal set; }
    /// <summary>Accesses ended by a RAZ/WI terminate (CD.A = 0).</summary>
    public long TerminatedRazWi { get; internal set; }
    /// <summary>Completions the host delivered for no transaction in flight (ignored).</summary>
    public long UnexpectedCompletions { get; internal set; }
    /// <summary>Longest start-to-end time of an access.</summary>
    public long MaxLatency { get; internal set; }
}

/// <summary>
/// A platform master performing <see cref="DmaAccess"/>es page by page as <see cref="StallTransaction"/>s
/// through its SMMU port, at most <see cref="StallMasterConfig.MaxOutstanding"/> at a time. The PASID
/// prefix of an access gives the SubstreamID (SSV), its execute and privileged bits InD and PnU.
/// </summary>
public sealed class StallMaster(StallMasterConfig config, IStallMasterPort port, IStallMasterObserver? observer = null)
{
    private readonly Queue<(Access Access, int Page)> _toIssue = new();
    private readonly Dictionary<long, InFlight> _inFlight = new();
    private long _nextTransactionId;

    /// <summary>The fixed properties the master was created with.</summary>
    public StallMasterConfig Config { get; } = config;
    /// <summary>The master's name, from its config.</summary>
    public string Name => Config.Name;
    /// <summary>The master's StreamID, from its config.</summary>
    public uint StreamId => Config.StreamId;
    /// <summary>The host's hook on ended accesses; null for none.</summary>
    public IStallMasterObserver? Observer { get; set; } = observer;
    /// <summary>What the master did, counted.</summary>
    public StallMasterCounters Counters { get; } = new();

    /// <summary>Transactions in flight in the SMMU.</summary>
    public int Outstanding => _inFlight.Count;

    /// <summary>Pages waiting for a free transaction slot in the master.</summary>
    public int Queued => _toIssue.Count;

    /// <summary>Nothing in flight and nothing waiting to be issued.</summary>
    public bool Idle => _inFlight.Count == 0 && _toIssue.Count == 0;

    /// <summary>Whether a transaction of an access on <paramref name="substreamId"/> is in flight or waiting to be issued
    /// (its driver quiesces the PASID before unbinding it). O(outstanding).</summary>
    public bool Uses(uint substreamId) =>
        _inFlight.Values.Any(f => f.Access.Request.Prefix?.Pasid.Value == substreamId) || _toIssue.Any(t => t.Access.Request.Prefix?.Pasid.Value == substreamId);

    /// <summary>Starts an access: its pages queue as transactions, issued up to MaxOutstanding at a time.</summary>
    public void Start(DmaAccess access, long now)
    {
        var state = new Access(access, now);
        for (int page = 0; page < access.Pages; page++) _toIssue.Enqueue((state, page));
        Issue();
    }

    /// <summary>The host delivers how a transaction ended (<c>ISmmuv3Platform.CompleteTransaction</c>).</summary>
    public void OnTransactionCompleted(in StallTransaction transaction, TransactionOutcome outcome, long now)
    {
        if (!_inFlight.Remove(transaction.Id, out var entry))
        {
            Counters.UnexpectedCompletions++;
            return;
        }
        if (outcome == TransactionOutcome.Aborted && entry.Retries < Config.Retries)
        {
            // The same page again, as a new transaction that keeps the slot of the one aborted.
            var again = transaction with { Id = _nextTransactionId++ };
            _inFlight.Add(again.Id, entry with { Retries = entry.Retries + 1 });
            Counters.Transactions++;
            Counters.Retried++;
            port.SendTransaction(again, Config.RetryDelayNs);
            return;
        }
        var access = entry.Access;
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
            _inFlight.Add(t.Id, new InFlight(next.Access, 0));
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

    private readonly record struct InFlight(Access Access, int Retries);

    private sealed class Access(DmaAccess request, long startedAt)
    {
        public DmaAccess Request { get; } = request;
        public long StartedAt { get; } = startedAt;
        public int Remaining { get; set; } = request.Pages;
        public TransactionOutcome Outcome { get; set; } = TransactionOutcome.Completed;
    }
}
