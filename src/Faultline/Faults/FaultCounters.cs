namespace Faultline.Faults;

/// <summary>What the framework did, counted (DESIGN rule 6: nothing is lost silently).</summary>
public sealed class FaultCounters
{
    /// <summary>Faults reported (<c>iommu_report_device_fault</c> calls).</summary>
    public long Reports;
    /// <summary>Non-last faults stored as partials (R12).</summary>
    public long Partials;
    /// <summary>Groups completed by a last fault, aborted ones included (R13).</summary>
    public long Groups;
    /// <summary>Faults in those groups, last faults included.</summary>
    public long FaultsInGroups;
    /// <summary>Responses passed to a driver with SUCCESS, by a handler or by the framework.</summary>
    public long ResponsesSuccess;
    /// <summary>Responses passed to a driver with INVALID, by a handler or by the framework.</summary>
    public long ResponsesInvalid;
    /// <summary>Responses passed to a driver with FAILURE, by a handler or by the framework.</summary>
    public long ResponsesFailure;
    /// <summary>R10 / POL-1: requests answered INVALID because nothing handles them.</summary>
    public long NoHandlerAnswers;
    /// <summary>POL-1 hardened: non-last requests with no handler, dropped (their last one is answered).</summary>
    public long NoHandlerDrops;
    /// <summary>F4 hardened: partials stored while a handler was attached, dropped when their last request found none.</summary>
    public long OrphanedPartials;
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
    /// <summary>R4: partials freed when their device was removed.</summary>
    public long RemovedPartials;
    /// <summary>R24: partials freed after a hardware queue overflow.</summary>
    public long DiscardedPartials;
    /// <summary>Groups of a PASID being torn down answered INVALID before any worker ran them.</summary>
    public long CancelledAtTeardown;
    /// <summary>POL-4 <c>hardened</c>: incomplete groups dropped whole because the device held its bound of partials.</summary>
    public long EvictedPartialGroups;
    /// <summary>POL-4 <c>hardened</c>: the partial faults in those groups.</summary>
    public long EvictedPartials;
    /// <summary>POL-10 <c>hardened</c>: partials of a detached PASID, freed at detach.</summary>
    public long PurgedPartials;
    /// <summary>R23 / POL-8: flushes begun on a device that is on a queue.</summary>
    public long Flushes;
    /// <summary>POL-8: groups the flushes had to wait for (the sum of their snapshots; F5 under <c>linux</c>).</summary>
    public long FlushedGroups;
    /// <summary>R23: flushes of a device on no queue (Linux WARNs and returns -ENODEV).</summary>
    public long FlushesWithoutQueue;
    /// <summary>R19 misuse: groups freed without a response (R8 is broken: the device is never answered).</summary>
    public long FreedUnanswered;

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
