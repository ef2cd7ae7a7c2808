using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using Faultline.Sva;
using Faultline.Userspace;

namespace Faultline.Simulation;

/// <summary>
/// The simulator's host for the sans-IO core: it owns the virtual clock and decides when each
/// message, interrupt, worker and command lands (one <see cref="Timing"/> parameter per hop). It
/// also watches the run: every function event passes through it to the invariant log and metrics.
/// </summary>
internal sealed class Platform : IVtdPlatform, IPriFunctionObserver
{
    private readonly Dictionary<VtdIommu, IommuNode> _iommuNodes = new();
    private readonly Dictionary<PriFunction, FunctionNode> _functionNodes = new();
    private readonly Dictionary<long, WorkloadRunner> _accessOwners = new();
    private readonly List<PasidTeardown> _teardowns = [];
    private long _lastAccessId;

    public Platform(Scenario scenario, FaultPolicy policy, ulong seed)
    {
        Scenario = scenario;
        Timing = scenario.Timing;
        // POL-5: the scenario may shorten the deadline; a policy without one (linux) keeps none.
        if (policy.ResponseDeadlineNs is not null && scenario.Host.ResponseDeadlineNs is { } deadline)
            policy = policy with { ResponseDeadlineNs = deadline };
        Framework = new FaultFramework(policy);
        foreach (long nth in scenario.Host.FailGroupAllocations) Framework.FailAllocationAt(AllocationSite.Group, nth); // R13, POL-3
        Random = new SimRandom(seed);
        Binder = new SvaBinder(scenario.Host.Costs);
    }

    public Scenario Scenario { get; }
    public Timing Timing { get; }
    public Scheduler Scheduler { get; } = new();
    public FaultFramework Framework { get; }
    public SimRandom Random { get; }
    public SvaBinder Binder { get; }
    public InvariantLog Invariants { get; } = new();
    public LatencyRecorder FaultLatency { get; } = new();
    public LatencyRecorder AccessLatency { get; } = new();
    public List<IommuNode> Iommus { get; } = [];
    public List<FunctionNode> Functions { get; } = [];
    public Dictionary<string, AddressSpace> Processes { get; } = new();
    public List<WorkloadRunner> Workloads { get; } = [];
    public List<Guest> Guests { get; } = [];
    /// <summary>Fault latency by tenant: the process whose PASID the response carried, or the guest owning the device.</summary>
    public Dictionary<string, LatencyRecorder> TenantFaultLatency { get; } = new();
    public List<string> Notes { get; } = [];

    public long Now => Scheduler.Now;

    public IommuNode AddIommu(IommuSpec spec)
    {
        var hw = new VtdIommu(new VtdConfig
        {
            Name = spec.Name,
            PageRequestQueueOrder = spec.PageRequestQueueOrder,
            DiscardAutoResponse = spec.DiscardAutoResponse,
            PageDrainSupported = spec.PageDrainSupported,
        }, this);
        var node = new IommuNode(spec.Name, hw, new VtdDriver(hw, Framework, Scenario.Host.VirtualAddressBits));
        _iommuNodes.Add(hw, node);
        Iommus.Add(node);
        return node;
    }

    public FunctionNode AddFunction(DeviceSpec spec, IommuNode iommu)
    {
        var node = new FunctionNode(this, spec, iommu);
        var function = new PriFunction(new PriFunctionConfig
        {
            Name = spec.Name,
            Requester = spec.Requester,
            Capacity = spec.Capacity,
            PagesPerGroup = spec.PagesPerGroup,
            AtcEntries = spec.AtcEntries,
            RetryLimit = spec.RetryLimit,
            PrgResponsePasidRequired = spec.PrgResponsePasidRequired,
            StopMarkerConsumesCredit = spec.StopMarkerConsumesCredit,
            OmitLastEvery = spec.OmitLastEvery,
        }, node, this);
        node.Function = function;
        _functionNodes.Add(function, node);
        iommu.Functions.Add(spec.Requester, node);
        Functions.Add(node);

        var probe = iommu.Driver.ProbeDevice(function, Now, spec.Credits);
        if (function.ConfigViolations > 0)
            Invariants.Report("H-PCI-13", Now, spec.Name, "the host broke an enable rule of the PASID / ATS / PRI capabilities");
        var (status, device, table) = iommu.Driver.AddDevice(function, spec.Name);
        if (status == FaultStatus.Ok)
        {
            node.FaultDevice = device;
            node.PasidTable = table!;
        }
        else
        {
            node.PasidTable = iommu.Hardware.SetContext(spec.Requester, pageRequestEnable: false);
            string why = probe != PciEnableError.None ? $"PRI not enabled ({probe})" : "no page-drain support (H-VTD-14)";
            Notes.Add($"{spec.Name}: IOPF refused by {iommu.Name} ({status.Errno()}): {why}");
        }
        return node;
    }

    /// <summary>SVA-binds a process to the function; false (with a note) where that cannot be done.</summary>
    public bool Bind(FunctionNode node, AddressSpace mm)
    {
        if (node.FaultDevice is null)
        {
            Notes.Add($"{node.Name}: cannot bind {mm.Name}: SVA needs IOPF on the device (R34)");
            return false;
        }
        if (mm.Exiting || node.Pasids.ContainsKey(mm.Name) || _teardowns.Any(t => t.Node == node && t.Mm == mm && t.DoneAt is null))
        {
            Notes.Add($"t={Now}ns {node.Name}: bind of {mm.Name} refused: the process exited or is bound or still being unbound");
            return false;
        }
        var (status, pasid) = Binder.Bind(node.FaultDevice, node.PasidTable, mm);
        if (status != FaultStatus.Ok)
        {
            Notes.Add($"t={Now}ns {node.Name}: bind of {mm.Name} failed ({status.Errno()})");
            return false;
        }
        node.Pasids.Add(mm.Name, pasid);
        return true;
    }

    /// <summary>
    /// Gives the function to a guest through iommufd: a fault queue of its own, a fault-capable HWPT
    /// attached at the guest's PASID with the guest's stage-1 address space as translation (R40, R41).
    /// </summary>
    public void AddGuest(GuestSpec spec, FunctionNode node, AddressSpace mm)
    {
        if (node.FaultDevice is not { } device)
        {
            Notes.Add($"{spec.Name}: {node.Name} has no IOPF, so no fault-capable domain can be attached (R34)");
            return;
        }
        if (FaultCapableAttach.Check(node.Function) is var refused and not FaultQueueErrno.None)
        {
            Notes.Add($"{spec.Name}: fault-capable HWPT on {node.Name} refused ({refused.Name()}): a VF whose PF has PRI (R41)");
            return;
        }
        uint id = (uint)Guests.Count + 1;
        var queue = new UserFaultQueue(Framework, id, Scheduler.Time);
        queue.AddHwptReference();
        var attachment = queue.CreateAttachment(id, $"iommufd-iopf-hwpt:{spec.Name}", (int)node.Function.Pri.Allocation);
        device.Attach(spec.Pasid, attachment);
        node.PasidTable.Install(spec.Pasid, mm);
        node.Pasids.Add(mm.Name, spec.Pasid);
        node.Owner = spec.Name;
        var guest = new Guest(this, spec, node, mm, queue, attachment, Random.Fork($"guest:{spec.Name}"));
        queue.Readable = _ =>
        {
            guest.OnReadable();
            ArmDeadline(guest);
        };
        Guests.Add(guest);
        if (spec.DetachAtNs is { } at) Scheduler.At(at, () => DetachGuest(guest));
    }

    /// <summary>POL-5: a timer at the queue's next deadline; it answers what expired and re-arms.</summary>
    private void ArmDeadline(Guest guest)
    {
        if (guest.Queue.NextDeadline is not { } due || (guest.DeadlineArmedAt is { } armed && armed <= due)) return;
        guest.DeadlineArmedAt = due;
        Scheduler.At(Math.Max(due, Now), () =>
        {
            if (guest.DeadlineArmedAt != due) return; // superseded by an earlier one
            guest.DeadlineArmedAt = null;
            guest.Queue.Expire(Now);
            ArmDeadline(guest);
        });
    }

    /// <summary>
    /// The host takes the function away from the guest's domain (R28, R43): detach, then every group the
    /// handle delivered is answered INVALID. Under POL-9 the function's PRI is reset once nothing of it is
    /// left in flight, so credits the guest's device can never get back (groups without a last request,
    /// answers that never came) return.
    /// </summary>
    private void DetachGuest(Guest guest)
    {
        var node = guest.Node;
        if (Framework.Detach(node.FaultDevice!, guest.Spec.Pasid) is null) return;
        node.PasidTable.Remove(guest.Spec.Pasid);
        node.Pasids.Remove(guest.AddressSpace.Name);
        int answered = guest.Queue.AutoRespond(guest.Attachment);
        Notes.Add($"t={Now}ns {guest.Spec.Name}: {node.Name} detached from its fault-capable domain; {answered} groups answered INVALID (R43)");
        guest.OnDetached();
        if (!Framework.Policy.PriResetOnDomainChange) return;
        // POL-9: PRI off first, so the function sends nothing new; what it sent before arrives within one
        // link time and is answered. Resetting only once all of that is through means no response can
        // reach the function after it forgot the request (H-PCI-10).
        PciAts.DisablePri(node.Function, Now);
        Scheduler.After(Timing.LinkNs, () => ResetPriWhenQuiet(guest));
    }

    /// <summary>POL-9: waits until the driver holds nothing of the function, then resets and re-enables PRI.</summary>
    private void ResetPriWhenQuiet(Guest guest)
    {
        var node = guest.Node;
        var driver = node.Iommu.Driver;
        bool quiet = !driver.RingHolds(node.Spec.Requester, guest.Spec.Pasid) && node.FaultDevice!.PendingCount == 0
            && driver.WaitingSubmissions == 0 && node.Iommu.Hardware.InvalidationQueue.IsEmpty && node.ResponsesInFlight == 0;
        if (!quiet)
        {
            Scheduler.After(Timing.InterruptNs, () => ResetPriWhenQuiet(guest));
            return;
        }
        uint held = node.Function.Pri.Outstanding;
        var error = PciAts.ResetPri(node.Function, node.Spec.Credits ?? node.Function.Pri.Allocation, Now);
        guest.CreditsRecoveredByReset += held;
        Notes.Add($"t={Now}ns {guest.Spec.Name}: PRI reset of {node.Name} after the domain change (POL-9): {held} credits back{(error == PciEnableError.None ? "" : $", re-enable failed: {error}")}");
    }

    /// <summary>Schedules what the scenario makes happen at given times.</summary>
    public void Schedule(ScenarioEvent e, IReadOnlyDictionary<string, FunctionNode> functions)
    {
        Scheduler.At(e.AtNs, () =>
        {
            switch (e)
            {
                case BindEvent b:
                    Bind(functions[b.Device], Processes[b.Process]);
                    break;
                case UnbindEvent u:
                    StartTeardown(functions[u.Device], Processes[u.Process], u.Stop);
                    break;
                case ExitEvent x:
                    Exit(Processes[x.Process], x.Stop);
                    break;
                case RemoveDeviceEvent r:
                    RemoveDevice(functions[r.Device]);
                    break;
            }
        });
    }

    /// <summary>R27: faults on an exiting mm are answered INVALID; every binding goes (R25), then the PASID.</summary>
    private void Exit(AddressSpace mm, PasidStopMode mode)
    {
        mm.Exiting = true;
        foreach (var node in Functions.Where(f => f.Pasids.ContainsKey(mm.Name)).ToList()) StartTeardown(node, mm, mode);
        ReleaseIfGone(mm);
    }

    /// <summary>The PASID of an exited process is freed once no binding and no teardown of it is left (R25).</summary>
    private void ReleaseIfGone(AddressSpace mm)
    {
        if (mm.Exiting && !Functions.Any(f => f.Pasids.ContainsKey(mm.Name)) && _teardowns.All(t => t.Mm != mm || t.DoneAt is not null))
            Binder.Release(mm);
    }

    private void StartTeardown(FunctionNode node, AddressSpace mm, PasidStopMode mode)
    {
        if (!node.Pasids.Remove(mm.Name, out uint pasid))
        {
            Notes.Add($"t={Now}ns {node.Name}: unbind of {mm.Name} ignored: not bound");
            return;
        }
        var teardown = new PasidTeardown(node, mm, pasid, mode, Now);
        _teardowns.Add(teardown);
        node.Function.StopPasid(new Pasid(pasid), mode, Now);
    }

    /// <summary>R4 as a run event: the device leaves its IOPF queue; later faults take the R10 path.</summary>
    private void RemoveDevice(FunctionNode node)
    {
        if (node.FaultDevice is not { Queue: { } queue } device)
        {
            Notes.Add($"t={Now}ns {node.Name}: remove_device ignored: not on an IOPF queue");
            return;
        }
        Framework.RemoveDevice(queue, device);
        Notes.Add($"t={Now}ns {node.Name}: removed from {queue.Name}");
    }

    public void PasidStopCompleted(PriFunction function, Pasid pasid, long now)
    {
        var teardown = _teardowns.FirstOrDefault(t => t.Node.Function == function && t.Pasid == pasid.Value && t.StoppedAt is null);
        if (teardown is null) return;
        teardown.StoppedAt = now;
        // R25: the IOMMU blocks the PASID, then drains (R33) and flushes.
        teardown.Node.PasidTable.Remove(pasid.Value);
        teardown.Drain = teardown.Node.Iommu.Driver.BeginDrain(teardown.Node.FaultDevice!, pasid.Value, now);
        AdvanceTeardowns();
    }

    /// <summary>Moves every drain on; the host calls it after each event a drain may be waiting for.</summary>
    private void AdvanceTeardowns()
    {
        foreach (var teardown in _teardowns)
        {
            if (teardown.DoneAt is not null || teardown.Drain is not { } drain || !drain.Advance(Now)) continue;
            FinishTeardown(teardown);
        }
    }

    private void FinishTeardown(PasidTeardown teardown)
    {
        var node = teardown.Node;
        var device = node.FaultDevice!;
        Framework.Detach(device, teardown.Pasid); // POL-10: hardened purges the PASID's partials here
        teardown.DoneAt = Now;

        // Issue acceptance: after teardown nothing of (device, PASID) is pending or partial anywhere.
        string subject = $"{node.Name} pasid {teardown.Pasid}";
        if (device.PendingCountAt(teardown.Pasid) > 0)
            Invariants.Report("R25", Now, subject, $"{device.PendingCountAt(teardown.Pasid)} groups still pending after teardown");
        if (device.PartialCountAt(teardown.Pasid) > 0)
            Invariants.Report("POL-10", Now, subject, $"{device.PartialCountAt(teardown.Pasid)} partial faults left after teardown (Linux keeps them until overflow or removal)");
        if (node.Iommu.Driver.RingHolds(node.Spec.Requester, teardown.Pasid))
            Invariants.Report("R33", Now, subject, "page requests of the PASID still in the PRQ after the drain (Linux drains requests in flight but does not wait for them to be handled)");

        ReleaseIfGone(teardown.Mm);
    }

    public IReadOnlyList<PasidTeardown> Teardowns => _teardowns;

    public long NextAccessId() => ++_lastAccessId;

    public void OwnAccess(long id, WorkloadRunner runner) => _accessOwners.Add(id, runner);

    // ---- IVtdPlatform: when the hardware's outputs land ----

    public void RaisePageRequestEvent(VtdIommu iommu)
    {
        var node = _iommuNodes[iommu];
        if (node.ThreadScheduled) return;
        node.ThreadScheduled = true;
        Scheduler.At(Math.Max(Now + Timing.InterruptNs, node.ThreadBusyUntil), () => RunPageRequestThread(node));
    }

    public void InvalidationQueued(VtdIommu iommu)
    {
        var node = _iommuNodes[iommu];
        if (node.InvalidationScheduled) return;
        node.InvalidationScheduled = true;
        Scheduler.After(Timing.ResponseCommandNs, () =>
        {
            node.InvalidationScheduled = false;
            node.Hardware.ProcessInvalidationQueue();
            node.Driver.RetrySubmissions();
        });
    }

    public void SendInvalidateRequest(VtdIommu iommu, in InvalidateRequest request)
    {
        var r = request;
        var node = _iommuNodes[iommu];
        if (!node.Functions.TryGetValue(r.Destination, out var target))
        {
            Invariants.Report("R33", Now, node.Name, $"device-TLB invalidation for {r.Destination}, which is behind no port of this IOMMU");
            return;
        }
        Scheduler.After(Timing.LinkNs, () => target.Function.OnInvalidateRequest(r, Now));
    }

    public void InvalidationWaitCompleted(VtdIommu iommu, in InvalidationWaitDescriptor wait)
    {
        _iommuNodes[iommu].Driver.OnInvalidationWaitCompleted(wait);
        AdvanceTeardowns();
    }

    public void SendPrgResponse(VtdIommu iommu, in PrgResponse response)
    {
        var r = response;
        var node = _iommuNodes[iommu];
        if (!node.Functions.TryGetValue(r.Destination, out var target))
        {
            Invariants.Report("R22", Now, node.Name, $"PRG Response for {r.Destination}, which is behind no port of this IOMMU");
            return;
        }
        target.ResponsesInFlight++;
        Scheduler.After(Timing.LinkNs, () =>
        {
            target.ResponsesInFlight--;
            target.Function.OnPrgResponse(r, Now);
        });
    }

    // ---- IPriFunctionObserver: what the functions saw ----

    public void PageRequestSent(PriFunction function, in PageRequest request, long now)
    {
        if (function.Pri.Outstanding > function.Pri.Allocation)
            Invariants.Report("H-PCI-1", now, function.Name, $"{function.Pri.Outstanding} page requests outstanding with Allocation {function.Pri.Allocation}");
    }

    public void PrgResponseReceived(PriFunction function, in PrgResponse response, PrgResponseOutcome outcome, long latency, long now)
    {
        var node = _functionNodes[function];
        switch (outcome)
        {
            case PrgResponseOutcome.Matched:
                FaultLatency.Add(latency);
                node.FaultLatency.Add(latency);
                if (TenantOf(node, response.Pasid?.Value) is { } tenant)
                {
                    if (!TenantFaultLatency.TryGetValue(tenant, out var recorder)) TenantFaultLatency.Add(tenant, recorder = new LatencyRecorder());
                    recorder.Add(latency);
                }
                break;
            case PrgResponseOutcome.UnexpectedIndex:
            case PrgResponseOutcome.FailureWithoutGroup:
                Invariants.Report("H-PCI-10", now, function.Name,
                    $"host sent a PRG Response ({response.Code.Name()}) for index {response.Index}, which the function does not have outstanding; " +
                    $"{(outcome == PrgResponseOutcome.UnexpectedIndex ? "UPRGI" : "RF")} set{QuirkBehind()}");
                break;
        }
    }

    /// <summary>The tenant a response belongs to: the guest that owns the device, else the process on that PASID.</summary>
    private static string? TenantOf(FunctionNode node, uint? pasid)
    {
        if (node.Owner is { } guest) return guest;
        if (pasid is not { } p) return null;
        foreach (var (process, bound) in node.Pasids) if (bound == p) return process;
        return null;
    }

    /// <summary>Names the documented Linux behaviour that explains a duplicate response, where one does.</summary>
    private string QuirkBehind() =>
        Framework.Policy.NoHandler == NoHandlerPolicy.AnswerEveryRequest && Framework.Counters.NoHandlerAnswers > 0
            ? " (the Linux no-handler path answers every request, last or not: R10, POL-1)"
            : "";

    public void AccessEnded(PriFunction function, DmaAccess access, AccessResult result, long now)
    {
        var node = _functionNodes[function];
        node.Results[(int)result]++;
        if (_accessOwners.Remove(access.Id, out var runner))
        {
            long took = now - runner.StartedAt(access.Id);
            AccessLatency.Add(took);
            runner.Ended(access.Id, result, took, now);
        }
    }

    // ---- host threads ----

    /// <summary>The driver's page request thread; it stays busy ReportNs per descriptor.</summary>
    private void RunPageRequestThread(IommuNode node)
    {
        node.ThreadScheduled = false;
        int handled = node.Driver.HandlePageRequests();
        node.ThreadBusyUntil = Now + handled * Timing.ReportNs;
        Scheduler.At(node.ThreadBusyUntil, () =>
        {
            KickWorkers(node);
            AdvanceTeardowns();
        });
    }

    /// <summary>Starts queued fault work on free workers of the IOMMU's fault queue (R1, R26).</summary>
    private void KickWorkers(IommuNode node)
    {
        while (node.BusyWorkers < Scenario.Host.Workers && node.Driver.Queue.TryDequeueWork(out var item))
        {
            node.BusyWorkers++;
            Scheduler.After(Timing.HandlerWakeupNs, () => RunWork(node, item));
        }
    }

    private void RunWork(IommuNode node, FaultWorkItem item)
    {
        if (Framework.Find(item.Group) is not { } group)
        {
            FinishWork(node); // the group went away with its device (R4)
            return;
        }
        CheckOwner(node, group, item.Work);
        var outcome = item.Work.Run(group);
        Scheduler.After(outcome.CostNanoseconds, () =>
        {
            Framework.Respond(item.Group, outcome.Code);
            Framework.Free(item.Group);
            FinishWork(node);
            AdvanceTeardowns();
        });
    }

    /// <summary>
    /// Issue acceptance: a reused PASID never gets what was meant for its previous owner. The group's
    /// faults must be resolved in the address space of the process whose access raised them.
    /// </summary>
    private void CheckOwner(IommuNode iommu, FaultGroup group, IFaultWork work)
    {
        if (work is not SvaDomain domain) return;
        var last = group.LastFault;
        var requester = iommu.Driver.RequesterOf(group.Device);
        if (requester is null || !iommu.Functions.TryGetValue(requester.Value, out var node)) return;
        if (node.Function.AccessOfGroup(new PrgIndex((ushort)(last.GroupId & PrgIndex.Mask))) is not { } access) return;
        if (!_accessOwners.TryGetValue(access.Id, out var runner) || runner.Process == domain.AddressSpace) return;
        Invariants.Report("R25", Now, $"{node.Name} pasid {last.Pasid}",
            $"a fault of {runner.Process.Name} was resolved in the address space of {domain.AddressSpace.Name}, which reuses its PASID");
    }

    private void FinishWork(IommuNode node)
    {
        node.BusyWorkers--;
        KickWorkers(node);
    }

    /// <summary>Names the Linux behaviour behind what a guest's device still holds, where a guest is the cause.</summary>
    private string UnansweredGuest(FunctionNode node)
    {
        if (Guests.FirstOrDefault(g => g.Node == node) is not { } guest) return "";
        if (Framework.Policy.ResponseDeadlineNs is null && guest.Queue.Unread + guest.Queue.Unanswered > 0)
            return $" (guest {guest.Spec.Name} never answered and Linux has no response deadline: POL-5)";
        if (guest.Detached && !Framework.Policy.PriResetOnDomainChange)
            return $" (groups the device never completed; only a PRI reset frees their credits, and Linux does none when {guest.Spec.Name}'s domain changed: POL-9)";
        return "";
    }

    /// <summary>Checks what must hold once the run is over (issue acceptance: nothing left pending).</summary>
    public void CheckEnd(bool quiesced)
    {
        if (!quiesced)
            Invariants.Report("quiescence", Now, Scenario.Name, $"events still pending at the time limit ({Scenario.TimeLimitNs} ns): livelock or a workload too long for the limit");
        foreach (var node in Functions)
        {
            var f = node.Function;
            string unanswered = UnansweredGuest(node);
            if (f.OutstandingGroups > 0)
            {
                string why = f.Pri.ResponseFailure ? "the function stopped PRI after Response Failure (H-PCI-9) and ignores later responses" : "no response ever arrived";
                Invariants.Report(f.Pri.ResponseFailure ? "H-PCI-9" : "R8", Now, f.Name, $"{f.OutstandingGroups} page request groups still outstanding: {why}{unanswered}");
            }
            if (f.ActiveAccesses > 0) Invariants.Report("R8", Now, f.Name, $"{f.ActiveAccesses} DMA accesses never ended{unanswered}");
            if (node.FaultDevice is { PendingCount: > 0 } d) Invariants.Report("R18", Now, f.Name, $"{d.PendingCount} groups still pending in the framework{unanswered}");
            if (f.StoppingPasids > 0) Invariants.Report("H-PCI-19", Now, f.Name, $"{f.StoppingPasids} PASID stops never completed");
            if (node.FaultDevice is { PartialCount: > 0 } p)
            {
                string linger = Framework.Policy.DetachedPartials == DetachedPartialsPolicy.Linger ? " (Linux keeps them until overflow or removal: POL-10)" : "";
                Invariants.Report("R14", Now, f.Name, $"{p.PartialCount} partial faults never completed by a last request{linger}");
            }
        }
        foreach (var node in Iommus)
        {
            if (!node.Hardware.PageRequestQueue.IsEmpty) Invariants.Report("R31", Now, node.Name, $"{node.Hardware.PageRequestQueue.Count} page request descriptors left in the queue");
            if (node.Driver.Queue.QueuedWork > 0) Invariants.Report("R26", Now, node.Name, $"{node.Driver.Queue.QueuedWork} fault work items never ran");
        }
        foreach (var t in _teardowns.Where(t => t.DoneAt is null))
            Invariants.Report("R25", Now, $"{t.Node.Name} pasid {t.Pasid}", $"teardown started at {t.StartedAt} ns never completed (stage: {(t.StoppedAt is null ? "PASID stop" : t.Drain?.Stage.ToString())})");
        if (Framework.GroupsInUse > 0)
        {
            long held = Guests.Sum(g => (long)g.Queue.Unread + g.Queue.Unanswered);
            string why = held > 0 && Framework.Policy.ResponseDeadlineNs is null ? $" ({held} held by guest fault queues whose users never answered; Linux has no response deadline: POL-5)" : "";
            Invariants.Report("R19", Now, "framework", $"{Framework.GroupsInUse} groups never freed{why}");
        }
        if (Framework.Counters.FreedUnanswered > 0) Invariants.Report("R8", Now, "framework", $"{Framework.Counters.FreedUnanswered} groups freed without a response");
    }
}

/// <summary>One IOMMU in the topology: hardware, driver, and the host threads that serve it.</summary>
internal sealed class IommuNode(string name, VtdIommu hardware, VtdDriver driver)
{
    public string Name { get; } = name;
    public VtdIommu Hardware { get; } = hardware;
    public VtdDriver Driver { get; } = driver;
    public Dictionary<RequesterId, FunctionNode> Functions { get; } = new();
    public bool ThreadScheduled { get; set; }
    public long ThreadBusyUntil { get; set; }
    public bool InvalidationScheduled { get; set; }
    public int BusyWorkers { get; set; }
}

/// <summary>One PCIe function in the topology, and its link: every TLP takes <see cref="Timing.LinkNs"/>.</summary>
internal sealed class FunctionNode(Platform platform, DeviceSpec spec, IommuNode iommu) : IUpstreamPort
{
    public string Name => Spec.Name;
    public DeviceSpec Spec { get; } = spec;
    public IommuNode Iommu { get; } = iommu;
    public PriFunction Function { get; set; } = null!;
    public FaultDevice? FaultDevice { get; set; }
    public IPasidTable PasidTable { get; set; } = null!;
    public Dictionary<string, uint> Pasids { get; } = new();
    /// <summary>The guest that owns the function, or null for a host device.</summary>
    public string? Owner { get; set; }
    /// <summary>PRG Responses on the link toward the function.</summary>
    public int ResponsesInFlight { get; set; }
    public long[] Results { get; } = new long[Enum.GetValues<AccessResult>().Length];
    public LatencyRecorder FaultLatency { get; } = new();

    public void SendTranslationRequest(in TranslationRequest request)
    {
        var r = request;
        var s = platform.Scheduler;
        // ATS requests and page requests share the link; FIFO with one latency keeps them in order.
        s.After(platform.Timing.LinkNs, () =>
        {
            var completion = Iommu.Hardware.Translate(r);
            s.After(platform.Timing.TranslationNs + platform.Timing.LinkNs, () => Function.OnTranslationCompletion(completion, s.Now));
        });
    }

    public void SendPageRequest(in PageRequest request)
    {
        var r = request;
        platform.Scheduler.After(platform.Timing.LinkNs, () => Iommu.Hardware.OnPageRequest(r));
    }

    /// <summary>H-PCI-18: same link, same latency, so it cannot overtake page requests sent before it.</summary>
    public void SendInvalidationCompletion(in InvalidationCompletion completion)
    {
        var c = completion;
        platform.Scheduler.After(platform.Timing.LinkNs, () =>
        {
            Iommu.Hardware.OnInvalidationCompletion(c);
            Iommu.Driver.RetrySubmissions();
        });
    }
}
