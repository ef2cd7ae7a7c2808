namespace Faultline.Devices;

/// <summary>What a function saw and did.</summary>
public sealed class PriFunctionCounters
{
    /// <summary>ATS Translation Requests sent.</summary>
    public long TranslationRequests;
    /// <summary>Pages of started accesses the ATC already granted, without a Translation Request.</summary>
    public long AtcHits;
    /// <summary>Page Requests sent, Stop Markers not included.</summary>
    public long PageRequests;
    /// <summary>Page request groups sent.</summary>
    public long Groups;
    /// <summary>PRG Responses with Success for an outstanding group.</summary>
    public long ResponsesSuccess;
    /// <summary>PRG Responses with Invalid Request for an outstanding group.</summary>
    public long ResponsesInvalid;
    /// <summary>PRG Responses with Response Failure, with or without an outstanding group (H-PCI-5).</summary>
    public long ResponsesFailure;
    /// <summary>PRG Responses with a reserved code, acted on as Response Failure (pcie.md §3.3).</summary>
    public long ResponsesReserved;
    /// <summary>H-PCI-10: responses for an index with no outstanding group (UPRGI set).</summary>
    public long UnexpectedResponses;
    /// <summary>H-PCI-9: responses ignored because RF is set.</summary>
    public long IgnoredResponses;
    /// <summary>Times RF went from 0 to 1.</summary>
    public long ResponseFailureEvents;
    /// <summary>Most PRI credits in use at once on the function's PRI capability (the PF's, for a VF).</summary>
    public long CreditsHighWater;
    /// <summary>Stop Markers sent (H-PCI-20).</summary>
    public long StopMarkers;
    /// <summary>Fault injection: groups sent without their last request.</summary>
    public long GroupsWithoutLast;
    /// <summary>H-PCI-22: late responses for groups abandoned by a Stop Marker, discarded without UPRGI.</summary>
    public long DiscardedAfterStop;
    /// <summary>ATS Invalidate Requests received.</summary>
    public long InvalidateRequests;
    /// <summary>Pages translated again after a Success response (H-PCI-7).</summary>
    public long Retries;
    /// <summary>Accesses started.</summary>
    public long AccessesStarted;
    /// <summary>Accesses that ended <see cref="AccessResult.Completed"/>.</summary>
    public long AccessesCompleted;
    /// <summary>Accesses that ended with any other result.</summary>
    public long AccessesFailed;
}
