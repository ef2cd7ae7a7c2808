using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Iommu;
using Faultline.Simulation.Distributions;
using Faultline.Sva;

namespace Faultline.Simulation;

/// <summary>A whole run: topology, processes, workloads, timing, policy and seed (docs/scenarios.md).</summary>
public sealed record Scenario
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";
    public ulong Seed { get; init; } = 1;
    public string Policy { get; init; } = "hardened";
    /// <summary>A run that has not gone quiet by then is stopped and reported (livelock guard).</summary>
    public long TimeLimitNs { get; init; } = 10_000_000_000;
    /// <summary>Samples that start before it are left out of every latency, occupancy and throughput statistic.</summary>
    public long WarmupNs { get; init; }
    /// <summary>The host's service costs and handler overhead drawn from distributions, where the file gives them.</summary>
    public ServiceSpec Service { get; init; } = new();
    public Timing Timing { get; init; } = new();
    public HostSpec Host { get; init; } = new();
    public required IReadOnlyList<IommuSpec> Iommus { get; init; }
    public required IReadOnlyList<ProcessSpec> Processes { get; init; }
    public required IReadOnlyList<DeviceSpec> Devices { get; init; }
    public required IReadOnlyList<WorkloadSpec> Workloads { get; init; }
    /// <summary>Things that happen at a given time: unbinds, binds, process exits, device removal.</summary>
    public IReadOnlyList<ScenarioEvent> Events { get; init; } = [];
    /// <summary>Guests (or userspace drivers) that own a device and answer its faults through a fault queue.</summary>
    public IReadOnlyList<GuestSpec> Guests { get; init; } = [];

    /// <summary>
    /// What of this scenario <paramref name="release"/> lacks entirely, said as "what it needs, what arrived when", or
    /// null when it has it all. Such a run is refused rather than pretended (docs/policies.md, "Kernel releases").
    /// </summary>
    public string? MissingIn(KernelRelease release)
    {
        // R39: the iommufd fault object (iommufd/fault.c) came with v6.11.
        if (Guests.Count > 0 && release < new KernelRelease(6, 11))
            return "its guests need the iommufd fault queue, which arrived in v6.11";
        // R35: amd/ppr.c came with v6.10; v6.6's amd_iommu_v2 path is not modelled, v6.7–v6.9 had none.
        if (Iommus.FirstOrDefault(i => i.Type == IommuType.Amd) is { } amd && release < new KernelRelease(6, 10))
            return $"its AMD IOMMU '{amd.Name}' needs Linux's PPR path (amd/ppr.c), which arrived in v6.10";
        return null;
    }
    /// <summary>Platform stall masters behind SMMUv3 or SMMUv2 units.</summary>
    public IReadOnlyList<MasterSpec> Masters { get; init; } = [];
}

/// <summary>How a guest treats the faults its fault queue delivers (issue: guest models, honest and hostile).</summary>
public enum GuestBehaviour
{
    /// <summary>Reads, resolves each fault in its own stage-1 address space, answers with the right cookie.</summary>
    Honest,
    /// <summary>Reads and never answers.</summary>
    NeverAnswers,
    /// <summary>Answers correctly, then sends the same answer again.</summary>
    AnswersTwice,
    /// <summary>Answers with cookies drawn at random instead of the ones it read.</summary>
    RandomCookies,
    /// <summary>Answers each group with the cookie of the group it read before (its first one correctly).</summary>
    StaleCookies,
    /// <summary>Answers with codes 2 and above, which the uAPI does not define (BUG-10).</summary>
    BadCodes,
    /// <summary>Answers SUCCESS without mapping anything, so its device re-faults as fast as its credits allow.</summary>
    Flood,
    /// <summary>Holds its answers and sends them only after its device was detached (R43).</summary>
    AnswersAfterDetach,
    /// <summary>Never reads its fault queue.</summary>
    ReadsNothing,
}

/// <summary>
/// A guest that owns a PCIe function through iommufd: a fault-capable HWPT on its own fault queue is
/// attached at <see cref="Pasid"/> of the function, with the guest's stage-1 address space
/// (<see cref="Process"/>) as the translation.
/// </summary>
public sealed record GuestSpec
{
    public required string Name { get; init; }
    public required GuestBehaviour Behaviour { get; init; }
    public required string Device { get; init; }
    /// <summary>The process entry whose VMAs are the guest's stage-1 address space.</summary>
    public required string Process { get; init; }
    public uint Pasid { get; init; } = 1;
    /// <summary>From the queue turning readable to the guest's read (VMM wake-up, injection into the guest).</summary>
    public long ReadDelayNs { get; init; } = 5_000;
    /// <summary>The guest's time per batch before it answers, on top of its page-fault costs.</summary>
    public long AnswerDelayNs { get; init; } = 5_000;
    /// <summary>When the host detaches the device from the guest's domain (R43; POL-9 under hardened); null: never.</summary>
    public long? DetachAtNs { get; init; }

    public bool IsHostile => Behaviour != GuestBehaviour.Honest;
}

/// <summary>Something a scenario makes happen at <see cref="AtNs"/>.</summary>
[System.Text.Json.Serialization.JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(UnbindEvent), "unbind")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(BindEvent), "bind")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(ExitEvent), "exit")]
[System.Text.Json.Serialization.JsonDerivedType(typeof(RemoveDeviceEvent), "remove_device")]
public abstract record ScenarioEvent(long AtNs);

/// <summary>SVA unbind of a process from a device: PASID stop, drain, flush, detach (R25).</summary>
public sealed record UnbindEvent(long AtNs, string Device, string Process, PasidStopMode Stop) : ScenarioEvent(AtNs);

/// <summary>SVA bind of a process to a device; a process whose PASID was freed gets the lowest free one (reuse).</summary>
public sealed record BindEvent(long AtNs, string Device, string Process) : ScenarioEvent(AtNs);

/// <summary>The process exits: its faults are answered INVALID (R27), every binding is torn down, its PASID freed.</summary>
public sealed record ExitEvent(long AtNs, string Process, PasidStopMode Stop) : ScenarioEvent(AtNs);

/// <summary>The device leaves its IOPF queue (R4): pending groups answered INVALID and freed, partials freed.</summary>
public sealed record RemoveDeviceEvent(long AtNs, string Device) : ScenarioEvent(AtNs);

/// <summary>Latency of each hop (numbers.md §3: every hop is its own parameter), in nanoseconds.</summary>
public sealed record Timing
{
    /// <summary>One way between a function and the root complex, for any TLP.</summary>
    public long LinkNs { get; init; } = 250;
    /// <summary>The translation agent's work for an ATS request.</summary>
    public long TranslationNs { get; init; } = 300;
    /// <summary>From the page request event to the driver's thread running.</summary>
    public long InterruptNs { get; init; } = 2_000;
    /// <summary>The driver's work per page request descriptor.</summary>
    public long ReportNs { get; init; } = 150;
    /// <summary>From a group queued on the fault queue to a worker running it.</summary>
    public long HandlerWakeupNs { get; init; } = 1_000;
    /// <summary>From a response command written to the IOMMU executing it.</summary>
    public long ResponseCommandNs { get; init; } = 300;
    /// <summary>Hops drawn from a distribution (jitter) instead of their constant above, which is then the mean.</summary>
    public IReadOnlyDictionary<Hop, Distribution> Drawn { get; init; } = NoneDrawn;

    // One shared empty map, so timings without jitter stay equal as records (the random scenarios' shrinker compares them).
    private static readonly IReadOnlyDictionary<Hop, Distribution> NoneDrawn = new Dictionary<Hop, Distribution>();
}

/// <summary>The hops of <see cref="Timing"/>, by the key that names each in a scenario file.</summary>
public enum Hop
{
    Link,
    Translation,
    Interrupt,
    Report,
    HandlerWakeup,
    ResponseCommand,
}

/// <summary>
/// Host service costs drawn per fault (present, minor, major: the class of <see cref="SvaCosts"/>) and a per-group
/// handler overhead; null: the constant of <see cref="HostSpec.Costs"/>, no overhead.
/// </summary>
public sealed record ServiceSpec
{
    public Distribution? PresentFault { get; init; }
    public Distribution? MinorFault { get; init; }
    public Distribution? MajorFault { get; init; }
    /// <summary>Added to every group a host worker runs, on top of its faults' costs.</summary>
    public Distribution? HandlerOverhead { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool DrawsCosts => PresentFault is not null || MinorFault is not null || MajorFault is not null;
}

/// <summary>A platform master that can stall (<c>dma-can-stall</c>), behind an SMMUv3 (H-SMMU-5, H-SMMU-10) or an SMMUv2 (H-SMMUv2-3).</summary>
public sealed record MasterSpec
{
    public required string Name { get; init; }
    public required uint StreamId { get; init; }
    public required string Iommu { get; init; }
    public int MaxOutstanding { get; init; } = 4;
    /// <summary>Whose POL-12 stall budget its stalls count against (a guest, a driver); default: the master itself.</summary>
    public string? Owner { get; init; }
    /// <summary>Processes bound to the master through SVA (SubstreamID = PASID); behind an SMMUv2, exactly one, at the RID.</summary>
    public required IReadOnlyList<string> Bind { get; init; }
    /// <summary>SMMUv2: the master's context bank; null: the lowest one no other master of the SMMU has.</summary>
    public int? ContextBank { get; init; }
    /// <summary>Whether and how the master sends an aborted transaction again (its driver resubmits); null: an abort ends the access.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public MasterRetry? Retry { get; init; }
}

/// <summary>A stall master's retry of an aborted transaction (<c>masters[].retry</c>): up to <see cref="Times"/> times, each after <see cref="AfterNs"/>.</summary>
public sealed record MasterRetry(int Times, long AfterNs);

public sealed record VmaSpec
{
    public required ulong Start { get; init; }
    public required int Pages { get; init; }
    public required VmaPermissions Permissions { get; init; }
    public FaultCost Cost { get; init; } = FaultCost.Minor;
    /// <summary>Share of the VMA's pages mapped before the run starts, chosen by the seed.</summary>
    public double Resident { get; init; }
}

public sealed record ProcessSpec
{
    public required string Name { get; init; }
    public required IReadOnlyList<VmaSpec> Vmas { get; init; }
}

public sealed record DeviceSpec
{
    public required string Name { get; init; }
    public required Pcie.RequesterId Requester { get; init; }
    public required string Iommu { get; init; }
    public uint Capacity { get; init; } = 32;
    /// <summary>Credits requested by the driver; Allocation = min(Capacity, Credits) (H-PCI-14).</summary>
    public uint? Credits { get; init; }
    public int PagesPerGroup { get; init; } = 4;
    public int AtcEntries { get; init; } = 1024;
    public int RetryLimit { get; init; } = 16;
    /// <summary>H-PCI-21 switch: a Stop Marker takes a credit (never returned).</summary>
    public bool StopMarkerConsumesCredit { get; init; }
    /// <summary>False: accesses skip ATS and every page is a page request (<see cref="Devices.PriFunctionConfig.Ats"/>).</summary>
    public bool Ats { get; init; } = true;
    /// <summary>Fault injection: every Nth group goes out without its last request (0 = never).</summary>
    public int OmitLastEvery { get; init; }
    /// <summary>The PRI status bit; R34: Linux refuses PRI on a PASID function without it.</summary>
    public bool PrgResponsePasidRequired { get; init; } = true;
    /// <summary>Processes bound to the device through SVA, each on its own PASID.</summary>
    public required IReadOnlyList<string> Bind { get; init; }
}

public sealed record WorkloadSpec
{
    public required string Device { get; init; }
    public required string Process { get; init; }
    public int Accesses { get; init; } = 100;
    public int MinPages { get; init; } = 1;
    public int MaxPages { get; init; } = 8;
    public double WriteFraction { get; init; } = 0.5;
    /// <summary>Mean time between access arrivals (exponential unless <see cref="Interval"/> says otherwise).</summary>
    public long IntervalNs { get; init; } = 5_000;
    /// <summary>The gaps between arrivals; null: exponential of mean <see cref="IntervalNs"/> (Poisson).</summary>
    public Distribution? Interval { get; init; }
    /// <summary>Accesses that arrive together at each arrival (batches); null: one.</summary>
    public Distribution? Batch { get; init; }
    /// <summary>On/off source (two-state MMPP): arrivals only while on; null: always on.</summary>
    public BurstSpec? Burst { get; init; }
    /// <summary>Closed loop: each access that ends (its credits free) starts the next after this think time, instead of arrivals.</summary>
    public Distribution? Think { get; init; }
    /// <summary>Pages per access; null: uniform over [<see cref="MinPages"/>, <see cref="MaxPages"/>].</summary>
    public Distribution? Pages { get; init; }
    /// <summary>Opt-in: added to <see cref="StartNs"/> for the first arrival.</summary>
    public Distribution? StartOffset { get; init; }
    /// <summary>Arrival times from a CSV file (<see cref="TraceFile"/>), after <see cref="StartNs"/>; replaces the interval.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<long>? Trace { get; init; }
    public string? TraceFile { get; init; }
    /// <summary>Accesses in flight at most; later arrivals wait.</summary>
    public int Concurrency { get; init; } = 4;
    public long StartNs { get; init; }
    /// <summary>The name of its random stream: workloads that share one draw the same arrivals and addresses.</summary>
    public string? Stream { get; init; }
}

/// <summary>An on/off source: sojourns in on (arrivals at the workload's interval) and off (none); exponential ones make it a two-state MMPP.</summary>
public sealed record BurstSpec
{
    public required Distribution On { get; init; }
    public required Distribution Off { get; init; }
}

/// <summary>
/// The most a scenario file may ask of the reader and of a run's setup (docs/scenarios.md, "Limits"). Each bounds
/// the time or memory a file alone can cost; breaking one is a <see cref="ScenarioException"/> naming it and its
/// place. The defaults take every example and benchmark scenario with room to spare.
/// </summary>
public sealed record ScenarioLimits
{
    /// <summary>The defaults, as documented.</summary>
    public static ScenarioLimits Default { get; } = new();

    // Each limit by its name in docs/scenarios.md and in a breach, the largest value its field holds, and how to set it.
    private static readonly (string Name, long Max, Func<ScenarioLimits, long, ScenarioLimits> Set)[] Entries =
    [
        ("file_size", long.MaxValue, (l, v) => l with { FileBytes = v }),
        ("depth", int.MaxValue, (l, v) => l with { Depth = (int)v }),
        ("nodes", long.MaxValue, (l, v) => l with { Nodes = v }),
        ("iommus", int.MaxValue, (l, v) => l with { Iommus = (int)v }),
        ("queue_entries", long.MaxValue, (l, v) => l with { QueueEntries = v }),
        ("processes", int.MaxValue, (l, v) => l with { Processes = (int)v }),
        ("vmas", int.MaxValue, (l, v) => l with { Vmas = (int)v }),
        ("vma_pages", long.MaxValue, (l, v) => l with { VmaPages = v }),
        ("resident_pages", long.MaxValue, (l, v) => l with { ResidentPages = v }),
        ("devices", int.MaxValue, (l, v) => l with { Devices = (int)v }),
        ("workloads", int.MaxValue, (l, v) => l with { Workloads = (int)v }),
        ("events", int.MaxValue, (l, v) => l with { Events = (int)v }),
    ];

    /// <summary>The limits' names, as docs/scenarios.md and a breach name them.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Entries.Select(e => e.Name)];

    /// <summary>These limits with <paramref name="name"/> set to <paramref name="value"/> (a user raising one on the command
    /// line for a scenario larger than the defaults take); null for a name that is not a limit or a value that does not fit it.</summary>
    public ScenarioLimits? With(string name, long value)
    {
        foreach (var (entry, max, set) in Entries)
            if (entry == name) return value >= 1 && value <= max ? set(this, value) : null;
        return null;
    }

    /// <summary><c>file_size</c>: bytes of the file (characters of a text already in memory).</summary>
    public long FileBytes { get; init; } = 16L << 20;
    /// <summary><c>depth</c>: lists and mappings nested in one another; a scenario needs 5.</summary>
    public int Depth { get; init; } = 64;
    /// <summary><c>nodes</c>: scalars, lists and mappings of the document with every alias expanded (alias bombs).</summary>
    public long Nodes { get; init; } = 2_000_000;
    /// <summary><c>iommus</c>: IOMMUs, each with queues of its own.</summary>
    public int Iommus { get; init; } = 1024;
    /// <summary><c>queue_entries</c>: entries of the hardware queues a scenario sizes (PRQ, PRI queue, event queue, PPR log), all allocated at start.</summary>
    public long QueueEntries { get; init; } = 1L << 22;
    /// <summary><c>processes</c>: processes (address spaces).</summary>
    public int Processes { get; init; } = 16_384;
    /// <summary><c>vmas</c>: VMAs of all processes together.</summary>
    public int Vmas { get; init; } = 65_536;
    /// <summary><c>vma_pages</c>: pages of all VMAs together; a run draws each one's residency at start.</summary>
    public long VmaPages { get; init; } = 1L << 25;
    /// <summary><c>resident_pages</c>: pages made resident at start, <c>pages</c> × <c>resident</c> rounded up, over all VMAs.</summary>
    public long ResidentPages { get; init; } = 1L << 23;
    /// <summary><c>devices</c>: PCIe functions and platform masters together (each with its ATC, PRI state and queues in the run).</summary>
    public int Devices { get; init; } = 16_384;
    /// <summary><c>workloads</c>: workloads.</summary>
    public int Workloads { get; init; } = 16_384;
    /// <summary><c>events</c>: scenario events.</summary>
    public int Events { get; init; } = 16_384;
}
