using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>Why the host resets a function's PRI (Control.Reset, H-PCI-12) once nothing of it is in flight.</summary>
internal enum PriResetReason
{
    /// <summary>No reset pending.</summary>
    None,
    /// <summary>POL-9: a guest-owned function left its fault-capable domain.</summary>
    DomainChange,
    /// <summary>POL-13: a PASID stop waits with nothing of the function in flight (credits kept by Stop Markers, H-PCI-21).</summary>
    StuckStop,
    /// <summary>POL-13: as many Stop Markers went out as the function has credits, and the host holds nothing of it:
    /// if its markers keep their credit (H-PCI-21), the next access waits for ever.</summary>
    MarkerCredits,
    /// <summary>POL-14: the IOMMU lost page requests that nothing will answer (AMD's PPR log, H-AMD-2).</summary>
    LostRequests,
}

/// <summary>
/// The host's PRI resets of a function (POL-9, POL-13, POL-14): one mechanism for every reason a function may hold
/// credits no response will return. PRI goes off first, so the function sends nothing new; what it sent before
/// arrives within one link time and is answered; the reset comes only once the host holds nothing of the function,
/// so no response reaches the function after it forgot the request (H-PCI-10). A stuck stop keeps PRI on: the
/// function has no credit to send anything, and turning PRI off would end the stop without its marker.
/// </summary>
public sealed partial class HostKernel
{
    /// <summary>How often a reset looks for a quiet function before it gives up and says so.</summary>
    private const int ResetAttempts = 10_000;

    // PASID stops under way on every function, and functions whose marker stops since their last reset reached their
    // allocation: with none and no lost requests, a batch has nothing to look at.
    private int _stopsUnderWay;
    private int _functionsAtMarkerAllocation;

    private void RequestPriReset(FunctionPort port, PriResetReason reason, GuestAttachment? guest = null)
    {
        if (port.PendingReset != PriResetReason.None) return;
        port.PendingReset = reason;
        port.ResetGuest = guest;
        if (reason != PriResetReason.StuckStop) PciAts.DisablePri(port.Function, _now);
        Emit(new HostAction { Kind = HostActionKind.PriResetPoll, Target = port.Id, Attempt = 1 });
    }

    /// <summary>Something of the function landed or was handled: a stuck stop or lost requests may now call for a reset.</summary>
    private void CheckPriResets(FunctionPort port)
    {
        if (port.PendingReset != PriResetReason.None) return;
        // POL-13: only a stop still waiting with nothing in flight costs a look; Linux waits for ever.
        if (Framework.Policy.PriResetOnStuckStop && IsStuck(port)) RequestPriReset(port, PriResetReason.StuckStop);
        // POL-13: no stop waits, but markers may hold every credit while an access waits for one at the function,
        // where the host cannot see it; with nothing of the function in flight the reset costs no request.
        else if (Framework.Policy.PriResetOnStuckStop && MarkersMayHoldEveryCredit(port) && HoldsNothingOf(port)) RequestPriReset(port, PriResetReason.MarkerCredits);
        // POL-14: the function may hold credits of requests its IOMMU lost; once the host holds nothing of it, only
        // those (or none) are left outstanding at the function.
        else if (port.MayHaveLostRequests && HoldsNothingOf(port)) RequestPriReset(port, PriResetReason.LostRequests);
    }

    /// <summary>POL-14: after a thread batch, a unit that lost page requests since it was last looked at marks its functions.</summary>
    private void NoteLostRequests(IommuUnit unit)
    {
        if (Framework.Policy.PriResetAfterLostRequests && unit.RequestLossEvents != unit.RequestLossEventsSeen)
        {
            unit.RequestLossEventsSeen = unit.RequestLossEvents;
            foreach (var port in unit.Functions.Values) port.MayHaveLostRequests = true;
        }
        LookForPriResets(unit);
    }

    /// <summary>A batch ended or commands completed on the unit: one of its functions may now be quiet enough for a reset.</summary>
    private void LookForPriResets(IommuUnit unit)
    {
        if (_stopsUnderWay == 0 && unit.RequestLossEventsSeen == 0 && _functionsAtMarkerAllocation == 0) return; // no function can call for a reset
        foreach (var port in unit.Functions.Values) CheckPriResets(port);
    }

    /// <summary>Resets and re-enables the function's PRI once the host holds nothing of it, else asks to look again.</summary>
    private void PollPriReset(in HostAction poll, long now)
    {
        _now = now;
        var port = (FunctionPort)Devices[poll.Target];
        var reason = port.PendingReset;
        if (reason == PriResetReason.StuckStop && !IsStuck(port))
        {
            port.PendingReset = PriResetReason.None; // it moved on by itself; the next thing that lands looks again
            return;
        }
        if (!HoldsNothingOf(port))
        {
            if (poll.Attempt < ResetAttempts) Emit(new HostAction { Kind = HostActionKind.PriResetPoll, Target = port.Id, Attempt = poll.Attempt + 1 });
            else Invariants.Report(RuleOf(reason), now, port.Name, $"no PRI reset: requests of the function were still in flight {ResetAttempts} interrupt times after {WhyOf(port)}");
            return;
        }
        uint held = port.Function.Pri.Outstanding;
        var error = PciAts.ResetPri(port.Function, port.Credits ?? port.Function.Pri.Allocation, now);
        port.CreditsRecoveredByReset += held;
        if (port.ResetGuest is { } guest) guest.CreditsRecoveredByReset += held;
        string rule = RuleOf(reason);
        string failed = error == PciEnableError.None ? "" : $", re-enable failed: {error}";
        Trace?.Instant(port.TraceName, port.ResetGuest is null ? "teardowns" : "guest", $"PRI reset ({rule}): {held} credits back", now, port.ResetGuest is null ? "teardown" : "guest");
        DriverTrace?.Log(null, $"{port.Name}: PRI reset after {WhyOf(port)} ({rule}): {held} credits back", now);
        _notes.Add(port.ResetGuest is { } g
            ? $"t={now}ns {g.Name}: PRI reset of {port.Name} after the domain change ({rule}): {held} credits back{failed}"
            : $"t={now}ns {port.Name}: PRI reset after {WhyOf(port)} ({rule}): {held} credits back{failed}");
        if (reason == PriResetReason.LostRequests) port.MayHaveLostRequests = false;
        // Every credit a marker kept is back; but a stop still under way (the stuck one) sends its marker after the reset.
        CountMarkerStops(port, (uint)_teardowns.Count(t => t.Device == port && t.StoppedAt is null && t.Mode == PasidStopMode.StopMarker));
        port.PendingReset = PriResetReason.None;
        port.ResetGuest = null;
    }

    private static string RuleOf(PriResetReason reason) => reason switch
    {
        PriResetReason.DomainChange => "POL-9",
        PriResetReason.StuckStop or PriResetReason.MarkerCredits => "POL-13",
        _ => "POL-14",
    };

    private static string WhyOf(FunctionPort port) => port.PendingReset switch
    {
        PriResetReason.DomainChange => $"{port.ResetGuest!.Name}'s detach",
        PriResetReason.StuckStop => "a PASID stop stuck with nothing in flight",
        PriResetReason.MarkerCredits => $"{port.MarkerStopsSinceReset} Stop Markers, as many as its credits",
        _ => $"{port.Unit.Name} lost page requests",
    };

    /// <summary>POL-13: the stops by Stop Marker the host asked of the function since its last reset, against its allocation.</summary>
    private void CountMarkerStops(FunctionPort port, uint count)
    {
        bool atAllocation = count > 0 && count >= port.Function.Pri.Allocation;
        if (atAllocation != port.MarkersAtAllocation) _functionsAtMarkerAllocation += atAllocation ? 1 : -1;
        port.MarkerStopsSinceReset = count;
        port.MarkersAtAllocation = atAllocation;
    }

    /// <summary>POL-13: the function sent a Stop Marker for as many stops as it has credits, and no stop waits now.</summary>
    private bool MarkersMayHoldEveryCredit(FunctionPort port) =>
        port.MarkersAtAllocation && port.StopsUnderWay == 0 && port.TranslationsInFlight == 0;

    /// <summary>POL-13: a stop of the function still waits, and neither the host nor a translation on its way holds anything of it.</summary>
    private bool IsStuck(FunctionPort port)
    {
        // Asked on every response and translation that lands: the counter keeps it O(1) while no stop waits.
        return port.StopsUnderWay > 0 && port.TranslationsInFlight == 0 && HoldsNothingOf(port);
    }

    /// <summary>
    /// Nothing of the function is in the IOMMU's queue (at any PASID it uses or is tearing down, or its guest's),
    /// pending in the framework, or on its way back as a response or a command.
    /// </summary>
    private bool HoldsNothingOf(FunctionPort port)
    {
        if (port.FaultDevice is { PendingCount: > 0 } || port.ResponsesInFlight > 0 || !port.Unit.CommandsIdle) return false;
        if (port.ResetGuest is { } guest && port.QueueHolds(guest.Pasid)) return false;
        foreach (uint pasid in port.BoundPasids.Values)
            if (port.QueueHolds(pasid)) return false;
        foreach (var teardown in _teardowns)
            if (teardown.Device == port && teardown.DoneAt is null && port.QueueHolds(teardown.Pasid)) return false;
        return true;
    }
}
