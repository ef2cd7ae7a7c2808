namespace Faultline.Faults;

/// <summary>What the framework did, counted (DESIGN rule 6: nothing is lost silently).</summary>
public sealed class FaultCounters
{
    /// <summary>Faults reported (<c>iommu_report_device_fault</c> calls).</summary>
    public long Reports { get; internal set; }
    /// <summary>Non-last faults stored as partials (R12).</summary>
    public long Partials { get; internal set; }
    /// <summary>Groups completed by a last fault, aborted ones included (R13).</summary>
    public long Groups { get; internal set; }
    /// <summary>Faults in those groups, last faults included.</summary>
    public long FaultsInGroups { get; internal set; }
    /// <summary>Responses passed to a driver with SUCCESS, by a handler or by the framework.</summary>
    public long ResponsesSuccess { get; internal set; }
    /// <summary>Responses passed to a driver with INVALID, by a handler or by the framework.</summary>
    public long ResponsesInvalid { get; internal set; }
    /// <summary>Responses passed to a driver with FAILURE, by a handler or by the framework.</summary>
    public long ResponsesFailure { get; internal set; }
    /// <summary>R10 / POL-1: requests answered INVALID because nothing handles them.</summary>
    public long NoHandlerAnswers { get; internal set; }
    /// <summary>POL-1 hardened: non-last requests with no handler, dropped (their last one is answered).</summary>
    public long NoHandlerDrops { get; internal set; }
    /// <summary>F4 hardened: partials stored while a handler was attached, dropped when their last request found none.</summary>
    public long OrphanedPartials { get; internal set; }
    /// <summary>R12: partial copies that could not be allocated; the page is missing from its group.</summary>
    public long PartialAllocationFailures { get; internal set; }
    /// <summary>R13 / R15: groups completed through the abort path (allocation failure or handler refusal).</summary>
    public long AbortedGroups { get; internal set; }
    /// <summary>POL-3 hardened: groups answered SUCCESS so the function retries later.</summary>
    public long Deferrals { get; internal set; }
    /// <summary>R20 / POL-7: responses for groups not pending, dropped silently (<c>linux</c>).</summary>
    public long StaleResponsesDropped { get; internal set; }
    /// <summary>POL-7: responses for groups not pending, rejected with a status (<c>hardened</c>).</summary>
    public long StaleResponsesRejected { get; internal set; }
    /// <summary>R4: pending groups answered INVALID when their device was removed.</summary>
    public long RemovedGroups { get; internal set; }
    /// <summary>R4: partials freed when their device was removed.</summary>
    public long RemovedPartials { get; internal set; }
    /// <summary>R24: partials freed after a hardware queue overflow.</summary>
    public long DiscardedPartials { get; internal set; }
    /// <summary>Groups of a PASID being torn down answered INVALID before any worker ran them.</summary>
    public long CancelledAtTeardown { get; internal set; }
    /// <summary>POL-4 <c>hardened</c>: incomplete groups dropped whole because the device held its bound of partials.</summary>
    public long EvictedPartialGroups { get; internal set; }
    /// <summary>POL-4 <c>hardened</c>: the partial faults in those groups.</summary>
    public long EvictedPartials { get; internal set; }
    /// <summary>Groups completed under another attachment than their first request was routed to (the isolation check).</summary>
    public long IsolationBreaches { get; internal set; }
    /// <summary>POL-10 <c>hardened</c>: partials of a detached PASID, freed at detach.</summary>
    public long PurgedPartials { get; internal set; }
    /// <summary>R23 / POL-8: flushes begun on a device that is on a queue.</summary>
    public long Flushes { get; internal set; }
    /// <summary>POL-8: groups the flushes had to wait for (the sum of their snapshots; F5 under <c>linux</c>).</summary>
    public long FlushedGroups { get; internal set; }
    /// <summary>R23: flushes of a device on no queue (Linux WARNs and returns -ENODEV).</summary>
    public long FlushesWithoutQueue { get; internal set; }
    /// <summary>R19 misuse: groups freed without a response (R8 is broken: the device is never answered).</summary>
    public long FreedUnanswered { get; internal set; }

    /// <summary>Responses passed to a driver, every code.</summary>
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
