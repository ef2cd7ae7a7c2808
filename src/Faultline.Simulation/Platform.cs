using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Simulation.Distributions;
using Faultline.Simulation.Statistics;
using Faultline.Sva;

namespace Faultline.Simulation;

/// <summary>
/// The simulator's host for the sans-IO core: it owns the virtual clock and decides when each output of the host
/// kernel lands, one <see cref="Timing"/> hop per kind, and when each message of a device reaches the kernel. It
/// also keeps the run's metrics and trace. Nothing of the fault path is decided here: the kernel owns it.
/// </summary>
internal sealed class Platform : IKernelHost
{
    // By access id, while the access runs: its workload and when it started (one table for both, issue 9).
    private readonly Dictionary<long, (WorkloadRunner Runner, long StartedAt)> _accessOwners = new();
    private readonly Dictionary<string, DeviceNode> _devicesByName = new(); // for scenario events and tenants
    private readonly List<long[]> _threadBusyUntil = []; // by unit, then thread
    private readonly List<DriverBatches> _batches = []; // by unit
    // The batch running now, and a wake-up it asked for itself (AMD's poll, H-AMD-3): that one waits for the batch's end.
    private (int Unit, int Thread)? _batch;
    private HostAction? _wakeDuringBatch;
    private long _lastAccessId;
    // Hops drawn from a distribution (Timing.Drawn), by Hop, each from its own stream; null: the constant.
    private readonly Distribution?[] _hops = new Distribution?[Enum.GetValues<Hop>().Length];
    private readonly SimRandom?[] _hopRandom = new SimRandom?[Enum.GetValues<Hop>().Length];
    private readonly SimRandom? _overheadRandom;
    // A jittered link stays FIFO (H-PCI-18): a message lands no earlier than the one sent before it, each way, by port id.
    private readonly bool _linkDrawn;
    private long[] _linkUp = [];
    private long[] _linkDown = [];
    private readonly List<DeviceNode?> _nodesById = [];
    private readonly List<FunctionNode> _touched = [];

    /// <param name="ftrace">Takes what the drivers print (an ftrace capture of the run), when given.</param>
    public Platform(Scenario scenario, FaultPolicy policy, ulong seed, TraceRecorder? trace = null, IDriverTrace? ftrace = null)
    {
        Trace = trace;
        Scenario = scenario;
        Timing = scenario.Timing;
        Random = new SimRandom(seed);
        var service = scenario.Service;
        Costs = service.DrawsCosts ? scenario.Host.Costs with { Sampler = new FaultCostSampler(service, scenario.Host.Costs, Random.Fork("host:costs")) } : scenario.Host.Costs;
        if (service.HandlerOverhead is not null) _overheadRandom = Random.Fork("host:handler_overhead");
        foreach (var (hop, d) in Timing.Drawn)
        {
            _hops[(int)hop] = d;
            _hopRandom[(int)hop] = Random.Fork($"timing:{hop}");
        }
        _linkDrawn = _hops[(int)Hop.Link] is not null;
        Occupancy = new Occupancy(scenario.WarmupNs);
        Kernel = new HostKernel(scenario.Host with { Costs = Costs }, policy, this, trace)
        {
            AccessOwner = access => _accessOwners.TryGetValue(access.Id, out var owner) ? owner.Runner.Process : null,
            DriverTrace = ftrace,
        };
    }

    public Scenario Scenario { get; }
    /// <summary>The Perfetto trace being recorded, or null.</summary>
    public TraceRecorder? Trace { get; }
    public Timing Timing { get; }
    public Scheduler<SimEvent> Scheduler { get; } = new();
    public HostKernel Kernel { get; }
    public FaultFramework Framework => Kernel.Framework;
    public SimRandom Random { get; }
    /// <summary>The host's fault costs, drawn per fault where the scenario gives distributions (guests resolve with them too).</summary>
    public Faultline.Sva.SvaCosts Costs { get; }
    public Occupancy Occupancy { get; }
    /// <summary>Fault latency of handler-answered and auto-answered groups, and the handler-answered ones by stage.</summary>
    public LatencyRecorder FaultLatencyHandler { get; } = new();
    public LatencyRecorder FaultLatencyAuto { get; } = new();
    public LatencyRecorder StageLink { get; } = new();
    public LatencyRecorder StageHostQueue { get; } = new();
    /// <summary>The host queue's parts: the IOMMU's queue until the driver reports the group, the rest of that driver batch, the wait for a handler.</summary>
    public LatencyRecorder StageIommuQueue { get; } = new();
    public LatencyRecorder StageDriver { get; } = new();
    public LatencyRecorder StageFaultQueue { get; } = new();
    public LatencyRecorder StageService { get; } = new();
    public LatencyRecorder StageResponse { get; } = new();
    public InvariantLog Invariants => Kernel.Invariants;
    public LatencyRecorder FaultLatency { get; } = new();
    public LatencyRecorder AccessLatency { get; } = new();
    public List<FunctionNode> Functions { get; } = [];
    public List<MasterNode> Masters { get; } = [];
    public Dictionary<string, AddressSpace> Processes { get; } = new();
    public List<WorkloadRunner> Workloads { get; } = [];
    /// <summary>By <see cref="GuestAttachment.Id"/>.</summary>
    public List<Guest> Guests { get; } = [];
    /// <summary>Fault latency by tenant: the process whose PASID the response carried, or the guest owning the device.</summary>
    public Dictionary<string, LatencyRecorder> TenantFaultLatency { get; } = new();

    public long Now => Scheduler.Now;

    /// <summary>Whether a sample that started at <paramref name="startedAt"/> counts: not inside the warm-up.</summary>
    public bool Measured(long startedAt) => startedAt >= Scenario.WarmupNs;

    /// <summary>A hop's time: its constant, or a draw from its distribution.</summary>
    private long HopTime(Hop hop, long constant) => _hops[(int)hop] is { } d ? d.Sample(_hopRandom[(int)hop]!) : constant;

    /// <summary>When a message sent now over <paramref name="port"/>'s link lands, that link kept in order both ways.</summary>
    private long LinkArrival(ref long[] lastByPort, int port, long delay)
    {
        if (!_linkDrawn) return Now + delay;
        if (port >= lastByPort.Length) Array.Resize(ref lastByPort, Math.Max(port + 1, lastByPort.Length * 2));
        return lastByPort[port] = Math.Max(Now + delay, lastByPort[port]);
    }

    private void Register(DeviceNode node)
    {
        int id = node.Port.Id;
        while (_nodesById.Count <= id) _nodesById.Add(null);
        _nodesById[id] = node;
    }

    // ---- building the topology ----

    public IommuUnit AddIommu(IommuSpec spec)
    {
        var unit = Kernel.AddIommu(spec);
        _threadBusyUntil.Add(new long[unit.ThreadCount]);
        _batches.Add(new DriverBatches());
        Occupancy.Add(unit, Scenario.Host.Workers);
        Trace?.Process(unit.TraceName);
        return unit;
    }

    public FunctionNode AddFunction(DeviceSpec spec, IommuUnit unit)
    {
        var node = new FunctionNode(this, spec);
        Trace?.Process($"{spec.Name} (PCIe {spec.Requester} behind {unit.Name})");
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
            Ats = spec.Ats,
            OmitLastEvery = spec.OmitLastEvery,
        }, node, node);
        Functions.Add(node);
        _devicesByName.Add(node.Name, node);
        node.SetPort(Kernel.AddFunction(unit, function, spec.Credits, Now));
        Register(node);
        node.OccupancyIndex = Occupancy.Add(node);
        return node;
    }

    public MasterNode AddMaster(MasterSpec spec, IommuUnit unit)
    {
        var node = new MasterNode(this, spec);
        Trace?.Process($"{spec.Name} (stall master 0x{spec.StreamId:x} behind {unit.Name})");
        node.SetPort(Kernel.AddMaster(unit, node.Master, spec.Owner, spec.ContextBank, Now));
        Masters.Add(node);
        _devicesByName.Add(node.Name, node);
        Register(node);
        return node;
    }

    /// <summary>A guest takes its function through iommufd (the kernel does the VMM's calls); its detach is scheduled.</summary>
    public void AddGuest(GuestSpec spec, FunctionNode node, AddressSpace mm)
    {
        if (Kernel.AttachGuest(spec.Name, node.Port, spec.Pasid, mm, Now) is not { } attachment) return;
        Guests.Add(new Guest(this, spec, node, attachment, Random.Fork($"guest:{spec.Name}")));
        if (spec.DetachAtNs is { } at) Scheduler.At(at, new SimEvent { Kind = SimEventKind.GuestDetach, Target = attachment.Id });
    }

    public void Schedule(int scenarioEvent) =>
        Scheduler.At(Scenario.Events[scenarioEvent].AtNs, new SimEvent { Kind = SimEventKind.ScenarioEvent, Target = scenarioEvent });

    /// <summary>A device's message takes one link time to its IOMMU.</summary>
    public void Send(in DeviceMessage message) =>
        Scheduler.At(LinkArrival(ref _linkUp, message.Device, HopTime(Simulation.Hop.Link, Timing.LinkNs)), new SimEvent { Kind = SimEventKind.DeviceMessage, Message = message });

    public long NextAccessId() => ++_lastAccessId;

    /// <summary>Access <paramref name="id"/> of <paramref name="runner"/> starts now.</summary>
    public void OwnAccess(long id, WorkloadRunner runner) => _accessOwners.Add(id, (runner, Now));

    // ---- running ----

    /// <summary>Runs events until none is left or the next one lies beyond <paramref name="limit"/>; true if none is left.</summary>
    public bool Run(long limit)
    {
        while (Scheduler.Next(limit, out var e)) Dispatch(e);
        return Scheduler.IsEmpty;
    }

    private void Dispatch(in SimEvent e)
    {
        Handle(e);
        // Occupancy: look again at what the event reached (a unit, the functions whose credits moved).
        switch (e.Kind)
        {
            case SimEventKind.Kernel:
            case SimEventKind.WorkDone:
                Occupancy.ObserveUnit(e.Action.Unit, Now);
                break;
            case SimEventKind.ThreadBatchDone:
                Occupancy.ObserveUnit(e.Target, Now);
                break;
            case SimEventKind.DeviceMessage:
                Occupancy.ObserveUnit(_nodesById[e.Message.Device]!.Port.Unit.Index, Now);
                break;
            case SimEventKind.GuestRead:
            case SimEventKind.GuestAnswers:
                Occupancy.ObserveUnit(Guests[e.Target].Node.Port.Unit.Index, Now);
                break;
            case SimEventKind.ScenarioEvent:
            case SimEventKind.GuestDetach:
                Occupancy.ObserveAll(Now);
                break;
        }
        for (int i = 0; i < _touched.Count; i++)
        {
            Occupancy.ObserveFunction(_touched[i].OccupancyIndex, Now);
            _touched[i].Touched = false;
        }
        _touched.Clear();
    }

    /// <summary>A function's credits may have moved in this event.</summary>
    private void Touch(FunctionNode node)
    {
        if (node.Touched) return;
        node.Touched = true;
        _touched.Add(node);
    }

    private void Handle(in SimEvent e)
    {
        switch (e.Kind)
        {
            case SimEventKind.Kernel:
                Land(e.Action);
                break;
            case SimEventKind.DeviceSend:
                Send(e.Message);
                break;
            case SimEventKind.ThreadBatchDone:
                Kernel.AfterThreadBatch(e.Target, Now);
                break;
            case SimEventKind.WorkDone:
                Kernel.CompleteWork(e.Action, e.Code, Now);
                break;
            case SimEventKind.DeviceMessage:
                // A Stop Marker carries L but closes no group: its index (0) must not overwrite a real group's stages.
                if (e.Message.Kind == DeviceMessageKind.PageRequest && e.Message.PageRequest is { Last: true, IsStopMarker: false }
                    && _nodesById[e.Message.Device] is FunctionNode to)
                    to.ArrivedAtIommu(e.Message.PageRequest.Index.Value, Now);
                Kernel.Receive(e.Message, Now);
                break;
            case SimEventKind.WorkloadArrival:
                Workloads[e.Target].Arrive();
                break;
            case SimEventKind.ScenarioEvent:
                Happen(Scenario.Events[e.Target]);
                break;
            case SimEventKind.GuestRead:
                Guests[e.Target].Read();
                break;
            case SimEventKind.GuestAnswers:
                Guests[e.Target].Send(e.Batch);
                break;
            case SimEventKind.GuestDetach:
                Kernel.DetachGuest(Kernel.Guests[e.Target], Now); // the guest hears of it when it completes (GuestDetached)
                break;
        }
    }

    /// <summary>What the scenario makes happen at a given time.</summary>
    private void Happen(ScenarioEvent e)
    {
        switch (e)
        {
            case BindEvent b:
                Kernel.Bind(DeviceNamed(b.Device), Processes[b.Process], Now);
                break;
            case UnbindEvent u:
                Kernel.Unbind(DeviceNamed(u.Device), Processes[u.Process], u.Stop, Now);
                break;
            case ExitEvent x:
                Kernel.Exit(Processes[x.Process], x.Stop, Now);
                break;
            case RemoveDeviceEvent r:
                Kernel.RemoveDevice(DeviceNamed(r.Device), Now);
                break;
        }
    }

    private DevicePort DeviceNamed(string name) => _devicesByName[name].Port;

    /// <summary>The PCIe function of that name, or null.</summary>
    public FunctionNode? FunctionNamed(string name) => _devicesByName.GetValueOrDefault(name) as FunctionNode;

    // ---- IKernelHost: when each output of the kernel lands (one timing hop per kind) ----

    void IKernelHost.Take(in HostAction action)
    {
        switch (action.Kind)
        {
            case HostActionKind.PrgResponse:
            case HostActionKind.InvalidateRequest:
            case HostActionKind.TransactionEnded:
                Down(HopTime(Simulation.Hop.Link, Timing.LinkNs), action); // the link toward the device
                break;
            case HostActionKind.TranslationCompletion:
                Down(HopTime(Simulation.Hop.Translation, Timing.TranslationNs) + HopTime(Simulation.Hop.Link, Timing.LinkNs), action); // the translation agent's work, then the link
                break;
            case HostActionKind.RunThread:
                if (_batch == (action.Unit, action.Target))
                {
                    _wakeDuringBatch = action; // its batch's length is not known yet
                    break;
                }
                // The interrupt's latency, or the poll's own time; never before the thread's previous batch is done.
                long wake = action.At == HostAction.NoTime ? Now + HopTime(Simulation.Hop.Interrupt, Timing.InterruptNs) : action.At;
                Scheduler.At(Math.Max(wake, _threadBusyUntil[action.Unit][action.Target]), new SimEvent { Kind = SimEventKind.Kernel, Action = action });
                break;
            case HostActionKind.ProcessCommands:
                Later(HopTime(Simulation.Hop.ResponseCommand, Timing.ResponseCommandNs), action);
                break;
            case HostActionKind.CompleteLogWrites:
                Scheduler.At(action.At, new SimEvent { Kind = SimEventKind.Kernel, Action = action });
                break;
            case HostActionKind.RunWork:
                Later(HopTime(Simulation.Hop.HandlerWakeup, Timing.HandlerWakeupNs), action);
                break;
            case HostActionKind.FaultQueueReadable:
                Guests[action.Target].OnReadable();
                break;
            case HostActionKind.GuestDetached:
                Guests[action.Target].OnDetached();
                break;
            case HostActionKind.Timer:
                Scheduler.At(Math.Max(action.At, Now), new SimEvent { Kind = SimEventKind.Kernel, Action = action });
                break;
            case HostActionKind.PriResetPoll:
                Later(action.Attempt <= 1 ? HopTime(Simulation.Hop.Link, Timing.LinkNs) : HopTime(Simulation.Hop.Interrupt, Timing.InterruptNs), action);
                if (_nodesById[action.Target] is FunctionNode reset) Touch(reset); // a PRI reset forgets groups and their credits
                break;
        }
    }

    private void Later(long delay, in HostAction action) => Scheduler.After(delay, new SimEvent { Kind = SimEventKind.Kernel, Action = action });

    private void Down(long delay, in HostAction action) =>
        Scheduler.At(LinkArrival(ref _linkDown, action.Target, delay), new SimEvent { Kind = SimEventKind.Kernel, Action = action });

    /// <summary>A kernel output's time has come; driver batches and workers take model time here, the rest lands in the kernel.</summary>
    private void Land(in HostAction action)
    {
        switch (action.Kind)
        {
            case HostActionKind.RunThread:
                RunThread(action);
                break;
            case HostActionKind.RunWork:
                RunWork(action);
                break;
            default:
                Kernel.Land(action, Now);
                break;
        }
    }

    /// <summary>
    /// A driver's threaded interrupt handler runs one batch and stays busy <see cref="Timing.ReportNs"/> per entry
    /// handled; then the workers and drains move on.
    /// </summary>
    private void RunThread(in HostAction action)
    {
        var unit = Kernel.Units[action.Unit];
        var ring = unit.ThreadQueue(action.Target);
        string name = unit.ThreadName(action.Target);
        if (ring is not null) Trace?.Counter(unit.TraceName, $"{name}: queue", Now, ring.Count);
        _batch = (action.Unit, action.Target);
        int handled = Kernel.RunThread(action, Now);
        _batch = null;
        long busy = handled * Timing.ReportNs;
        if (_hops[(int)Simulation.Hop.Report] is not null)
        {
            busy = 0;
            for (int i = 0; i < handled; i++) busy += HopTime(Simulation.Hop.Report, Timing.ReportNs);
        }
        long busyUntil = _threadBusyUntil[action.Unit][action.Target] = Now + busy;
        _batches[action.Unit].Add(Now, busyUntil);
        if (_wakeDuringBatch is { } wake)
        {
            _wakeDuringBatch = null;
            ((IKernelHost)this).Take(wake); // now scheduled no earlier than this batch's end
        }
        Trace?.Span(unit.TraceName, name, "batch", Now, busyUntil - Now, "driver", ("entries", handled.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (ring is not null) Trace?.Counter(unit.TraceName, $"{name}: queue", Now, ring.Count);
        Scheduler.At(busyUntil, new SimEvent { Kind = SimEventKind.ThreadBatchDone, Target = action.Unit });
    }

    /// <summary>A handler (a worker of unit <paramref name="unit"/>, a guest) starts <paramref name="group"/> now and answers at <paramref name="done"/>: its stage times.</summary>
    public void HandlerRan(FunctionNode node, FaultGroup group, int unit, long done) =>
        node.HandlerRan(group.LastFault.GroupId, group.ReportedAt, _batches[unit].EndOf(group.ReportedAt), Now, done);

    /// <summary>A worker resolves its group; the response goes out once the resolution's model cost has passed.</summary>
    private void RunWork(in HostAction action)
    {
        var run = Kernel.RunWork(action, Now);
        if (!run.Ran) return;
        long cost = run.Outcome.CostNanoseconds + (Scenario.Service.HandlerOverhead?.Sample(_overheadRandom!) ?? 0);
        if (FunctionOf(run.Group!.Device) is { } node) HandlerRan(node, run.Group, action.Unit, Now + cost);
        if (Trace is { } trace)
        {
            var group = run.Group!;
            var last = group.LastFault;
            trace.Span(Kernel.Units[action.Unit].TraceName, $"worker {action.Target}", $"{group.Device.Name} group 0x{last.GroupId:x}", Now, cost, "worker",
                ("pasid", last.HasPasid ? last.Pasid.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-"),
                ("faults", group.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("response", run.Outcome.Code.ToString()));
        }
        Scheduler.After(cost, new SimEvent { Kind = SimEventKind.WorkDone, Action = action, Code = run.Outcome.Code });
    }

    /// <summary>The PCIe function behind a fault framework device, or null (a stall master).</summary>
    internal FunctionNode? FunctionOf(FaultDevice device) => Kernel.PortOf(device) is { } port ? _nodesById[port.Id] as FunctionNode : null;

    // ---- what the functions saw (each function's node forwards its observer calls with itself, no lookup) ----

    public void PageRequestSent(FunctionNode node, long now)
    {
        Touch(node);
        Kernel.PageRequestSent(node.Port, now);
    }

    public void PrgResponseReceived(FunctionNode node, in PrgResponse response, PrgResponseOutcome outcome, long latency, long now)
    {
        Touch(node);
        var stages = node.Answered(response.Index.Value);
        if (outcome != PrgResponseOutcome.Matched)
        {
            Kernel.PrgResponseTaken(node.Port, response, outcome, now);
            return;
        }
        Trace?.Interval(node.Port.TraceName, "page request groups", $"PRG 0x{response.Index.Value:x}", now - latency, now, "group",
            ("pasid", response.Pasid is { } p ? p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "-"), ("response", response.Code.Name()));
        if (!Measured(now - latency)) return;
        FaultLatency.Add(latency);
        node.FaultLatency.Add(latency);
        // A handler record that started before this group was sent is an earlier group's at the same PRG index: the
        // function took an answer meant for that one (under linux an AMD Stop Marker's, H-PCI-20), no handler's of its own.
        if (stages is { } s && s.Start >= now - latency)
        {
            // A handler ran the group: its latency by stage, the parts adding up to the whole.
            FaultLatencyHandler.Add(latency);
            long sent = now - latency, atIommu = Math.Clamp(s.AtIommu, sent, s.Start);
            StageLink.Add(atIommu - sent);
            StageHostQueue.Add(s.Start - atIommu);
            long reported = Math.Clamp(s.Reported, atIommu, s.Start), batchEnd = Math.Clamp(s.BatchEnd, reported, s.Start);
            StageIommuQueue.Add(reported - atIommu);
            StageDriver.Add(batchEnd - reported);
            StageFaultQueue.Add(s.Start - batchEnd);
            StageService.Add(s.Done - s.Start);
            StageResponse.Add(now - s.Done);
        }
        else
        {
            FaultLatencyAuto.Add(latency);
        }
        if (TenantOf(node.Port, response.Pasid?.Value) is { } tenant) TenantRecorder(node, tenant).Add(latency);
    }

    /// <summary>
    /// The tenant's latency recorder. A function answers for the same tenant, mostly, so its last one is kept on it:
    /// the table of every tenant (10 000 at scale, issue 9) is hashed into only when the tenant changes.
    /// </summary>
    private LatencyRecorder TenantRecorder(FunctionNode node, string tenant)
    {
        if (node.LastTenant is { } last && ReferenceEquals(last.Name, tenant)) return last.Recorder;
        if (!TenantFaultLatency.TryGetValue(tenant, out var recorder)) TenantFaultLatency.Add(tenant, recorder = new LatencyRecorder());
        node.LastTenant = (tenant, recorder);
        return recorder;
    }

    /// <summary>PRI credits the process's groups hold on the function: at the PASID it is bound to, or was last torn down at.</summary>
    internal long CreditsHeldBy(FunctionNode node, string process)
    {
        if (node.Port.Pasids.TryGetValue(process, out uint bound)) return node.Function.CreditsHeldBy(new Pasid(bound));
        return LatestTeardown(node.Port, t => t.Mm.Name == process) is { } torn ? node.Function.CreditsHeldBy(new Pasid(torn.Pasid)) : 0;
    }

    /// <summary>
    /// The tenant a response belongs to: the guest that owns the device, else the process bound at that PASID, else
    /// the process whose binding there is being (or was last) torn down — a response after its unbind began still
    /// counts for it, so the tenants' samples add up to the run's.
    /// </summary>
    private string? TenantOf(DevicePort port, uint? pasid)
    {
        if (port.Owner is { } guest) return guest;
        if (pasid is not { } p) return null;
        return port.ProcessAt(p) ?? TornDownAt(port, p);
    }

    // Apart, so that the lambda's closure is allocated only when no process is bound at the PASID.
    private string? TornDownAt(DevicePort port, uint pasid) => LatestTeardown(port, t => t.Pasid == pasid)?.Mm.Name;

    /// <summary>The latest teardown of a binding of <paramref name="port"/> that <paramref name="matches"/>, or null.</summary>
    private PasidTeardown? LatestTeardown(DevicePort port, Func<PasidTeardown, bool> matches)
    {
        var teardowns = Kernel.Teardowns;
        for (int i = teardowns.Count - 1; i >= 0; i--)
            if (teardowns[i].Device == port && matches(teardowns[i])) return teardowns[i];
        return null;
    }

    public void AccessEnded(FunctionNode node, DmaAccess access, AccessResult result, long now)
    {
        Touch(node);
        EndAccess(node, access, result, now);
    }

    /// <summary>An access of a function or a stall master ended: results, latency, and its workload goes on.</summary>
    public void EndAccess(DeviceNode node, DmaAccess access, AccessResult result, long now)
    {
        node.Results[(int)result]++;
        if (node is MasterNode) Kernel.MasterAccessEnded(now);
        if (_accessOwners.Remove(access.Id, out var owner))
        {
            long took = now - owner.StartedAt;
            if (Measured(now - took)) AccessLatency.Add(took);
            owner.Runner.Ended(result, took, now);
        }
    }

    /// <summary>Checks what must hold once the run is over: the kernel's checks, and that the run went quiet.</summary>
    public void CheckEnd(bool quiesced)
    {
        if (!quiesced)
            Invariants.Report("quiescence", Now, Scenario.Name, $"events still pending at the time limit ({Scenario.TimeLimitNs} ns): livelock or a workload too long for the limit");
        Kernel.CheckEnd(Now);
        // Nothing is lost on a link: once the run is quiet, every page request and Stop Marker a function sent reached its IOMMU.
        if (quiesced)
            foreach (var unit in Kernel.Units)
            {
                long sent = Functions.Where(f => f.Port.Unit == unit).Sum(f => f.Function.Counters.PageRequests + f.Function.Counters.StopMarkers);
                long received = unit.Report(Now).PageRequestsReceived;
                if (sent != received)
                    Invariants.Report("conservation", Now, unit.Name, $"its functions sent {sent} page requests and Stop Markers, but it received {received}");
            }
    }
}
