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
internal sealed class Platform : IPriFunctionObserver
{
    private readonly Dictionary<PriFunction, FunctionNode> _functionNodes = new();
    private readonly Dictionary<long, WorkloadRunner> _accessOwners = new();
    private readonly List<PasidTeardown> _teardowns = [];
    private IommufdContext? _iommufd;
    private uint _ioas;
    private long _lastAccessId;

    public Platform(Scenario scenario, FaultPolicy policy, ulong seed, TraceRecorder? trace = null)
    {
        Trace = trace;
        if (trace is not null)
            Invariants.Reported = v => trace.GlobalInstant(v.Rule, v.TimeNs, "invariant", ("subject", v.Subject), ("message", v.Message));
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
    /// <summary>The Perfetto trace being recorded, or null.</summary>
    public TraceRecorder? Trace { get; }
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
    public List<MasterNode> Masters { get; } = [];
    public Dictionary<string, AddressSpace> Processes { get; } = new();
    public List<WorkloadRunner> Workloads { get; } = [];
    public List<Guest> Guests { get; } = [];
    /// <summary>Fault latency by tenant: the process whose PASID the response carried, or the guest owning the device.</summary>
    public Dictionary<string, LatencyRecorder> TenantFaultLatency { get; } = new();
    public List<string> Notes { get; } = [];

    public long Now => Scheduler.Now;

    public IommuNode AddIommu(IommuSpec spec)
    {
        IommuNode node = spec.Type switch
        {
            IommuType.Smmuv3 => new Smmuv3Node(this, spec),
            IommuType.Amd => new AmdNode(this, spec),
            IommuType.Smmuv2 => new Smmuv2Node(this, spec),
            _ => new VtdNode(this, spec),
        };
        Iommus.Add(node);
        Trace?.Process(node.TraceName);
        return node;
    }

    public FunctionNode AddFunction(DeviceSpec spec, IommuNode iommu)
    {
        var node = new FunctionNode(this, spec, iommu);
        Trace?.Process(node.TraceName);
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

        var (probe, status, device, table) = iommu.AddFunction(function, spec);
        if (function.ConfigViolations > 0)
            Invariants.Report("H-PCI-13", Now, spec.Name, "the host broke an enable rule of the PASID / ATS / PRI capabilities");
        node.PasidTable = table!;
        if (status == FaultStatus.Ok)
        {
            node.FaultDevice = device;
        }
        else
        {
            string why = probe != PciEnableError.None ? $"PRI not enabled ({probe})" : iommu.IopfRefusal;
            Notes.Add($"{spec.Name}: IOPF refused by {iommu.Name} ({status.Errno()}): {why}");
        }
        return node;
    }

    /// <summary>A platform stall master behind an SMMUv3 (R37: only masters declared able to stall) or an SMMUv2 context bank.</summary>
    public MasterNode AddMaster(MasterSpec spec, IommuNode iommu)
    {
        var node = new MasterNode(this, spec, iommu);
        Trace?.Process(node.TraceName);
        var (status, device, table) = iommu.AddStallMaster(spec);
        if (status != FaultStatus.Ok || table is null)
            throw new InvalidOperationException($"{spec.Name}: {iommu.Name} refused the stall master ({status.Errno()})");
        node.FaultDevice = device;
        node.PasidTable = table;
        iommu.Masters.Add(spec.StreamId, node);
        Masters.Add(node);
        return node;
    }

    /// <summary>SVA-binds a process to the device; false (with a note) where that cannot be done.</summary>
    public bool Bind(DeviceNode node, AddressSpace mm)
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
        // Without PASIDs (SMMUv2) the master's one process is bound at the RID, no global PASID taken.
        var (status, pasid) = !node.Iommu.HasPasids
            ? Binder.BindAtRid(node.FaultDevice, node.PasidTable, mm)
            : Binder.Bind(node.FaultDevice, node.PasidTable, mm);
        if (status != FaultStatus.Ok)
        {
            Notes.Add($"t={Now}ns {node.Name}: bind of {mm.Name} failed ({status.Errno()})");
            return false;
        }
        node.Pasids.Add(mm.Name, pasid);
        return true;
    }

    /// <summary>
    /// Gives the function to a guest through iommufd, as a VMM does: bind the device, allocate a fault
    /// queue and a fault-capable, PASID-capable HWPT on it, attach it at the guest's PASID (R39–R41); the
    /// guest's stage-1 address space is the translation there.
    /// </summary>
    public void AddGuest(GuestSpec spec, FunctionNode node, AddressSpace mm)
    {
        if (node.FaultDevice is not { } device)
        {
            Notes.Add($"{spec.Name}: {node.Name} has no IOPF, so no fault-capable domain can be attached (R34)");
            return;
        }
        var rc = AttachFaultCapable(device, node, spec.Pasid, out uint devId, out var queue);
        if (rc != FaultQueueErrno.None)
        {
            Notes.Add($"{spec.Name}: fault-capable HWPT on {node.Name} refused ({rc.Name()}){(node.Function.IsVirtualFunction ? ": a VF whose PF has PRI (R41)" : "")}");
            return;
        }
        node.PasidTable.Install(spec.Pasid, mm);
        node.Pasids.Add(mm.Name, spec.Pasid);
        node.Owner = spec.Name;
        var guest = new Guest(this, spec, node, mm, devId, queue!, Random.Fork($"guest:{spec.Name}"));
        queue!.Readable = _ =>
        {
            guest.OnReadable();
            ArmDeadline(guest);
        };
        Guests.Add(guest);
        if (spec.DetachAtNs is { } at) Scheduler.At(at, () => DetachGuest(guest));
    }

    /// <summary>The VMM's iommufd calls, in order; the first errno stops them.</summary>
    private FaultQueueErrno AttachFaultCapable(FaultDevice device, FunctionNode node, uint pasid, out uint devId, out UserFaultQueue? queue)
    {
        queue = null;
        var ctx = Iommufd;
        var rc = ctx.BindDevice(device, node.Function, out devId);
        if (rc != FaultQueueErrno.None) return rc;
        rc = ctx.AllocFaultQueue(0, out uint faultId);
        if (rc != FaultQueueErrno.None) return rc;
        rc = ctx.AllocHwpt(devId, _ioas, HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid, faultId, out uint hwptId);
        if (rc != FaultQueueErrno.None) return rc;
        rc = ctx.Attach(devId, pasid, hwptId, out _);
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
                _iommufd = new IommufdContext(Framework, Scheduler.Time) { FaultCapableDomainLeft = OnFaultCapableDomainLeft };
                _iommufd.AllocIoas(out _ioas);
            }
            return _iommufd;
        }
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

    /// <summary>The host takes the function away from the guest's domain: iommufd detach (R28, R43).</summary>
    private void DetachGuest(Guest guest)
    {
        if (Iommufd.Detach(guest.DevId, guest.Spec.Pasid) != FaultQueueErrno.None) return;
        guest.Node.PasidTable.Remove(guest.Spec.Pasid);
        guest.Node.Pasids.Remove(guest.AddressSpace.Name);
        guest.OnDetached();
    }

    /// <summary>
    /// iommufd answered what a guest's handle held (R43). Under POL-9 the function's PRI is reset once nothing of
    /// it is in flight, so credits the guest's device can never get back (groups without a last request, answers
    /// that never came) return: PRI off first, so the function sends nothing new; what it sent before arrives
    /// within one link time and is answered; resetting only after that means no response reaches the function
    /// after it forgot the request (H-PCI-10).
    /// </summary>
    private void OnFaultCapableDomainLeft(uint devId, uint pasid, int answered)
    {
        if (Guests.FirstOrDefault(g => g.DevId == devId) is not { } guest) return;
        var node = guest.Node;
        Notes.Add($"t={Now}ns {guest.Spec.Name}: {node.Name} detached from its fault-capable domain; {answered} groups answered INVALID (R43)");
        Trace?.Instant(node.TraceName, "guest", $"detach from {guest.Spec.Name}: {answered} groups answered INVALID (R43)", Now, "guest");
        if (!Framework.Policy.PriResetOnDomainChange) return;
        PciAts.DisablePri(node.Function, Now);
        Scheduler.After(Timing.LinkNs, () => ResetPriWhenQuiet(guest, attempt: 1));
    }

    /// <summary>How often POL-9 looks for a quiet function before it gives up and says so.</summary>
    private const int ResetAttempts = 10_000;

    /// <summary>POL-9: waits until the driver holds nothing of the function, then resets and re-enables PRI.</summary>
    private void ResetPriWhenQuiet(Guest guest, int attempt)
    {
        var node = guest.Node;
        bool quiet = !node.Iommu.RingHolds(node.Spec.Requester, guest.Spec.Pasid) && node.FaultDevice!.PendingCount == 0
            && node.Iommu.CommandsIdle && node.ResponsesInFlight == 0;
        if (!quiet)
        {
            if (attempt < ResetAttempts) Scheduler.After(Timing.InterruptNs, () => ResetPriWhenQuiet(guest, attempt + 1));
            else Invariants.Report("POL-9", Now, node.Name, $"no PRI reset: requests of the function were still in flight {ResetAttempts} interrupt times after {guest.Spec.Name}'s detach");
            return;
        }
        uint held = node.Function.Pri.Outstanding;
        var error = PciAts.ResetPri(node.Function, node.Spec.Credits ?? node.Function.Pri.Allocation, Now);
        guest.CreditsRecoveredByReset += held;
        Trace?.Instant(node.TraceName, "guest", $"PRI reset (POL-9): {held} credits back", Now, "guest");
        Notes.Add($"t={Now}ns {guest.Spec.Name}: PRI reset of {node.Name} after the domain change (POL-9): {held} credits back{(error == PciEnableError.None ? "" : $", re-enable failed: {error}")}");
    }

    /// <summary>Schedules what the scenario makes happen at given times.</summary>
    public void Schedule(ScenarioEvent e, IReadOnlyDictionary<string, DeviceNode> devices)
    {
        Scheduler.At(e.AtNs, () =>
        {
            switch (e)
            {
                case BindEvent b:
                    Bind(devices[b.Device], Processes[b.Process]);
                    break;
                case UnbindEvent u:
                    StartTeardown((FunctionNode)devices[u.Device], Processes[u.Process], u.Stop);
                    break;
                case ExitEvent x:
                    Exit(Processes[x.Process], x.Stop);
                    break;
                case RemoveDeviceEvent r:
                    RemoveDevice(devices[r.Device]);
                    break;
            }
        });
    }

    /// <summary>R27: faults on an exiting mm are answered INVALID; every binding goes (R25), then the PASID.</summary>
    private void Exit(AddressSpace mm, PasidStopMode mode)
    {
        mm.Exiting = true;
        foreach (var node in AllDevices.Where(d => d.Pasids.ContainsKey(mm.Name)).ToList()) StartTeardown(node, mm, mode);
        ReleaseIfGone(mm);
    }

    /// <summary>The PASID of an exited process is freed once no binding and no teardown of it is left (R25).</summary>
    private void ReleaseIfGone(AddressSpace mm)
    {
        if (mm.Exiting && !AllDevices.Any(d => d.Pasids.ContainsKey(mm.Name)) && _teardowns.All(t => t.Mm != mm || t.DoneAt is not null))
            Binder.Release(mm);
    }

    /// <summary>
    /// R25 for one (device, PASID). A function stops the PASID first (H-PCI-19); a platform master has no such
    /// protocol, so its drain starts at once: the SMMU's event queue is read until none of the PASID's events is
    /// left and the flush waits for their groups (H-SMMU-13); only then may the PASID be freed and reused.
    /// </summary>
    private void StartTeardown(DeviceNode node, AddressSpace mm, PasidStopMode mode)
    {
        if (!node.Pasids.Remove(mm.Name, out uint pasid))
        {
            Notes.Add($"t={Now}ns {node.Name}: unbind of {mm.Name} ignored: not bound");
            return;
        }
        var function = node as FunctionNode;
        var teardown = new PasidTeardown(node, mm, pasid, function is null ? null : mode, Now);
        _teardowns.Add(teardown);
        if (function is not null) function.Function.StopPasid(new Pasid(pasid), mode, Now);
        else StopMasters();
    }

    /// <summary>A master's PASID counts as stopped once none of its transactions on it is in flight or queued.</summary>
    private void StopMasters()
    {
        foreach (var teardown in _teardowns)
            if (teardown is { StoppedAt: null, Node: MasterNode master } && !master.Master.Uses(teardown.Pasid)) Stopped(teardown, Now);
    }

    private IEnumerable<DeviceNode> AllDevices => Functions.Cast<DeviceNode>().Concat(Masters);

    /// <summary>R4 as a run event: the device leaves its IOPF queue; later faults take the R10 path.</summary>
    private void RemoveDevice(DeviceNode node)
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
        var teardown = _teardowns.FirstOrDefault(t => t.Node is FunctionNode f && f.Function == function && t.Pasid == pasid.Value && t.StoppedAt is null);
        if (teardown is not null) Stopped(teardown, now);
    }

    /// <summary>R25: the device no longer uses the PASID; the IOMMU blocks it, then drains (R33) and flushes.</summary>
    private void Stopped(PasidTeardown teardown, long now)
    {
        teardown.StoppedAt = now;
        teardown.Node.PasidTable.Remove(teardown.Pasid);
        teardown.Drain = teardown.Node.Iommu.BeginDrain(teardown.Node, teardown.Pasid, now);
        AdvanceTeardowns();
    }

    /// <summary>Moves every drain on; the host calls it after each event a drain may be waiting for.</summary>
    public void AdvanceTeardowns()
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
        Trace?.Interval(node.TraceName, "teardowns", $"unbind {teardown.Mm.Name} (pasid {teardown.Pasid})", teardown.StartedAt, Now, "teardown",
            ("stopped_at_ns", (teardown.StoppedAt ?? Now).ToString(System.Globalization.CultureInfo.InvariantCulture)));

        // Issue acceptance: after teardown nothing of (device, PASID) is pending or partial anywhere.
        string subject = $"{node.Name} pasid {teardown.Pasid}";
        if (device.PendingCountAt(teardown.Pasid) > 0)
            Invariants.Report("R25", Now, subject, $"{device.PendingCountAt(teardown.Pasid)} groups still pending after teardown");
        if (device.PartialCountAt(teardown.Pasid) > 0)
            Invariants.Report("POL-10", Now, subject, $"{device.PartialCountAt(teardown.Pasid)} partial faults left after teardown (Linux keeps them until overflow or removal)");
        if (node.QueueHolds(teardown.Pasid))
            Invariants.Report("R33", Now, subject, "page requests of the PASID still in the PRQ after the drain (Linux drains requests in flight but does not wait for them to be handled)");

        ReleaseIfGone(teardown.Mm);
    }

    public IReadOnlyList<PasidTeardown> Teardowns => _teardowns;

    public long NextAccessId() => ++_lastAccessId;

    public void OwnAccess(long id, WorkloadRunner runner) => _accessOwners.Add(id, runner);

    // ---- what every IOMMU's outputs have in common ----

    /// <summary>A PRG Response leaves the root port; the function has it one link time later.</summary>
    public void DeliverPrgResponse(IommuNode iommu, in PrgResponse response)
    {
        var r = response;
        if (!iommu.Functions.TryGetValue(r.Destination, out var target))
        {
            Invariants.Report("R22", Now, iommu.Name, $"PRG Response for {r.Destination}, which is behind no port of this IOMMU");
            return;
        }
        target.ResponsesInFlight++;
        Scheduler.After(Timing.LinkNs, () =>
        {
            target.ResponsesInFlight--;
            target.Function.OnPrgResponse(r, Now);
        });
    }

    /// <summary>A driver thread finished a batch: workers pick up what it queued, drains move on.</summary>
    public void AfterDriverBatch(IommuNode iommu)
    {
        KickWorkers(iommu);
        AdvanceTeardowns();
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
                Trace?.Interval(node.TraceName, "page request groups", $"PRG 0x{response.Index.Value:x}", now - latency, now, "group",
                    ("pasid", response.Pasid is { } p ? p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-"), ("response", response.Code.Name()));
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

    public void AccessEnded(PriFunction function, DmaAccess access, AccessResult result, long now) =>
        EndAccess(_functionNodes[function], access, result, now);

    /// <summary>An access of a function or a stall master ended: results, latency, and its workload goes on.</summary>
    public void EndAccess(DeviceNode node, DmaAccess access, AccessResult result, long now)
    {
        node.Results[(int)result]++;
        if (node is MasterNode) StopMasters();
        if (_accessOwners.Remove(access.Id, out var runner))
        {
            long took = now - runner.StartedAt(access.Id);
            AccessLatency.Add(took);
            runner.Ended(access.Id, result, took, now);
        }
    }

    // ---- host threads ----

    /// <summary>Starts queued fault work on free workers of the IOMMU's fault queue (R1, R26).</summary>
    private void KickWorkers(IommuNode node)
    {
        foreach (var queue in node.FaultQueues)
        {
            while (node.BusyWorkers < Scenario.Host.Workers && queue.TryDequeueWork(out var item))
            {
                int worker = node.TakeWorker();
                Scheduler.After(Timing.HandlerWakeupNs, () => RunWork(node, item, worker));
            }
        }
    }

    private void RunWork(IommuNode node, FaultWorkItem item, int worker)
    {
        if (Framework.Find(item.Group) is not { } group)
        {
            FinishWork(node, worker); // the group went away with its device (R4)
            return;
        }
        CheckOwner(node, group, item.Work);
        var outcome = item.Work.Run(group);
        if (Trace is { } trace)
        {
            var last = group.LastFault;
            trace.Span(node.TraceName, $"worker {worker}", $"{group.Device.Name} group 0x{last.GroupId:x}", Now, outcome.CostNanoseconds, "worker",
                ("pasid", last.HasPasid ? last.Pasid.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-"),
                ("faults", group.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("response", outcome.Code.ToString()));
        }
        Scheduler.After(outcome.CostNanoseconds, () =>
        {
            Framework.Respond(item.Group, outcome.Code);
            Framework.Free(item.Group);
            FinishWork(node, worker);
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
        var requester = iommu.RequesterOf(group.Device);
        if (requester is null || !iommu.Functions.TryGetValue(requester.Value, out var node)) return;
        if (node.Function.AccessOfGroup(new PrgIndex((ushort)(last.GroupId & PrgIndex.Mask))) is not { } access) return;
        if (!_accessOwners.TryGetValue(access.Id, out var runner) || runner.Process == domain.AddressSpace) return;
        Invariants.Report("R25", Now, $"{node.Name} pasid {last.Pasid}",
            $"a fault of {runner.Process.Name} was resolved in the address space of {domain.AddressSpace.Name}, which reuses its PASID");
    }

    private void FinishWork(IommuNode node, int worker)
    {
        node.ReleaseWorker(worker);
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
                Invariants.Report(f.Pri.ResponseFailure ? "H-PCI-9" : "R8", Now, f.Name, $"{f.OutstandingGroups} page request groups still outstanding: {why}{unanswered}{node.Iommu.UnansweredDiscards}");
            }
            if (f.ActiveAccesses > 0) Invariants.Report("R8", Now, f.Name, $"{f.ActiveAccesses} DMA accesses never ended{unanswered}{node.Iommu.UnansweredDiscards}");
            if (node.FaultDevice is { PendingCount: > 0 } d) Invariants.Report("R18", Now, f.Name, $"{d.PendingCount} groups still pending in the framework{unanswered}");
            if (f.StoppingPasids > 0) Invariants.Report("H-PCI-19", Now, f.Name, $"{f.StoppingPasids} PASID stops never completed");
            if (node.FaultDevice is { PartialCount: > 0 } p)
            {
                string linger = Framework.Policy.DetachedPartials == DetachedPartialsPolicy.Linger ? " (Linux keeps them until overflow or removal: POL-10)" : "";
                Invariants.Report("R14", Now, f.Name, $"{p.PartialCount} partial faults never completed by a last request{linger}{node.Iommu.UnansweredDiscards}");
            }
        }
        foreach (var node in Masters)
        {
            if (!node.Master.Idle) Invariants.Report("H-SMMU-6", Now, node.Name, $"{node.Master.Outstanding} transactions never ended and {node.Master.Queued} never issued");
            if (node.FaultDevice is { PendingCount: > 0 } d) Invariants.Report("R18", Now, node.Name, $"{d.PendingCount} stall groups still pending in the framework");
        }
        foreach (var node in Iommus) node.CheckEnd(Invariants, Now);
        foreach (var t in _teardowns.Where(t => t.DoneAt is null))
            Invariants.Report("R25", Now, $"{t.Node.Name} pasid {t.Pasid}", $"teardown started at {t.StartedAt} ns never completed (stage: {(t.StoppedAt is null ? "PASID stop" : t.Drain?.StageName)})");
        if (Framework.GroupsInUse > 0)
        {
            long held = Guests.Sum(g => (long)g.Queue.Unread + g.Queue.Unanswered);
            string why = held > 0 && Framework.Policy.ResponseDeadlineNs is null ? $" ({held} held by guest fault queues whose users never answered; Linux has no response deadline: POL-5)" : "";
            Invariants.Report("R19", Now, "framework", $"{Framework.GroupsInUse} groups never freed{why}");
        }
        if (Framework.Counters.FreedUnanswered > 0) Invariants.Report("R8", Now, "framework", $"{Framework.Counters.FreedUnanswered} groups freed without a response");
    }
}

/// <summary>One PCIe function in the topology, and its link: every TLP takes <see cref="Timing.LinkNs"/>.</summary>
internal sealed class FunctionNode(Platform platform, DeviceSpec spec, IommuNode iommu) : DeviceNode(iommu), IUpstreamPort
{
    public override string Name => Spec.Name;
    public override string TraceName => $"{Name} (PCIe {Spec.Requester} behind {Iommu.Name})";
    public DeviceSpec Spec { get; } = spec;
    public PriFunction Function { get; set; } = null!;
    /// <summary>PRG Responses on the link toward the function.</summary>
    public int ResponsesInFlight { get; set; }

    public override void StartAccess(DmaAccess access, long now) => Function.StartAccess(access, now);

    public override bool QueueHolds(uint pasid) => Iommu.RingHolds(Spec.Requester, pasid);

    public void SendTranslationRequest(in TranslationRequest request)
    {
        var r = request;
        var s = platform.Scheduler;
        // ATS requests and page requests share the link; FIFO with one latency keeps them in order.
        s.After(platform.Timing.LinkNs, () =>
        {
            var completion = Iommu.Translate(r);
            s.After(platform.Timing.TranslationNs + platform.Timing.LinkNs, () => Function.OnTranslationCompletion(completion, s.Now));
        });
    }

    public void SendPageRequest(in PageRequest request)
    {
        var r = request;
        platform.Scheduler.After(platform.Timing.LinkNs, () => Iommu.OnPageRequest(r));
    }

    /// <summary>H-PCI-18: same link, same latency, so it cannot overtake page requests sent before it.</summary>
    public void SendInvalidationCompletion(in InvalidationCompletion completion)
    {
        var c = completion;
        platform.Scheduler.After(platform.Timing.LinkNs, () => Iommu.OnInvalidationCompletion(c));
    }
}
