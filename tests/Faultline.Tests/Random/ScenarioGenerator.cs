using Faultline.Devices;
using Faultline.Host;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;
using Faultline.Simulation;
using Faultline.Sva;

namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// Draws a small scenario from a seed: one or two IOMMUs of any kind with small queues, a few functions of small
/// capacity and stall masters, guests of every behaviour (some detached), and a short sequence of operations at
/// random times — faults and overflow bursts (workloads), binds, unbinds, exits and device removals (events).
/// Every scenario is valid input as docs/scenarios.md defines it, and within what the model promises to handle
/// (<see cref="InDomain"/>). Same seed, same scenario.
/// </summary>
internal static class ScenarioGenerator
{
    private static readonly GuestBehaviour[] Behaviours = Enum.GetValues<GuestBehaviour>();

    public static Scenario Generate(ulong seed) => new Draw(new SimRandom(seed)).Scenario(seed);

    /// <summary>
    /// Within what hardened promises to survive, so shrinking stays there too: no switch that documents a loss by
    /// design (VT-d or SMMUv3 <c>discard_auto_response: none</c>, H-VTD-5, H-SMMU-3), no lying function
    /// (<c>omit_last_every</c>: once no guest owns it, or after POL-9's reset while an access is still under way,
    /// nothing resets it again; hostile-guests.yaml shows it where a detach does), and a short POL-5 deadline.
    /// </summary>
    public static bool InDomain(Scenario s) =>
        s.Host.ResponseDeadlineNs is not null
        && s.Iommus.All(i => i.Type == IommuType.Amd || i.DiscardAutoResponse != DiscardAutoResponse.None)
        && s.Devices.All(d => d.OmitLastEvery == 0);

    /// <summary>One scenario's draws; the topology first, then the operations on it.</summary>
    private sealed class Draw(SimRandom r)
    {
        private readonly List<IommuSpec> _iommus = [];
        private readonly List<ProcessSpec> _processes = [];
        private readonly List<DeviceSpec> _devices = [];
        private readonly List<MasterSpec> _masters = [];
        private readonly List<GuestSpec> _guests = [];
        private readonly List<WorkloadSpec> _workloads = [];
        private readonly List<ScenarioEvent> _events = [];
        // (device or master, process) pairs a workload may name: bind lists, bind events, guests.
        private readonly List<(string Device, string Process)> _bound = [];

        public Scenario Scenario(ulong seed)
        {
            Iommus();
            int hostProcesses = Between(1, 3);
            for (int i = 0; i < hostProcesses; i++) _processes.Add(Process($"p{i}"));
            Functions();
            Masters();
            int operations = Between(1, 8);
            for (int i = 0; i < operations; i++) Operation();
            if (_devices.Count + _masters.Count == 0) Functions(atLeastOne: true);
            return new Scenario
            {
                Name = $"random-{seed:x16}",
                Seed = r.NextUInt64() >> 1,
                Timing = r.Chance(0.3) ? new Timing
                {
                    LinkNs = Between(50, 500),
                    InterruptNs = Between(200, 3_000),
                    ReportNs = Between(20, 300),
                    HandlerWakeupNs = Between(100, 2_000),
                    ResponseCommandNs = Between(50, 500),
                } : new Timing(),
                Host = new HostSpec
                {
                    Workers = Between(1, 3),
                    Costs = new SvaCosts(200, Between(500, 3_000), Between(5_000, 30_000)),
                    // Always a short POL-5 deadline: at hardened's 1 s, a silent guest's serial accesses would outlast
                    // the 10 s time limit and read as a livelock.
                    ResponseDeadlineNs = Between(10_000, 400_000),
                    FailGroupAllocations = r.Chance(0.1) ? [Between(1, 12)] : [],
                },
                Iommus = _iommus,
                Processes = _processes,
                Devices = _devices,
                Masters = _masters,
                Guests = _guests,
                Workloads = _workloads,
                Events = [.. _events.OrderBy(e => e.AtNs)],
            };
        }

        private void Iommus()
        {
            int count = r.Chance(0.8) ? 1 : 2;
            for (int i = 0; i < count; i++)
            {
                var type = Pick([IommuType.Vtd, IommuType.Smmuv3, IommuType.Amd, IommuType.Smmuv2]);
                string name = $"{type.ToString().ToLowerInvariant()}{i}";
                _iommus.Add(type switch
                {
                    IommuType.Vtd => new IommuSpec
                    {
                        Name = name,
                        Type = type,
                        PageRequestQueueOrder = r.Chance(0.7) ? 0 : Between(1, 4),
                        PageDrainSupported = !r.Chance(0.03),
                    },
                    IommuType.Smmuv3 => new IommuSpec
                    {
                        Name = name,
                        Type = type,
                        QueueLog2 = Between(1, 6),
                        EventQueueLog2 = Between(1, 5),
                        StallMax = Between(1, 4),
                        StallBufferFull = r.Chance(0.5) ? StallBufferFullMode.Abort : StallBufferFullMode.BackPressure,
                        PriService = r.Chance(0.8) ? null : Pick([PriService.Deny, PriService.Framework]),
                        // R38: the policy's default (off under linux, on under hardened), or either forced.
                        PriSeries = r.Chance(0.6) ? null : r.Chance(0.5),
                    },
                    // H-AMD-2: a lost request is answered by nobody unless the switch says Success; POL-14 recovers.
                    IommuType.Amd => new IommuSpec
                    {
                        Name = name,
                        Type = type,
                        QueueLog2 = 8, // the smallest PPR log the reader takes: 256 entries
                        DiscardAutoResponse = r.Chance(0.2) ? DiscardAutoResponse.Success : null,
                        InterruptBeforeEntryNs = r.Chance(0.25) ? Between(100, 3_000) : null,
                    },
                    _ => new IommuSpec { Name = name, Type = type, ContextBanks = Between(1, 4) },
                });
            }
        }

        private ProcessSpec Process(string name)
        {
            var vmas = new List<VmaSpec>();
            int count = r.Chance(0.7) ? 1 : 2;
            for (int i = 0; i < count; i++)
            {
                vmas.Add(new VmaSpec
                {
                    Start = 0x1000_0000UL * (ulong)(i + 1),
                    Pages = Between(1, 64),
                    Permissions = Pick([VmaPermissions.Read, VmaPermissions.Read | VmaPermissions.Write,
                        VmaPermissions.Read | VmaPermissions.Exec, VmaPermissions.Read | VmaPermissions.Write | VmaPermissions.Exec]),
                    Cost = r.Chance(0.3) ? FaultCost.Major : FaultCost.Minor,
                    Resident = r.Chance(0.3) ? 0.5 : 0,
                });
            }
            return new ProcessSpec { Name = name, Vmas = vmas };
        }

        private IEnumerable<IommuSpec> FunctionIommus => _iommus.Where(i => i.Type != IommuType.Smmuv2);

        private void Functions(bool atLeastOne = false)
        {
            var hosts = FunctionIommus.ToList();
            if (hosts.Count == 0)
            {
                if (!atLeastOne) return;
                hosts.Add(new IommuSpec { Name = $"vtd{_iommus.Count}", PageRequestQueueOrder = 0 });
                _iommus.Add(hosts[0]);
            }
            foreach (var iommu in hosts)
            {
                int count = Between(atLeastOne ? 1 : 0, 2);
                for (int i = 0; i < count; i++) Function(iommu);
            }
        }

        private void Function(IommuSpec iommu)
        {
            int n = _devices.Count;
            string name = $"d{n}";
            uint capacity = (uint)(r.Chance(0.8) ? Between(1, 8) : Between(9, 64));
            bool guest = r.Chance(0.3);
            var behaviour = Pick(Behaviours);
            long? detachAt = behaviour == GuestBehaviour.AnswersAfterDetach || r.Chance(0.5) ? Between(0, 300_000) : null;
            var hostProcesses = _processes.Where(p => p.Name.StartsWith('p')).Select(p => p.Name).ToList();
            var bind = guest ? [] : hostProcesses.Where(_ => r.Chance(0.6)).ToList();
            _devices.Add(new DeviceSpec
            {
                Name = name,
                Requester = RequesterId.From(0, n + 1, 0),
                Iommu = iommu.Name,
                Capacity = capacity,
                Credits = r.Chance(0.3) ? (uint)Between(1, (int)capacity) : null,
                PagesPerGroup = Between(1, 8),
                AtcEntries = r.Chance(0.3) ? Between(1, 8) : 1024,
                RetryLimit = r.Chance(0.3) ? Between(0, 3) : 16,
                PrgResponsePasidRequired = !r.Chance(0.03),
                StopMarkerConsumesCredit = r.Chance(0.25),
                Ats = !r.Chance(0.15),
                Bind = bind,
            });
            foreach (var p in bind) _bound.Add((name, p));
            if (!guest) return;
            string space = $"g{_guests.Count}-as";
            _processes.Add(Process(space));
            _guests.Add(new GuestSpec
            {
                Name = $"g{_guests.Count}",
                Behaviour = behaviour,
                Device = name,
                Process = space,
                Pasid = (uint)(r.Chance(0.7) ? 1 : Between(2, 64)),
                ReadDelayNs = Between(0, 10_000),
                AnswerDelayNs = Between(0, 10_000),
                DetachAtNs = detachAt,
            });
            _bound.Add((name, space));
        }

        private void Masters()
        {
            foreach (var smmu in _iommus.Where(i => i.Type is IommuType.Smmuv3 or IommuType.Smmuv2))
            {
                int count = Between(smmu.Type == IommuType.Smmuv2 ? 1 : 0, Math.Min(2, smmu.Type == IommuType.Smmuv2 ? smmu.ContextBanks : 2));
                for (int i = 0; i < count; i++)
                {
                    string name = $"m{_masters.Count}";
                    var hostProcesses = _processes.Where(p => p.Name.StartsWith('p')).Select(p => p.Name).ToList();
                    // Behind an SMMUv2 a master is bound to exactly one process (one context bank, no PASIDs).
                    var bind = smmu.Type == IommuType.Smmuv2 ? [Pick(hostProcesses)] : hostProcesses.Where(_ => r.Chance(0.6)).ToList();
                    _masters.Add(new MasterSpec
                    {
                        Name = name,
                        StreamId = (uint)(0x1000 + _masters.Count),
                        Iommu = smmu.Name,
                        MaxOutstanding = Between(1, 4),
                        Owner = r.Chance(0.3) ? "shared" : null,
                        // POL-12: a master that resends what was aborted, so a slow owner's faults can end in the background.
                        Retry = r.Chance(0.3) ? new MasterRetry(Between(1, 8), Between(1_000, 50_000)) : null,
                        Bind = bind,
                        ContextBank = smmu.Type == IommuType.Smmuv2 ? i : null,
                    });
                    foreach (var p in bind) _bound.Add((name, p));
                }
            }
        }

        /// <summary>One operation at a random time: a fault workload, an overflow burst, or a scenario event.</summary>
        private void Operation()
        {
            long at = Between(0, 300_000);
            var hostProcesses = _processes.Where(p => p.Name.StartsWith('p')).Select(p => p.Name).ToList();
            // Guests own their functions alone, and an SMMUv2 master keeps its one process: SVA binds neither (docs/scenarios.md).
            var bindable = _devices.Where(d => _guests.All(g => g.Device != d.Name)).Select(d => d.Name)
                .Concat(_masters.Where(m => _iommus.First(i => i.Name == m.Iommu).Type == IommuType.Smmuv3).Select(m => m.Name)).ToList();
            switch (r.NextInclusive(0, 13))
            {
                case <= 4 when _bound.Count > 0:
                    Workload(Pick(_bound), at, burst: false);
                    break;
                case <= 6 when _bound.Count > 0:
                    Workload(Pick(_bound), at, burst: true);
                    break;
                case <= 8 when _bound.Any(b => IsFunction(b.Device) && hostProcesses.Contains(b.Process)):
                    var (device, process) = Pick(_bound.Where(b => IsFunction(b.Device) && hostProcesses.Contains(b.Process)).ToList());
                    _events.Add(new UnbindEvent(at, device, process, StopMode()));
                    break;
                case <= 10:
                    _events.Add(new ExitEvent(at, Pick(hostProcesses), StopMode()));
                    break;
                case <= 12 when bindable.Count > 0:
                    var bind = new BindEvent(at, Pick(bindable), Pick(hostProcesses));
                    _events.Add(bind);
                    if (!_bound.Contains((bind.Device, bind.Process))) _bound.Add((bind.Device, bind.Process));
                    break;
                default:
                    var all = _devices.Select(d => d.Name).Concat(_masters.Select(m => m.Name)).ToList();
                    if (all.Count > 0) _events.Add(new RemoveDeviceEvent(at, Pick(all)));
                    break;
            }
        }

        /// <summary>Faults from one device into one process; a burst is wide and dense, to overflow a small queue.</summary>
        private void Workload((string Device, string Process) pair, long at, bool burst)
        {
            int min = burst ? Between(4, 16) : Between(1, 4);
            _workloads.Add(new WorkloadSpec
            {
                Device = pair.Device,
                Process = pair.Process,
                Accesses = burst ? Between(8, 40) : Between(1, 20),
                MinPages = min,
                MaxPages = min + (burst ? Between(0, 16) : Between(0, 4)),
                WriteFraction = Pick([0.0, 0.5, 1.0]),
                IntervalNs = burst ? Between(10, 100) : Between(100, 5_000),
                Concurrency = burst ? Between(8, 32) : Between(1, 4),
                StartNs = at,
            });
        }

        private bool IsFunction(string name) => _devices.Any(d => d.Name == name);

        private PasidStopMode StopMode() => r.Chance(0.5) ? PasidStopMode.StopMarker : PasidStopMode.WaitForResponses;

        private int Between(int min, int max) => (int)r.NextInclusive(min, max);

        private T Pick<T>(IReadOnlyList<T> items) => items[(int)r.NextInclusive(0, items.Count - 1)];
    }
}
