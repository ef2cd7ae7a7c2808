using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Pcie;
using Faultline.Sva;
using Faultline.Userspace;

namespace Faultline.Host;

/// <summary>What a worker found when it ran a fault work item (<see cref="HostKernel.RunWork"/>).</summary>
/// <param name="Ran">False when the group had gone with its device (R4): nothing to answer, the worker is free again.</param>
/// <param name="Outcome">The handler's response code and the model time it took to resolve the group.</param>
/// <param name="Group">The group the worker ran, or null when it had gone.</param>
public readonly record struct WorkRun(bool Ran, FaultWorkOutcome Outcome, FaultGroup? Group);

/// <summary>
/// The host kernel around the fault path, as one sans-IO state machine: per IOMMU a unit (hardware model and its
/// Linux driver), and the rest of what the kernel does — the fault framework, SVA binding, the iommufd context a
/// VMM drives, the IOPF workqueue's run → respond → free step, PASID teardown (R25, R33, H-SMMU-13), the POL-9
/// PRI reset, POL-5 timers, and the invariant checks. Every input takes <c>now</c>; every output is a
/// <see cref="HostAction"/> handed to the <see cref="IKernelHost"/> as it happens. It owns no thread and reads no
/// clock: the simulator drives it in virtual time, the runtime on a wall clock, with the same results.
/// </summary>
public sealed partial class HostKernel
{
    /// <summary>How often POL-9 looks for a quiet function before it gives up and says so.</summary>

    private readonly IKernelHost _host;
    private readonly List<PasidTeardown> _teardowns = [];
    // Guests whose detach waits for the drain of their PASID (VT-d, R43).
    private readonly List<GuestAttachment> _detaching = [];
    private readonly List<GuestAttachment> _guests = [];
    private IommufdContext? _iommufd;
    private uint _ioas;
    private long _now; // the input being handled: the hardware models' and iommufd's call-backs carry no time of their own

    /// <summary>A kernel with no IOMMU yet, under <paramref name="policy"/>, handing its outputs to <paramref name="host"/> and, if given, its trace to <paramref name="trace"/>.</summary>
    public HostKernel(HostSpec spec, FaultPolicy policy, IKernelHost host, IHostTrace? trace = null)
    {
        _host = host;
        Spec = spec;
        Trace = trace;
        if (trace is not null)
            Invariants.Reported = v => trace.GlobalInstant(v.Rule, v.TimeNs, "invariant", ("subject", v.Subject), ("message", v.Message));
        // POL-5: the host may shorten the deadline; a policy without one (linux) keeps none.
        if (policy.ResponseDeadlineNs is not null && spec.ResponseDeadlineNs is { } deadline)
            policy = policy with { ResponseDeadlineNs = deadline };
        Framework = new FaultFramework(policy);
        foreach (long nth in spec.FailGroupAllocations) Framework.FailAllocationAt(AllocationSite.Group, nth); // R13, POL-3
        Binder = new SvaBinder(spec.Costs);
        Framework.IsolationBreached = OnIsolationBreached;
    }

    /// <summary>The spec the kernel was built from.</summary>
    public HostSpec Spec { get; }
    /// <summary>The fault framework (io-pgfault.c) every unit reports to, under the kernel's policy.</summary>
    public FaultFramework Framework { get; }
    /// <summary>SVA binding (iommu-sva.c): PASIDs and domains per process.</summary>
    public SvaBinder Binder { get; }
    /// <summary>The invariants broken so far, checked as the kernel runs and at <see cref="CheckEnd"/>.</summary>
    public InvariantLog Invariants { get; } = new();
    /// <summary>Where the kernel traces what it does, or null.</summary>
    public IHostTrace? Trace { get; }
    /// <summary>What the kernel refused or did that a user should read (refused binds, IOPF refusals, detaches, resets).</summary>
    public IReadOnlyList<string> Notes => _notes;
    private readonly List<string> _notes = [];
    /// <summary>The IOMMU units, by <see cref="IommuUnit.Index"/>.</summary>
    public IReadOnlyList<IommuUnit> Units => _units;
    private readonly List<IommuUnit> _units = [];
    /// <summary>Functions and masters, by <see cref="DevicePort.Id"/>.</summary>
    public IReadOnlyList<DevicePort> Devices => _devices;
    private readonly List<DevicePort> _devices = [];
    /// <summary>The PCIe functions, in the order they were added.</summary>
    public IReadOnlyList<FunctionPort> Functions => _functions;
    private readonly List<FunctionPort> _functions = [];
    /// <summary>The platform stall masters, in the order they were added.</summary>
    public IReadOnlyList<MasterPort> Masters => _masters;
    private readonly List<MasterPort> _masters = [];
    /// <summary>Functions given to guests, by <see cref="GuestAttachment.Id"/>.</summary>
    public IReadOnlyList<GuestAttachment> Guests => _guests;
    /// <summary>Every PASID teardown begun, finished or not, in the order begun.</summary>
    public IReadOnlyList<PasidTeardown> Teardowns => _teardowns;

    /// <summary>
    /// Who issued an access, where the host knows (the simulator's workloads): then a group resolved in another
    /// address space than its access's, one that reuses the PASID, is reported (R25).
    /// </summary>
    public Func<DmaAccess, AddressSpace?>? AccessOwner { get; set; }

    /// <summary>Where the drivers' tracepoints and log lines go (an ftrace capture), or null; set before the first IOMMU is added.</summary>
    public IDriverTrace? DriverTrace { get; init; }

    /// <summary>The time of the input being handled, for what the drivers print from call-backs that carry none.</summary>
    internal long Now => _now;

    internal void Emit(in HostAction action) => _host.Take(action);

    // ---- topology ----

    /// <summary>Adds the IOMMU <paramref name="spec"/> describes: its hardware model and its Linux driver.</summary>
    public IommuUnit AddIommu(IommuSpec spec)
    {
        IommuUnit unit = spec.Type switch
        {
            IommuType.Smmuv3 => new Smmuv3Unit(this, spec),
            IommuType.Amd => new AmdUnit(this, spec),
            IommuType.Smmuv2 => new Smmuv2Unit(this, spec),
            _ => new VtdUnit(this, spec),
        };
        _units.Add(unit);
        return unit;
    }

    /// <summary>The driver probes the function (PASID, ATS, PRI with <paramref name="credits"/>) and enables IOPF for it (R3, R34).</summary>
    public FunctionPort AddFunction(IommuUnit unit, PriFunction function, uint? credits, long now)
    {
        _now = now;
        if (unit.Functions.ContainsKey(function.Requester))
            throw new ArgumentException($"{unit.Name} already has a function at {function.Requester}", nameof(function));
        var port = new FunctionPort(Devices.Count, unit, function, credits);
        _devices.Add(port);
        _functions.Add(port);
        unit.Functions.Add(function.Requester, port);
        var (probe, status, device, table) = unit.AddFunction(function, credits, now);
        if (function.ConfigViolations > 0)
            Invariants.Report("H-PCI-13", now, function.Name, "the host broke an enable rule of the PASID / ATS / PRI capabilities");
        port.PasidTable = table!;
        if (status == FaultStatus.Ok)
        {
            port.FaultDevice = device;
        }
        else
        {
            string why = probe != PciEnableError.None ? $"PRI not enabled ({probe})" : unit.IopfRefusal;
            _notes.Add($"{function.Name}: IOPF refused by {unit.Name} ({status.Errno()}): {why}");
        }
        return port;
    }

    /// <summary>The port whose framework device <paramref name="device"/> is, or null for a device of no port of this kernel.</summary>
    public DevicePort? PortOf(FaultDevice device) => device.Owner is DevicePort port && port.Id < _devices.Count && _devices[port.Id] == port ? port : null;

    /// <summary>A platform stall master behind an SMMUv3 (R37: only masters declared able to stall) or an SMMUv2 context bank.</summary>
    public MasterPort AddMaster(IommuUnit unit, StallMaster master, string? owner, int? contextBank, long now)
    {
        _now = now;
        var (status, device, table) = unit.AddStallMaster(master.Name, master.Config.StreamId, owner, contextBank, now);
        if (status != FaultStatus.Ok || table is null)
            throw new InvalidOperationException($"{master.Name}: {unit.Name} refused the stall master ({status.Errno()})");
        var port = new MasterPort(Devices.Count, unit, master, owner) { FaultDevice = device, PasidTable = table };
        _devices.Add(port);
        _masters.Add(port);
        unit.Masters.Add(master.Config.StreamId, port);
        return port;
    }

    /// <summary>The context bank a master's stalls go to (SMMUv2), else null.</summary>
    public static int? ContextBankOf(MasterPort master) => master.FaultDevice is { } d ? master.Unit.ContextBankOf(d) : null;

    // ---- SVA binding and teardown ----

    /// <summary>SVA-binds a process to the device; false (with a note) where that cannot be done.</summary>
    public bool Bind(DevicePort port, AddressSpace mm, long now)
    {
        _now = now;
        if (port.FaultDevice is null)
        {
            _notes.Add($"{port.Name}: cannot bind {mm.Name}: SVA needs IOPF on the device (R34)");
            return false;
        }
        if (mm.Exiting || port.BoundPasids.ContainsKey(mm.Name) || _teardowns.Any(t => t.Device == port && t.Mm == mm && t.DoneAt is null))
        {
            _notes.Add($"t={now}ns {port.Name}: bind of {mm.Name} refused: the process exited or is bound or still being unbound");
            return false;
        }
        // Without PASIDs (SMMUv2) the master's one process is bound at the RID, no global PASID taken.
        var (status, pasid) = !port.Unit.HasPasids
            ? Binder.BindAtRid(port.FaultDevice, port.PasidTable, mm)
            : Binder.Bind(port.FaultDevice, port.PasidTable, mm);
        if (status != FaultStatus.Ok)
        {
            _notes.Add($"t={now}ns {port.Name}: bind of {mm.Name} failed ({status.Errno()})");
            return false;
        }
        port.Bind(mm.Name, pasid);
        return true;
    }

    /// <summary>The device driver unbinds the process from the device: R25's teardown of that (device, PASID).</summary>
    public void Unbind(DevicePort port, AddressSpace mm, PasidStopMode mode, long now)
    {
        _now = now;
        StartTeardown(port, mm, mode, now);
    }

    /// <summary>R27: faults on an exiting mm are answered INVALID; every binding goes (R25), then the PASID.</summary>
    public void Exit(AddressSpace mm, PasidStopMode mode, long now)
    {
        _now = now;
        mm.Exiting = true;
        foreach (var port in Devices.Where(d => d.BoundPasids.ContainsKey(mm.Name)).ToList()) StartTeardown(port, mm, mode, now);
        ReleaseIfGone(mm);
    }

    /// <summary>R4: the device leaves its IOPF queue; later faults take the R10 path.</summary>
    public void RemoveDevice(DevicePort port, long now)
    {
        _now = now;
        if (port.FaultDevice is not { Queue: { } queue } device)
        {
            _notes.Add($"t={now}ns {port.Name}: remove_device ignored: not on an IOPF queue");
            return;
        }
        Framework.RemoveDevice(queue, device, now);
        _notes.Add($"t={now}ns {port.Name}: removed from {queue.Name}");
        AdvanceTeardowns(); // R4 answered and freed what a teardown's flush may be waiting for
    }

    /// <summary>The PASID of an exited process is freed once no binding and no teardown of it is left (R25).</summary>
    private void ReleaseIfGone(AddressSpace mm)
    {
        if (mm.Exiting && !Devices.Any(d => d.BoundPasids.ContainsKey(mm.Name)) && _teardowns.All(t => t.Mm != mm || t.DoneAt is not null))
            Binder.Release(mm);
    }

    /// <summary>
    /// R25 for one (device, PASID). A function stops the PASID first (H-PCI-19); a platform master has no such
    /// protocol, so its drain starts at once: the SMMU's event queue is read until none of the PASID's events is
    /// left and the flush waits for their groups (H-SMMU-13); only then may the PASID be freed and reused.
    /// </summary>
    private void StartTeardown(DevicePort port, AddressSpace mm, PasidStopMode mode, long now)
    {
        if (!port.Unbind(mm.Name, out uint pasid))
        {
            _notes.Add($"t={now}ns {port.Name}: unbind of {mm.Name} ignored: not bound");
            return;
        }
        var function = port as FunctionPort;
        _teardowns.Add(new PasidTeardown(port, mm, pasid, function is null ? null : mode, now));
        if (function is not null)
        {
            function.StopsUnderWay++; // before the stop, which may complete at once
            _stopsUnderWay++;
            if (mode == PasidStopMode.StopMarker) CountMarkerStops(function, function.MarkerStopsSinceReset + 1); // POL-13: it may keep a credit (H-PCI-21)
            function.Function.StopPasid(new Pasid(pasid), mode, now);
            CheckPriResets(function);
        }
        else
        {
            StopMasters(now);
        }
    }

    /// <summary>A master's PASID counts as stopped once none of its transactions on it is in flight or queued.</summary>
    private void StopMasters(long now)
    {
        foreach (var teardown in _teardowns)
            if (teardown is { StoppedAt: null, Device: MasterPort master } && !master.Master.Uses(teardown.Pasid)) Stopped(teardown, now);
    }

    /// <summary>
    /// H-PCI-19: the function reported that it stopped using the PASID (<see cref="DeviceMessageKind.PasidStopped"/>).
    /// It arrives behind the PASID's last page request and Stop Marker, so the drain's scan sees them (R33).
    /// </summary>
    private void PasidStopCompleted(FunctionPort port, Pasid pasid, long now)
    {
        var teardown = _teardowns.FirstOrDefault(t => t.Device == port && t.Pasid == pasid.Value && t.StoppedAt is null);
        if (teardown is not null) Stopped(teardown, now);
    }

    /// <summary>An access of a stall master ended; a master teardown may be waiting for it.</summary>
    public void MasterAccessEnded(long now)
    {
        _now = now;
        StopMasters(now);
    }

    /// <summary>R25: the device no longer uses the PASID; the IOMMU blocks it, then drains (R33) and flushes.</summary>
    private void Stopped(PasidTeardown teardown, long now)
    {
        teardown.StoppedAt = now;
        if (teardown.Device is FunctionPort function)
        {
            function.StopsUnderWay--;
            _stopsUnderWay--;
        }
        teardown.Device.PasidTable.Remove(teardown.Pasid);
        teardown.Drain = teardown.Device.Unit.BeginDrain(teardown.Device, teardown.Pasid, now);
        AdvanceTeardowns();
    }

    /// <summary>Moves every drain on; called after each event a drain may be waiting for.</summary>
    internal void AdvanceTeardowns()
    {
        foreach (var teardown in _teardowns)
        {
            if (teardown.DoneAt is not null || teardown.Drain is not { } drain || !drain.Advance(_now)) continue;
            FinishTeardown(teardown);
        }
        for (int i = 0; i < _detaching.Count; i++)
        {
            var guest = _detaching[i];
            if (!guest.DetachDrain!.Advance(_now)) continue;
            _detaching.RemoveAt(i--);
            FinishDetach(guest);
        }
    }

    private void FinishTeardown(PasidTeardown teardown)
    {
        var port = teardown.Device;
        var device = port.FaultDevice!;
        Framework.Detach(device, teardown.Pasid); // POL-10: hardened purges the PASID's partials here
        teardown.DoneAt = _now;
        Trace?.Interval(port.TraceName, "teardowns", $"unbind {teardown.Mm.Name} (pasid {teardown.Pasid})", teardown.StartedAt, _now, "teardown",
            ("stopped_at_ns", (teardown.StoppedAt ?? _now).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        // After teardown nothing of (device, PASID) is pending or partial anywhere.
        string subject = $"{port.Name} pasid {teardown.Pasid}";
        if (device.PendingCountAt(teardown.Pasid) > 0)
            Invariants.Report("R25", _now, subject, $"{device.PendingCountAt(teardown.Pasid)} groups still pending after teardown");
        if (device.PartialCountAt(teardown.Pasid) > 0)
            Invariants.Report("POL-10", _now, subject, $"{device.PartialCountAt(teardown.Pasid)} partial faults left after teardown (Linux keeps them until overflow or removal)");
        if (port.Unit.HardwareHolds(port, teardown.Pasid))
            Invariants.Report("R33", _now, subject, "page requests of the PASID still in the PRQ after the drain (Linux drains requests in flight but does not wait for them to be handled)");

        ReleaseIfGone(teardown.Mm);
    }

    // ---- guests behind iommufd ----

    /// <summary>
    /// Gives the function to a guest through iommufd, as a VMM does: bind the device, allocate a fault queue and a
    /// fault-capable, PASID-capable HWPT on it, attach it at <paramref name="pasid"/> (R39-R41); the guest's stage-1
    /// address space is the translation there. Null, with a note, where a step is refused.
    /// </summary>
    public GuestAttachment? AttachGuest(string name, FunctionPort port, uint pasid, AddressSpace mm, long now)
    {
        _now = now;
        if (port.FaultDevice is not { } device)
        {
            _notes.Add($"{name}: {port.Name} has no IOPF, so no fault-capable domain can be attached (R34)");
            return null;
        }
        var rc = AttachFaultCapable(device, port, pasid, now, out uint devId, out var queue);
        if (rc != FaultQueueErrno.None)
        {
            _notes.Add($"{name}: fault-capable HWPT on {port.Name} refused ({rc.Name()}){(port.Function.IsVirtualFunction ? ": a VF whose PF has PRI (R41)" : "")}");
            return null;
        }
        port.PasidTable.Install(pasid, mm);
        port.Bind(mm.Name, pasid);
        port.Owner = name;
        var attachment = new GuestAttachment(_guests.Count, name, port, pasid, mm, devId, queue!);
        queue!.Readable = _ =>
        {
            Emit(new HostAction { Kind = HostActionKind.FaultQueueReadable, Target = attachment.Id });
            ArmDeadline(attachment);
        };
        _guests.Add(attachment);
        return attachment;
    }

    /// <summary>The VMM's iommufd calls, in order; the first errno stops them.</summary>
    private FaultQueueErrno AttachFaultCapable(FaultDevice device, FunctionPort port, uint pasid, long now, out uint devId, out UserFaultQueue? queue)
    {
        queue = null;
        var ctx = Iommufd;
        var rc = ctx.BindDevice(device, port.Function, out devId);
        if (rc != FaultQueueErrno.None) return rc;
        rc = ctx.AllocFaultQueue(0, out uint faultId);
        if (rc != FaultQueueErrno.None) return rc;
        rc = ctx.AllocHwpt(devId, _ioas, HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid, faultId, out uint hwptId);
        if (rc != FaultQueueErrno.None) return rc;
        rc = ctx.Attach(devId, pasid, hwptId, now, out _);
        if (rc != FaultQueueErrno.None) return rc;
        queue = ctx.QueueOf(faultId);
        return FaultQueueErrno.None;
    }

    /// <summary>The host's iommufd, made when the first guest needs it, with one IOAS for every guest's HWPT.</summary>
    private IommufdContext Iommufd
    {
        get
        {
            if (_iommufd is null)
            {
                _iommufd = new IommufdContext(Framework) { FaultCapableDomainLeft = OnFaultCapableDomainLeft };
                _iommufd.AllocIoas(out _ioas);
            }
            return _iommufd;
        }
    }

    /// <summary>read(2) on a guest's fault queue (R46): whole groups, at most <paramref name="maxFaults"/> records.</summary>
    public FaultQueueResult ReadFaults(GuestAttachment guest, ICollection<UserFaultGroup> groups, int maxFaults, long now)
    {
        _now = now;
        return guest.Queue.ReadGroups(groups, maxFaults);
    }

    /// <summary>write(2) of one response record to a guest's fault queue (R47).</summary>
    public FaultQueueResult WriteResponse(GuestAttachment guest, ReadOnlySpan<byte> record, long now)
    {
        _now = now;
        var result = guest.Queue.Write(record, 0, now);
        AdvanceTeardowns(); // R23 under hardened: a flush of the guest's PASID waits for what the guest answers
        return result;
    }

    /// <summary>POL-5: a timer at the queue's next deadline; it answers what expired and re-arms.</summary>
    private void ArmDeadline(GuestAttachment guest)
    {
        if (guest.Queue.NextDeadline is not { } due || (guest.DeadlineArmedAt is { } armed && armed <= due)) return;
        guest.DeadlineArmedAt = due;
        Emit(new HostAction { Kind = HostActionKind.Timer, Target = guest.Id, At = due });
    }

    /// <summary>A timer the kernel asked for (<see cref="HostActionKind.Timer"/>) is due.</summary>
    private void OnTimer(in HostAction timer, long now)
    {
        _now = now;
        var guest = _guests[timer.Target];
        if (guest.DeadlineArmedAt != timer.At) return; // superseded by an earlier one
        guest.DeadlineArmedAt = null;
        guest.Queue.Expire(now);
        ArmDeadline(guest);
        AdvanceTeardowns(); // POL-5 answered groups a flush may wait for
    }

    /// <summary>
    /// Takes the function away from the guest: iommufd's detach (R43). The PASID's entry goes first; on VT-d the
    /// driver then drains the PASID's page requests while the guest's handle still exists, so what is in flight
    /// reaches the guest's queue as whole groups (R33), and only then does the handle go and iommufd answer every
    /// group it held INVALID, once each. Elsewhere the handle goes at once. False if iommufd refuses or a detach
    /// is already under way; the end is <see cref="HostActionKind.GuestDetached"/>.
    /// </summary>
    public bool DetachGuest(GuestAttachment guest, long now)
    {
        _now = now;
        if (guest.Detaching || Iommufd.CheckDetach(guest.DevId, guest.Pasid) != FaultQueueErrno.None) return false;
        guest.DetachStartedAt = now;
        guest.Port.PasidTable.Remove(guest.Pasid);
        if (!guest.Port.Unit.DrainsOnDetach)
        {
            FinishDetach(guest);
            return true;
        }
        guest.DetachDrain = guest.Port.Unit.BeginDrain(guest.Port, guest.Pasid, now);
        _detaching.Add(guest);
        AdvanceTeardowns();
        return true;
    }

    private void FinishDetach(GuestAttachment guest)
    {
        guest.DetachDrain = null;
        Iommufd.Detach(guest.DevId, guest.Pasid, _now); // R43: every group the handle held answered INVALID once
        guest.Port.Unbind(guest.AddressSpace.Name, out _);
        guest.Detached = true;
        Emit(new HostAction { Kind = HostActionKind.GuestDetached, Target = guest.Id });
    }

    /// <summary>
    /// The isolation invariant, checked by the framework as each group completes: every fault of a group is
    /// resolved in the domain its (device, PASID) was bound to when the group's first request arrived.
    /// </summary>
    private void OnIsolationBreached(FaultGroup group, FaultAttachment first, long now)
    {
        var last = group.LastFault;
        string why = Framework.Policy.GroupKey == GroupKeyPolicy.PrgIndexOnly ? " (R14: Linux joins partials by PRG index alone, POL-2)" : "";
        Invariants.Report("isolation", now, $"{group.Device.Name} pasid {last.Pasid}",
            $"group of PRG index 0x{last.GroupId:x} completed in {group.Attachment?.Domain}, but its first request was routed to {first.Domain}{why}");
    }

    /// <summary>
    /// iommufd answered what a guest's handle held (R43). Under POL-9 the function's PRI is then reset once nothing
    /// of it is in flight (<see cref="RequestPriReset"/>), so credits the guest's device can never get back (groups
    /// without a last request, answers that never came) return.
    /// </summary>
    private void OnFaultCapableDomainLeft(uint devId, uint pasid, int answered)
    {
        if (_guests.FirstOrDefault(g => g.DevId == devId) is not { } guest) return;
        var port = guest.Port;
        _notes.Add($"t={_now}ns {guest.Name}: {port.Name} detached from its fault-capable domain; {answered} groups answered INVALID (R43)");
        Trace?.Instant(port.TraceName, "guest", $"detach from {guest.Name}: {answered} groups answered INVALID (R43)", _now, "guest");
        if (Framework.Policy.PriResetOnDomainChange) RequestPriReset(port, PriResetReason.DomainChange, guest);
    }

    // ---- what devices send ----

    /// <summary>A device's message reaches its IOMMU; a translation request's completion goes back as an output.</summary>
    public void Receive(in DeviceMessage message, long now)
    {
        _now = now;
        var port = Devices[message.Device];
        switch (message.Kind)
        {
            case DeviceMessageKind.PageRequest:
                port.Unit.OnPageRequest(message.PageRequest, now);
                break;
            case DeviceMessageKind.TranslationRequest:
                var completion = port.Unit.Translate(message.TranslationRequest);
                ((FunctionPort)port).TranslationsInFlight++;
                Emit(new HostAction { Kind = HostActionKind.TranslationCompletion, Unit = port.Unit.Index, Target = port.Id, TranslationCompletion = completion });
                break;
            case DeviceMessageKind.InvalidationCompletion:
                port.Unit.OnInvalidationCompletion(message.InvalidationCompletion, now);
                LookForPriResets(port.Unit); // a drain's wait it released may have been the last thing in flight
                break;
            case DeviceMessageKind.PasidStopped:
                PasidStopCompleted((FunctionPort)port, message.StoppedPasid, now);
                break;
            case DeviceMessageKind.Transaction:
                port.Unit.OnTransaction(message.Transaction, now);
                break;
        }
    }

    /// <summary>H-PCI-1: the function sent a page request; it may never have more outstanding than its allocation.</summary>
    public void PageRequestSent(FunctionPort port, long now)
    {
        var pri = port.Function.Pri;
        if (pri.Outstanding > pri.Allocation)
            Invariants.Report("H-PCI-1", now, port.Name, $"{pri.Outstanding} page requests outstanding with Allocation {pri.Allocation}");
    }

    /// <summary>H-PCI-10: what the function made of a PRG Response; one for no outstanding group sets UPRGI or RF.</summary>
    public void PrgResponseTaken(FunctionPort port, in PrgResponse response, PrgResponseOutcome outcome, long now)
    {
        if (outcome is not (PrgResponseOutcome.UnexpectedIndex or PrgResponseOutcome.FailureWithoutGroup)) return;
        Invariants.Report("H-PCI-10", now, port.Name,
            $"host sent a PRG Response ({response.Code.Name()}) for index {response.Index}, which the function does not have outstanding; " +
            $"{(outcome == PrgResponseOutcome.UnexpectedIndex ? "UPRGI" : "RF")} set{QuirkBehind()}");
    }

    /// <summary>Names the documented Linux behaviour that explains a duplicate response, where one does.</summary>
    private string QuirkBehind() =>
        Framework.Policy.NoHandler == NoHandlerPolicy.AnswerEveryRequest && Framework.Counters.NoHandlerAnswers > 0
            ? " (the Linux no-handler path answers every request, last or not: R10, POL-1)"
            : "";

    // ---- what the hardware sends out, and its delivery ----

    internal void SendPrgResponse(IommuUnit unit, in PrgResponse response)
    {
        if (!unit.Functions.TryGetValue(response.Destination, out var port))
        {
            Invariants.Report("R22", _now, unit.Name, $"PRG Response for {response.Destination}, which is behind no port of this IOMMU");
            return;
        }
        port.ResponsesInFlight++;
        Emit(new HostAction { Kind = HostActionKind.PrgResponse, Unit = unit.Index, Target = port.Id, PrgResponse = response });
    }

    internal void SendInvalidateRequest(IommuUnit unit, in InvalidateRequest request)
    {
        if (!unit.Functions.TryGetValue(request.Destination, out var port))
        {
            Invariants.Report("R33", _now, unit.Name, $"device-TLB invalidation for {request.Destination}, which is behind no port of this IOMMU");
            return;
        }
        Emit(new HostAction { Kind = HostActionKind.InvalidateRequest, Unit = unit.Index, Target = port.Id, InvalidateRequest = request });
    }

    internal void EndTransaction(IommuUnit unit, in StallTransaction transaction, TransactionOutcome outcome, string rule)
    {
        if (!unit.Masters.TryGetValue(transaction.StreamId, out var master))
        {
            Invariants.Report(rule, _now, unit.Name, $"transaction of stream 0x{transaction.StreamId:x} ended, but no master has that StreamID");
            return;
        }
        Emit(new HostAction { Kind = HostActionKind.TransactionEnded, Unit = unit.Index, Target = master.Id, Transaction = transaction, Outcome = outcome });
    }

    /// <summary>
    /// An output's time has come: the host hands it back here, and the kernel delivers it to the device it is for or
    /// runs the step it names. A driver thread's batch and a worker's item take no time here (the runtime's view);
    /// a host that models their duration calls <see cref="RunThread"/> / <see cref="AfterThreadBatch"/> and
    /// <see cref="RunWork"/> / <see cref="CompleteWork"/> itself, with the time in between.
    /// </summary>
    public void Land(in HostAction action, long now)
    {
        _now = now;
        switch (action.Kind)
        {
            case HostActionKind.PrgResponse:
                var port = (FunctionPort)Devices[action.Target];
                port.ResponsesInFlight--;
                port.Function.OnPrgResponse(action.PrgResponse, now);
                CheckPriResets(port);
                break;
            case HostActionKind.InvalidateRequest:
                ((FunctionPort)Devices[action.Target]).Function.OnInvalidateRequest(action.InvalidateRequest, now);
                break;
            case HostActionKind.TranslationCompletion:
                var translated = (FunctionPort)Devices[action.Target];
                translated.TranslationsInFlight--;
                translated.Function.OnTranslationCompletion(action.TranslationCompletion, now);
                CheckPriResets(translated);
                break;
            case HostActionKind.TransactionEnded:
                ((MasterPort)Devices[action.Target]).Master.OnTransactionCompleted(action.Transaction, action.Outcome, now);
                break;
            case HostActionKind.RunThread:
                RunThread(action, now);
                AfterThreadBatch(action.Unit, now);
                break;
            case HostActionKind.ProcessCommands:
                Units[action.Unit].ProcessCommands(now);
                LookForPriResets(Units[action.Unit]); // a drain's wait may have been the last thing of a function in flight
                break;
            case HostActionKind.CompleteLogWrites:
                Units[action.Unit].CompleteLogWrites(now);
                break;
            case HostActionKind.RunWork:
                var run = RunWork(action, now);
                if (run.Ran) CompleteWork(action, run.Outcome.Code, now);
                break;
            case HostActionKind.Timer:
                OnTimer(action, now);
                break;
            case HostActionKind.PriResetPoll:
                PollPriReset(action, now);
                break;
            case HostActionKind.FaultQueueReadable:
            case HostActionKind.GuestDetached:
                throw new ArgumentException("a guest's queue turning readable or its detach ending is the host's to tell its VMM", nameof(action));
        }
    }

    // ---- driver threads, commands, workers ----

    /// <summary>Runs one batch of a driver thread (<see cref="HostActionKind.RunThread"/>); the entries it handled.</summary>
    public int RunThread(in HostAction action, long now)
    {
        _now = now;
        return Units[action.Unit].RunThread(action.Target, now);
    }

    /// <summary>A driver thread's batch is over: workers pick up what it queued (R26), drains move on.</summary>
    public void AfterThreadBatch(int unit, long now)
    {
        _now = now;
        KickWorkers(Units[unit]);
        AdvanceTeardowns();
        NoteLostRequests(Units[unit]);
    }

    /// <summary>Starts queued fault work on free workers of the unit's fault queues (R1, R26).</summary>
    private void KickWorkers(IommuUnit unit)
    {
        foreach (var queue in unit.FaultQueues)
        {
            while (unit.BusyWorkers < Spec.Workers && queue.TryDequeueWork(out var item))
                Emit(new HostAction { Kind = HostActionKind.RunWork, Unit = unit.Index, Target = unit.TakeWorker(item) });
        }
    }

    /// <summary>
    /// A worker runs its item (<see cref="HostActionKind.RunWork"/>): the handler resolves the group. The host lets
    /// the outcome's cost pass, then calls <see cref="CompleteWork"/>; a group gone with its device frees the worker at once.
    /// </summary>
    public WorkRun RunWork(in HostAction action, long now)
    {
        _now = now;
        var unit = Units[action.Unit];
        var item = unit.WorkAt(action.Target);
        if (Framework.Find(item.Group) is not { } group)
        {
            FinishWork(unit, action.Target); // the group went away with its device (R4)
            return default;
        }
        CheckOwner(unit, group, item.Work, now);
        return new WorkRun(true, item.Work.Run(group), group);
    }

    /// <summary>The workqueue's respond → free step (R18, R19); the worker takes the next item.</summary>
    public void CompleteWork(in HostAction action, PageResponseCode code, long now)
    {
        _now = now;
        var group = Units[action.Unit].WorkAt(action.Target).Group;
        Framework.Respond(group, code, now);
        Framework.Free(group);
        FinishWork(Units[action.Unit], action.Target);
        AdvanceTeardowns();
    }

    private void FinishWork(IommuUnit unit, int worker)
    {
        unit.ReleaseWorker(worker);
        KickWorkers(unit);
    }

    /// <summary>
    /// A reused PASID never gets what was meant for its previous owner (R25): the group's faults must be resolved
    /// in the address space of the process whose access raised them.
    /// </summary>
    private void CheckOwner(IommuUnit unit, FaultGroup group, IFaultWork work, long now)
    {
        // Until a PASID has been handed out again, the domain at a PASID is the only owner it ever had.
        if (work is not SvaDomain domain || AccessOwner is not { } owner || Binder.PasidsReused == 0) return;
        var last = group.LastFault;
        var requester = unit.RequesterOf(group.Device);
        if (requester is null || !unit.Functions.TryGetValue(requester.Value, out var port)) return;
        if (port.Function.AccessOfGroup(new PrgIndex((ushort)(last.GroupId & PrgIndex.Mask))) is not { } access) return;
        if (owner(access) is not { } process || process == domain.AddressSpace) return;
        Invariants.Report("R25", now, $"{port.Name} pasid {last.Pasid}",
            $"a fault of {process.Name} was resolved in the address space of {domain.AddressSpace.Name}, which reuses its PASID");
    }

    // ---- the end of a run ----

    /// <summary>Names the Linux behaviour behind what a guest's device still holds, where a guest is the cause.</summary>
    private string UnansweredGuest(FunctionPort port)
    {
        if (_guests.FirstOrDefault(g => g.Port == port) is not { } guest) return "";
        if (Framework.Policy.ResponseDeadlineNs is null && guest.Queue.Unread + guest.Queue.Unanswered > 0)
            return $" (guest {guest.Name} never answered and Linux has no response deadline: POL-5)";
        if (guest.Detached && !Framework.Policy.PriResetOnDomainChange)
            return $" (groups the device never completed; only a PRI reset frees their credits, and Linux does none when {guest.Name}'s domain changed: POL-9)";
        return "";
    }

    /// <summary>Checks what must hold once nothing is left to happen: nothing pending, outstanding or stalled anywhere.</summary>
    public void CheckEnd(long now)
    {
        _now = now;
        foreach (var port in Functions)
        {
            var f = port.Function;
            string unanswered = UnansweredGuest(port);
            string discards = port.Unit.UnansweredDiscards;
            if (f.OutstandingGroups > 0)
            {
                string why = f.Pri.ResponseFailure ? "the function stopped PRI after Response Failure (H-PCI-9) and ignores later responses" : "no response ever arrived";
                Invariants.Report(f.Pri.ResponseFailure ? "H-PCI-9" : "R8", now, f.Name, $"{f.OutstandingGroups} page request groups still outstanding: {why}{unanswered}{discards}");
            }
            if (f.ActiveAccesses > 0) Invariants.Report("R8", now, f.Name, $"{f.ActiveAccesses} DMA accesses never ended{unanswered}{discards}");
            if (port.FaultDevice is { PendingCount: > 0 } d) Invariants.Report("R18", now, f.Name, $"{d.PendingCount} groups still pending in the framework{unanswered}");
            if (f.StoppingPasids > 0) Invariants.Report("H-PCI-19", now, f.Name, $"{f.StoppingPasids} PASID stops never completed");
            if (port.FaultDevice is { PartialCount: > 0 } p)
            {
                string linger = Framework.Policy.DetachedPartials == DetachedPartialsPolicy.Linger ? " (Linux keeps them until overflow or removal: POL-10)" : "";
                Invariants.Report("R14", now, f.Name, $"{p.PartialCount} partial faults never completed by a last request{linger}{discards}");
            }
        }
        foreach (var port in Masters)
        {
            if (!port.Master.Idle) Invariants.Report("H-SMMU-6", now, port.Name, $"{port.Master.Outstanding} transactions never ended and {port.Master.Queued} never issued");
            if (port.FaultDevice is { PendingCount: > 0 } d) Invariants.Report("R18", now, port.Name, $"{d.PendingCount} stall groups still pending in the framework");
        }
        foreach (var unit in Units) unit.CheckEnd(Invariants, now);
        foreach (var guest in _detaching)
            Invariants.Report("R43", now, guest.Name, $"detach started at {guest.DetachStartedAt} ns never completed (drain stage: {guest.DetachDrain!.StageName})");
        foreach (var t in _teardowns.Where(t => t.DoneAt is null))
            Invariants.Report("R25", now, $"{t.Device.Name} pasid {t.Pasid}", $"teardown started at {t.StartedAt} ns never completed (stage: {(t.StoppedAt is null ? "PASID stop" : t.Drain?.StageName)})");
        if (Framework.GroupsInUse > 0)
        {
            long held = _guests.Sum(g => (long)g.Queue.Unread + g.Queue.Unanswered);
            string why = held > 0 && Framework.Policy.ResponseDeadlineNs is null ? $" ({held} held by guest fault queues whose users never answered; Linux has no response deadline: POL-5)" : "";
            Invariants.Report("R19", now, "framework", $"{Framework.GroupsInUse} groups never freed{why}");
        }
        if (Framework.Counters.FreedUnanswered > 0) Invariants.Report("R8", now, "framework", $"{Framework.Counters.FreedUnanswered} groups freed without a response");
        CheckConservation(now);
    }

    /// <summary>
    /// Every counter conserved (DESIGN rule 6): what went in came out, was dropped where a rule says so, or is still
    /// held — each relation named in its message, so a model change that loses or invents a request shows here.
    /// </summary>
    private void CheckConservation(long now)
    {
        foreach (var port in Functions)
        {
            var f = port.Function;
            var c = f.Counters;
            long groups = c.GroupsAnswered + c.DiscardedAfterStop + c.GroupsForgotten + f.OutstandingGroups;
            if (c.Groups != groups)
                Invariants.Report("conservation", now, f.Name, $"{c.Groups} groups sent, but {c.GroupsAnswered} answered + {c.DiscardedAfterStop} discarded after a Stop Marker + {c.GroupsForgotten} forgotten by a PRI reset + {f.OutstandingGroups} outstanding = {groups}");
            long accesses = c.AccessesCompleted + c.AccessesFailed + f.ActiveAccesses;
            if (c.AccessesStarted != accesses)
                Invariants.Report("conservation", now, f.Name, $"{c.AccessesStarted} accesses started, but {c.AccessesCompleted} completed + {c.AccessesFailed} failed + {f.ActiveAccesses} active = {accesses}");
        }
        foreach (var unit in Units)
        {
            var r = unit.Report(now);
            long taken = r.Queued + r.RefusedAtGate + r.DiscardedFull + r.DiscardedWhileOverflowed;
            if (r.PageRequestsReceived != taken)
                Invariants.Report("conservation", now, unit.Name, $"{r.PageRequestsReceived} page requests received, but {r.Queued} queued + {r.RefusedAtGate} refused at the gate + {r.DiscardedFull} discarded full + {r.DiscardedWhileOverflowed} discarded while overflowed = {taken}");
        }
        var fc = Framework.Counters;
        long pending = Devices.Sum(d => (long)(d.FaultDevice?.PendingCount ?? 0));
        long answered = fc.ResponsesSuccess + fc.ResponsesInvalid + fc.ResponsesFailure;
        if (fc.Groups + fc.NoHandlerAnswers != answered + pending + fc.FreedUnanswered)
            Invariants.Report("conservation", now, "framework", $"{fc.Groups} groups + {fc.NoHandlerAnswers} no-handler answers, but {answered} responses + {pending} pending + {fc.FreedUnanswered} freed unanswered = {answered + pending + fc.FreedUnanswered}");
    }
}
