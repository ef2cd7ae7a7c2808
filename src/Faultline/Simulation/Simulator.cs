using Faultline.Devices;
using Faultline.Faults;
using Faultline.Sva;

namespace Faultline.Simulation;

/// <summary>Builds a scenario's topology, runs it in virtual time, checks invariants, and reports.</summary>
public static class Simulator
{
    public static RunReport Run(Scenario scenario, ulong? seed = null, string? policy = null)
    {
        string policyName = policy ?? scenario.Policy;
        var faultPolicy = FaultPolicy.ByName(policyName)
            ?? throw new ArgumentException($"unknown policy '{policyName}'; use linux or hardened", nameof(policy));
        ulong runSeed = seed ?? scenario.Seed;
        var platform = new Platform(scenario, faultPolicy, runSeed);

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
        var functions = scenario.Devices.ToDictionary(d => d.Name, d => platform.AddFunction(d, iommus[d.Iommu]));
        foreach (var d in scenario.Devices)
            foreach (var process in d.Bind)
                platform.Bind(functions[d.Name], platform.Processes[process]);
        foreach (var e in scenario.Events) platform.Schedule(e, functions);

        foreach (var w in scenario.Workloads)
        {
            var runner = new WorkloadRunner(platform, w, functions[w.Device], platform.Processes[w.Process],
                platform.Random.Fork($"workload:{w.Device}:{w.Process}:{platform.Workloads.Count}"));
            platform.Workloads.Add(runner);
            runner.Start();
        }

        bool quiesced = platform.Scheduler.Run(scenario.TimeLimitNs);
        platform.CheckEnd(quiesced);
        return Report(platform, runSeed, faultPolicy.Name, quiesced);
    }

    private static RunReport Report(Platform p, ulong seed, string policy, bool quiesced)
    {
        var fc = p.Framework.Counters;
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
                    Iommu = n.Iommu.Name,
                    Pasids = new SortedDictionary<string, uint>(n.Pasids, StringComparer.Ordinal),
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
                    AccessesSkipped = p.Workloads.Where(w => w.Spec.Device == n.Name).Sum(w => w.Skipped),
                    StopMarkers = c.StopMarkers,
                    DiscardedAfterStop = c.DiscardedAfterStop,
                    AccessesCompleted = c.AccessesCompleted,
                    AccessesFailed = Enum.GetValues<AccessResult>()
                        .Where(r => r != AccessResult.Completed)
                        .ToDictionary(r => r.ToString(), r => n.Results[(int)r]),
                    FaultLatency = LatencyReport.From(n.FaultLatency),
                };
            }).ToList(),
            Iommus = p.Iommus.Select(n =>
            {
                var hw = n.Hardware.Counters;
                var drv = n.Driver.Counters;
                return new IommuReport
                {
                    Name = n.Name,
                    Kind = "vtd",
                    RingEntries = n.Hardware.PageRequestQueue.Entries,
                    RingHighWater = n.Hardware.PageRequestQueue.HighWater,
                    PageRequestsReceived = hw.PageRequestsReceived,
                    Queued = hw.Queued,
                    RefusedAtGate = hw.RefusedAtGate,
                    DiscardedFull = hw.DiscardedFull,
                    DiscardedWhileOverflowed = hw.DiscardedWhileOverflowed,
                    AutoResponses = hw.AutoResponses,
                    Events = hw.Events,
                    DriverBatches = drv.Batches,
                    Reported = drv.Reported,
                    StopMarkersDropped = drv.StopMarkersDropped,
                    BadRequestsAnswered = drv.BadRequestsAnswered,
                    BadRequestsDropped = drv.BadRequestsDropped,
                    OverflowsCleared = drv.OverflowsCleared,
                    PrgResponsesSent = hw.PrgResponsesSent,
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
            Invariants = p.Invariants.Kept,
            InvariantCounts = p.Invariants.CountsByRule,
            Notes = p.Notes,
            Teardowns = p.Teardowns.Select(t => t.Report()).ToList(),
        };
    }
}
