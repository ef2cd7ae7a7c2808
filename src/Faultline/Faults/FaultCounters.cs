namespace Faultline.Faults;

/// <summary>What the framework did, counted (DESIGN rule 6: nothing is lost silently).</summary>
public sealed class FaultCounters
{
    public long Reports;
    public long Partials;
    public long Groups;
    public long FaultsInGroups;
    public long ResponsesSuccess;
    public long ResponsesInvalid;
    public long ResponsesFailure;
    /// <summary>R10 / POL-1: requests answered INVALID because nothing handles them.</summary>
    public long NoHandlerAnswers;
    /// <summary>POL-1 hardened: non-last requests with no handler, dropped (their last one is answered).</summary>
    public long NoHandlerDrops;
    /// <summary>R12: partial copies that could not be allocated; the page is missing from its group.</summary>
    public long PartialAllocationFailures;
    /// <summary>R13 / R15: groups completed through the abort path (allocation failure or handler refusal).</summary>
    public long AbortedGroups;
    /// <summary>POL-3 hardened: groups answered SUCCESS so the function retries later.</summary>
    public long Deferrals;
    /// <summary>R20 / POL-7: responses for groups not pending, dropped silently (<c>linux</c>).</summary>
    public long StaleResponsesDropped;
    /// <summary>POL-7: responses for groups not pending, rejected with a status (<c>hardened</c>).</summary>
    public long StaleResponsesRejected;
    /// <summary>R4: pending groups answered INVALID when their device was removed.</summary>
    public long RemovedGroups;
    public long RemovedPartials;
    /// <summary>R24: partials freed after a hardware queue overflow.</summary>
    public long DiscardedPartials;
    /// <summary>R19 misuse: groups freed without a response (R8 is broken: the device is never answered).</summary>
    public long FreedUnanswered;

    public long Responses => ResponsesSuccess + ResponsesInvalid + ResponsesFailure;

    internal void CountResponse(PageResponseCode code)
    {
        switch (code)
        {
            case PageResponseCode.Success: ResponsesSuccess++; break;
            case PageResponseCode.Invalid: ResponsesInvalid++; break;
            default: ResponsesFailure++; break;
        }
    }
}
