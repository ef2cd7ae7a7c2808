namespace Faultline.Devices;

/// <summary>What a function saw and did.</summary>
public sealed class PriFunctionCounters
{
    /// <summary>ATS Translation Requests sent.</summary>
    public long TranslationRequests { get; internal set; }
    /// <summary>Pages of started accesses the ATC already granted, without a Translation Request.</summary>
    public long AtcHits { get; internal set; }
    /// <summary>Page Requests sent, Stop Markers not included.</summary>
    public long PageRequests { get; internal set; }
    /// <summary>Page request groups sent.</summary>
    public long Groups { get; internal set; }
    /// <summary>PRG Responses with Success for an outstanding group.</summary>
    public long ResponsesSuccess { get; internal set; }
    /// <summary>PRG Responses with Invalid Request for an outstanding group.</summary>
    public long ResponsesInvalid { get; internal set; }
    /// <summary>PRG Responses with Response Failure, with or without an outstanding group (H-PCI-5).</summary>
    public long ResponsesFailure { get; internal set; }
    /// <summary>PRG Responses with a reserved code, acted on as Response Failure (pcie.md §3.3).</summary>
    public long ResponsesReserved { get; internal set; }
    /// <summary>H-PCI-10: responses for an index with no outstanding group (UPRGI set).</summary>
    public long UnexpectedResponses { get; internal set; }
    /// <summary>H-PCI-9: responses ignored because RF is set.</summary>
    public long IgnoredResponses { get; internal set; }
    /// <summary>Times RF went from 0 to 1.</summary>
    public long ResponseFailureEvents { get; internal set; }
    /// <summary>Most PRI credits in use at once on the function's PRI capability (the PF's, for a VF).</summary>
    public long CreditsHighWater { get; internal set; }
    /// <summary>Stop Markers sent (H-PCI-20).</summary>
    public long StopMarkers { get; internal set; }
    /// <summary>Fault injection: groups sent without their last request.</summary>
    public long GroupsWithoutLast { get; internal set; }
    /// <summary>H-PCI-22: late responses for groups abandoned by a Stop Marker, discarded without UPRGI.</summary>
    public long DiscardedAfterStop { get; internal set; }
    /// <summary>Groups a response matched (the response codes above count responses, some of which match none).</summary>
    public long GroupsAnswered { get; internal set; }
    /// <summary>H-PCI-12: outstanding groups a PRI reset made the function forget, their credits back.</summary>
    public long GroupsForgotten { get; internal set; }
    /// <summary>ATS Invalidate Requests received.</summary>
    public long InvalidateRequests { get; internal set; }
    /// <summary>Pages translated again after a Success response (H-PCI-7).</summary>
    public long Retries { get; internal set; }
    /// <summary>Accesses started.</summary>
    public long AccessesStarted { get; internal set; }
    /// <summary>Accesses that ended <see cref="AccessResult.Completed"/>.</summary>
    public long AccessesCompleted { get; internal set; }
    /// <summary>Accesses that ended with any other result.</summary>
    public long AccessesFailed { get; internal set; }
}
