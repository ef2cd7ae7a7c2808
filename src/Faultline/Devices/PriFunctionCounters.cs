namespace Faultline.Devices;

/// <summary>What a function saw and did.</summary>
public sealed class PriFunctionCounters
{
    public long TranslationRequests;
    public long AtcHits;
    public long PageRequests;
    public long Groups;
    public long ResponsesSuccess;
    public long ResponsesInvalid;
    public long ResponsesFailure;
    public long ResponsesReserved;
    /// <summary>H-PCI-10: responses for an index with no outstanding group (UPRGI set).</summary>
    public long UnexpectedResponses;
    /// <summary>H-PCI-9: responses ignored because RF is set.</summary>
    public long IgnoredResponses;
    /// <summary>Times RF went from 0 to 1.</summary>
    public long ResponseFailureEvents;
    public long CreditsHighWater;
    public long StopMarkers;
    /// <summary>Fault injection: groups sent without their last request.</summary>
    public long GroupsWithoutLast;
    /// <summary>H-PCI-22: late responses for groups abandoned by a Stop Marker, discarded without UPRGI.</summary>
    public long DiscardedAfterStop;
    public long InvalidateRequests;
    public long Retries;
    public long AccessesStarted;
    public long AccessesCompleted;
    public long AccessesFailed;
}
