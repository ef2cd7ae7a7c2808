using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Sva;

namespace Faultline.Simulation;

/// <summary>Builds a scenario's topology, runs it in virtual time, checks invariants, and reports.</summary>
public static class Simulator
{
    /// <summary>
    /// Runs the scenario. When it has hostile guests, the same scenario without them (their devices idle)
    /// runs as well, and each honest tenant's throughput is reported against that baseline.
    /// </summary>
    /// <param name="trace">Records the run (not the baseline) for Perfetto, when given.</param>
    /// <param name="ftrace">Takes what the run's drivers print (not the baseline's), an ftrace capture, when given.</param>
    /// <param name="control">Watches the run and may stop it early; the report is then partial and has no baseline.</param>
    /// <exception cref="ArgumentException">The policy is unknown, or names a kernel release that lacks part of the scenario (<see cref="Scenario.MissingIn"/>).</exception>
    public static RunReport Run(Scenario scenario, ulong? seed = null, string? policy = null, TraceRecorder? trace = null, IDriverTrace? ftrace = null,
        RunControl? control = null)
    {
        var report = RunOnce(scenario, seed, policy, trace, ftrace, control, baseline: false);
        if (!scenario.Guests.Any(g => g.IsHostile) || report.Partial) return report;
        var hostile = scenario.Guests.Where(g => g.IsHostile).ToList();
        var baseline = RunOnce(scenario with
        {
            Guests = scenario.Guests.Where(g => !g.IsHostile).ToList(),
            Workloads = scenario.Workloads.Where(w => hostile.All(g => g.Device != w.Device)).ToList(),
        }, seed, policy, null, null, control, baseline: true);
        if (baseline.Partial) return report with { Partial = true };
        var reference = baseline.Tenants.ToDictionary(t => t.Name);
        return report with
        {
            Tenants = report.Tenants.Select(t => t.Hostile || !reference.TryGetValue(t.Name, out var b) || b.ThroughputPerMs == 0
                ? t
                : t with { ThroughputRatio = Math.Round(t.ThroughputPerMs / b.ThroughputPerMs, 4) }).ToList(),
        };
    }

    private static RunReport RunOnce(Scenario scenario, ulong? seed, string? policy, TraceRecorder? trace, IDriverTrace? ftrace, RunControl? control, bool baseline)
    {
        string policyName = policy ?? scenario.Policy;
        var faultPolicy = FaultPolicy.ByName(policyName)
            ?? throw new ArgumentException($"unknown policy '{policyName}'; use linux or hardened", nameof(policy));
        // As the reader and the CLI refuse it: a release that lacks part of the scenario is refused, not pretended.
        if (scenario.MissingIn(faultPolicy.Kernel) is { } missing)
            throw new ArgumentException($"scenario '{scenario.Name}' cannot run under {faultPolicy.Name}: {missing}", nameof(policy));
        ulong runSeed = seed ?? scenario.Seed;
        var platform = new Platform(scenario, faultPolicy, runSeed, trace, ftrace);

        foreach (var spec in scenario.Processes)
        {
            var mm = new AddressSpace(spec.Name);
            var random = platform.Random.Fork($"process:{spec.Name}");
            foreach (var v in spec.Vmas)
            {
                mm.Map(new Vma(v.Start, (ulong)v.Pages << 12, v.Permissions, v.Cost));
                for (int page = 0; page < v.Pages; page++)
                    if (random.Chance(v.Resident)) mm.MakeResident(v.Start + ((ulong)page << 12));
            }
            platform.Processes.Add(spec.Name, mm);
        }

        var iommus = scenario.Iommus.ToDictionary(i => i.Name, platform.AddIommu);
        var devices = new Dictionary<string, DeviceNode>();
        foreach (var d in scenario.Devices) devices.Add(d.Name, platform.AddFunction(d, iommus[d.Iommu]));
        foreach (var m in scenario.Masters) devices.Add(m.Name, platform.AddMaster(m, iommus[m.Iommu]));
        foreach (var (name, binds) in scenario.Devices.Select(d => (d.Name, d.Bind)).Concat(scenario.Masters.Select(m => (m.Name, m.Bind))))
            foreach (var process in binds)
                platform.Kernel.Bind(devices[name].Port, platform.Processes[process], platform.Now);
        foreach (var g in scenario.Guests) platform.AddGuest(g, (FunctionNode)devices[g.Device], platform.Processes[g.Process]);
        for (int e = 0; e < scenario.Events.Count; e++) platform.Schedule(e);

        var seen = new Dictionary<(string, string), int>();
        foreach (var w in scenario.Workloads)
        {
            // Named by (device, process) and its occurrence, not its place in the list, so a baseline
            // without some workloads gives the others the same numbers.
            int nth = seen[(w.Device, w.Process)] = seen.GetValueOrDefault((w.Device, w.Process)) + 1;
            var runner = new WorkloadRunner(platform, platform.Workloads.Count, w, devices[w.Device], platform.Processes[w.Process],
                platform.Random.Fork(w.Stream is { } stream ? $"stream:{stream}" : $"workload:{w.Device}:{w.Process}:{nth}"));
            platform.Workloads.Add(runner);
            runner.Start();
        }

        bool quiesced = control is null ? platform.Run(scenario.TimeLimitNs) : control.Run(platform, scenario.TimeLimitNs, baseline);
        // A run stopped early has work in flight by design: the end-of-run checks would report it as lost.
        if (control?.Stopped == true) return Report(platform, runSeed, faultPolicy.Name, quiesced) with { Partial = true };
        platform.CheckEnd(quiesced);
        return Report(platform, runSeed, faultPolicy.Name, quiesced);
    }

    private static RunReport Report(Platform p, ulong seed, string policy, bool quiesced)
    {
        // One pass over the workloads, so the report stays linear in devices (issue 9).
        var skipped = new Dictionary<string, long>();
        foreach (var w in p.Workloads) skipped[w.Spec.Device] = skipped.GetValueOrDefault(w.Spec.Device) + w.Skipped;
        var fc = p.Framework.Counters;
        var byDevice = p.Workloads.ToLookup(w => w.Spec.Device);
        return new RunReport
        {
            Scenario = p.Scenario.Name,
            Seed = seed,
            Policy = policy,
            EndTimeNs = p.Now,
            Events = p.Scheduler.EventsRun,
            Quiesced = quiesced,
            Devices = p.Functions.Select(n =>
            {
                var c = n.Function.Counters;
                return new DeviceReport
                {
                    Name = n.Name,
                    Requester = n.Spec.Requester.ToString(),
                    Iommu = n.Port.Unit.Name,
                    Pasids = new SortedDictionary<string, uint>(n.Port.Pasids.ToDictionary(), StringComparer.Ordinal),
                    Allocation = n.Function.Pri.Allocation,
                    PageRequests = c.PageRequests,
                    Groups = c.Groups,
                    ResponsesSuccess = c.ResponsesSuccess,
                    ResponsesInvalid = c.ResponsesInvalid,
                    ResponsesFailure = c.ResponsesFailure,
                    ResponsesReserved = c.ResponsesReserved,
                    CreditsHighWater = c.CreditsHighWater,
                    UnexpectedResponses = c.UnexpectedResponses,
                    Uprgi = n.Function.Pri.UnexpectedPrgIndex,
                    ResponseFailure = n.Function.Pri.ResponseFailure,
                    Retries = c.Retries,
                    TranslationRequests = c.TranslationRequests,
                    AtcHits = c.AtcHits,
                    AccessesStarted = c.AccessesStarted,
                    AccessesSkipped = skipped.GetValueOrDefault(n.Name),
                    StopMarkers = c.StopMarkers,
                    DiscardedAfterStop = c.DiscardedAfterStop,
                    GroupsForgotten = c.GroupsForgotten,
                    CreditsHeld = n.Function.Pri.Outstanding,
                    AccessesCompleted = c.AccessesCompleted,
                    AccessesFailed = Enum.GetValues<AccessResult>()
                        .Where(r => r != AccessResult.Completed)
                        .ToDictionary(r => r.ToString(), r => n.Results[(int)r]),
                    FaultLatency = LatencyReport.From(n.FaultLatency),
                    ThroughputPerMs = Throughput(byDevice[n.Name]),
                };
            }).ToList(),
            Iommus = p.Kernel.Units.Select(u => u.Report(p.Now)).ToList(),
            Masters = p.Masters.Select(n =>
            {
                var c = n.Master.Counters;
                return new MasterReport
                {
                    Name = n.Name,
                    StreamId = n.Spec.StreamId,
                    Iommu = n.Port.Unit.Name,
                    Owner = n.Spec.Owner ?? n.Name,
                    Pasids = new SortedDictionary<string, uint>(n.Port.Pasids.ToDictionary(), StringComparer.Ordinal),
                    ContextBank = HostKernel.ContextBankOf(n.Port),
                    Transactions = c.Transactions,
                    Accesses = c.Accesses,
                    Completed = c.Completed,
                    Aborted = c.Aborted,
                    TerminatedRazWi = c.TerminatedRazWi,
                    Retried = c.Retried,
                    AccessesSkipped = skipped.GetValueOrDefault(n.Name),
                    AccessLatency = LatencyReport.From(n.AccessLatency),
                    ThroughputPerMs = Throughput(byDevice[n.Name]),
                };
            }).ToList(),
            Framework = new FrameworkReport
            {
                Reports = fc.Reports,
                Partials = fc.Partials,
                Groups = fc.Groups,
                ResponsesSuccess = fc.ResponsesSuccess,
                ResponsesInvalid = fc.ResponsesInvalid,
                ResponsesFailure = fc.ResponsesFailure,
                NoHandlerAnswers = fc.NoHandlerAnswers,
                NoHandlerDrops = fc.NoHandlerDrops,
                AbortedGroups = fc.AbortedGroups,
                Deferrals = fc.Deferrals,
                StaleResponsesDropped = fc.StaleResponsesDropped,
                StaleResponsesRejected = fc.StaleResponsesRejected,
                DiscardedPartials = fc.DiscardedPartials,
                EvictedPartialGroups = fc.EvictedPartialGroups,
                PurgedPartials = fc.PurgedPartials,
                CancelledAtTeardown = fc.CancelledAtTeardown,
                Flushes = fc.Flushes,
                RemovedGroups = fc.RemovedGroups,
            },
            FaultLatency = LatencyReport.From(p.FaultLatency),
            AccessLatency = LatencyReport.From(p.AccessLatency),
            Tenants = Tenants(p),
            Invariants = p.Invariants.Kept,
            InvariantCounts = p.Invariants.CountsByRule,
            Notes = p.Kernel.Notes,
            Teardowns = p.Kernel.Teardowns.Select(t => t.Report()).ToList(),
            Version = Version,
            WarmupNs = p.Scenario.WarmupNs,
            FaultLatencyHandler = LatencyReport.From(p.FaultLatencyHandler),
            FaultLatencyAuto = LatencyReport.From(p.FaultLatencyAuto),
            FaultStages = new StageLatencyReport(LatencyReport.From(p.StageLink), LatencyReport.From(p.StageHostQueue),
                LatencyReport.From(p.StageService), LatencyReport.From(p.StageResponse),
                LatencyReport.From(p.StageIommuQueue), LatencyReport.From(p.StageDriver), LatencyReport.From(p.StageFaultQueue)),
            Queues = p.Occupancy.Reports(p.Now),
            ResolvedScenario = p.Scenario,
        };
    }

    /// <summary>The tool's version, without the "+commit" a build appends: a report's bytes do not change with each commit.</summary>
    public static string Version { get; } =
        (typeof(Simulator).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion ?? "0").Split('+')[0];

    /// <summary>Completed accesses per millisecond of the runners, started after the warm-up, from the first such start to the last end.</summary>
    private static double Throughput(IEnumerable<WorkloadRunner> runners)
    {
        long completed = 0, first = long.MaxValue, last = 0;
        foreach (var w in runners)
        {
            completed += w.CompletedMeasured;
            if (w.FirstMeasuredStartNs is { } start) first = Math.Min(first, start);
            last = Math.Max(last, w.LastEndNs);
        }
        return first != long.MaxValue && last > first ? Math.Round(completed * 1e6 / (last - first), 3) : 0;
    }

    /// <summary>
    /// One row per tenant: each guest, and each host process with a workload on a host device. Credits
    /// leaked are those still held on the tenant's devices at the end (no response will come for them).
    /// </summary>
    private static List<TenantReport> Tenants(Platform p)
    {
        var tenants = new List<TenantReport>();
        var guestDevices = p.Guests.Select(g => g.Node.Name).ToHashSet();
        // Groups in order of first appearance, runners in workload order: the same rows as one scan per tenant.
        var hostRunners = p.Workloads.Where(w => !guestDevices.Contains(w.Spec.Device)).ToLookup(w => w.Spec.Process);
        var byDevice = p.Workloads.ToLookup(w => w.Spec.Device);
        foreach (var runners in hostRunners)
        {
            var list = runners.ToList();
            tenants.Add(Tenant(p, runners.Key, "host", "sva", list, list.Select(w => w.Spec.Device).ToHashSet(), null));
        }
        foreach (var guest in p.Guests)
        {
            var runners = byDevice[guest.Node.Name].ToList();
            tenants.Add(Tenant(p, guest.Spec.Name, "guest", BehaviourName(guest.Spec.Behaviour), runners, new HashSet<string> { guest.Node.Name }, guest));
        }
        return tenants;
    }

    private static TenantReport Tenant(Platform p, string name, string kind, string behaviour, List<WorkloadRunner> runners, IReadOnlySet<string> deviceNames, Guest? guest)
    {
        var devices = deviceNames.Count == 1 && p.FunctionNamed(deviceNames.First()) is { } only
            ? [only]
            : p.Functions.Where(f => deviceNames.Contains(f.Name)).ToList();
        long completed = runners.Sum(w => w.Completed);
        var access = new LatencyRecorder();
        foreach (var w in runners) access.Add(w.AccessLatency);
        var q = guest?.Queue.Counters;
        return new TenantReport
        {
            Name = name,
            Kind = kind,
            Behaviour = behaviour,
            Hostile = guest?.Spec.IsHostile ?? false,
            Devices = devices.Select(d => d.Name).ToList(),
            AccessesCompleted = completed,
            AccessesFailed = runners.Sum(w => w.Failed),
            AccessesSkipped = runners.Sum(w => w.Skipped),
            ThroughputPerMs = Throughput(runners),
            AccessLatency = LatencyReport.From(access),
            FaultLatency = LatencyReport.From(p.TenantFaultLatency.GetValueOrDefault(name) ?? new LatencyRecorder()),
            // A guest owns its functions whole; a process is charged only its own PASID's groups (two tenants sharing a
            // device each held all of them before).
            CreditsLeaked = guest is not null ? devices.Sum(d => (long)d.Function.Pri.Outstanding) : devices.Sum(d => p.CreditsHeldBy(d, name)),
            CreditsRecoveredByReset = guest?.Attachment.CreditsRecoveredByReset ?? 0,
            Uprgi = devices.Any(d => d.Function.Pri.UnexpectedPrgIndex),
            ResponseFailure = devices.Any(d => d.Function.Pri.ResponseFailure),
            Rejected = q is null ? new Dictionary<string, long>() : Enum.GetValues<Userspace.ResponseRejection>()
                .Where(r => r != Userspace.ResponseRejection.None && q.Rejected(r) > 0)
                .ToDictionary(r => BehaviourName(r), r => q.Rejected(r)),
            Expired = q?.Expired ?? 0,
            LostEvents = q?.LostEvents ?? 0,
            AnsweredAtDetach = q?.AutoResponses ?? 0,
        };
    }

    /// <summary>kebab-case of an enum member, as scenario files and reports spell it.</summary>
    internal static string BehaviourName<T>(T value) where T : struct, Enum =>
        string.Concat(value.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "-" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
