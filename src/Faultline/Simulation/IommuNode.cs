using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Pcie;

namespace Faultline.Simulation;

/// <summary>
/// One IOMMU in the topology — hardware model, Linux driver, and the host threads that serve them —
/// seen by the platform through what every architecture has in common. A subclass per architecture
/// (<see cref="VtdNode"/>, <see cref="Smmuv3Node"/>, <see cref="AmdNode"/>) implements that
/// architecture's platform interface and turns its callbacks into scheduled events.
/// </summary>
internal abstract class IommuNode(Platform platform, IommuSpec spec)
{
    private bool _commandsScheduled;

    protected Platform Platform { get; } = platform;
    public IommuSpec Spec { get; } = spec;
    public string Name => Spec.Name;
    public abstract string Kind { get; }
    public Dictionary<RequesterId, FunctionNode> Functions { get; } = new();
    public Dictionary<uint, MasterNode> Masters { get; } = new();
    /// <summary>Workers of this IOMMU's fault queues busy now (R1: the workqueue's concurrency, <see cref="HostSpec.Workers"/>).</summary>
    public int BusyWorkers => _workers.Count;
    private readonly SortedSet<int> _workers = [];

    /// <summary>Its process in the trace.</summary>
    public string TraceName => $"{Name} ({Kind})";

    /// <summary>A worker starts: the lowest free slot, so the trace draws each worker on its own track.</summary>
    public int TakeWorker()
    {
        int slot = 0;
        while (_workers.Contains(slot)) slot++;
        _workers.Add(slot);
        return slot;
    }

    public void ReleaseWorker(int slot) => _workers.Remove(slot);

    /// <summary>Whether devices behind it have PASIDs (substreams); without them a device's one address space sits at the RID.</summary>
    public virtual bool HasPasids => true;

    /// <summary>Why this IOMMU's driver refuses IOPF to a function whose PRI is enabled, for the summary's note.</summary>
    public abstract string IopfRefusal { get; }

    /// <summary>The IOPF queues whose work the workers run, in the order they are served.</summary>
    public abstract IReadOnlyList<FaultQueue> FaultQueues { get; }

    // ---- PCIe functions ----

    public abstract TranslationCompletion Translate(in TranslationRequest request);
    public abstract void OnPageRequest(in PageRequest request);
    public virtual void OnInvalidationCompletion(in InvalidationCompletion completion) { }

    /// <summary>Probe (PASID, ATS, PRI with the driver's credits) and IOPF; the table is null only where even ATS cannot be set up.</summary>
    public abstract (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, DeviceSpec spec);

    /// <summary>Whether the hardware queue still holds requests of (requester, PASID) (the drain's scan).</summary>
    public abstract bool RingHolds(RequesterId requester, uint pasid);

    /// <summary>No response command is waiting in the driver or the IOMMU's command queue.</summary>
    public abstract bool CommandsIdle { get; }

    public abstract RequesterId? RequesterOf(FaultDevice device);

    /// <summary>
    /// R25's drain of (device, PASID): until no request or event of it is left in the hardware queue, then the
    /// fault queue flush (R23; H-SMMU-13 for stall masters). VT-d adds its invalidation-queue step (R33).
    /// </summary>
    public virtual IPasidDrain BeginDrain(DeviceNode node, uint pasid, long now) =>
        new QueueDrain(Platform.Framework, node.FaultDevice!, node.FaultDevice!.Queue ?? FaultQueues[0], pasid, () => node.QueueHolds(pasid));

    // ---- platform stall masters (SMMUv3, SMMUv2) ----

    public virtual (FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddStallMaster(MasterSpec spec) => (FaultStatus.NoDevice, null, null);

    /// <summary>Whether a queue still holds events of (StreamID, PASID) — an SMMUv3's event queue; none elsewhere.</summary>
    public virtual bool MasterQueueHolds(uint streamId, uint pasid) => false;

    public virtual void OnTransaction(in StallTransaction transaction, long now) =>
        throw new InvalidOperationException($"{Kind} IOMMU {Name} has no platform masters");

    /// <summary>
    /// Names the rule when the IOMMU discarded page requests and answered none of them (no auto-response),
    /// so a function may wait forever for a group whose last request was lost; else empty.
    /// </summary>
    public abstract string UnansweredDiscards { get; }

    // ---- reporting ----

    public abstract IommuReport Report();

    /// <summary>What must hold of this IOMMU at the end of a run.</summary>
    public virtual void CheckEnd(InvariantLog invariants, long now)
    {
        foreach (var queue in FaultQueues)
            if (queue.QueuedWork > 0) invariants.Report("R26", now, Name, $"{queue.QueuedWork} fault work items of {queue.Name} never ran");
    }

    /// <summary>
    /// A response command was written: the IOMMU executes the queue <see cref="Timing.ResponseCommandNs"/>
    /// later, once for everything written meanwhile, then the driver submits what waited for room.
    /// </summary>
    protected void CommandsQueued(Action execute)
    {
        if (_commandsScheduled) return;
        _commandsScheduled = true;
        Platform.Scheduler.After(Platform.Timing.ResponseCommandNs, () =>
        {
            _commandsScheduled = false;
            execute();
        });
    }
}

/// <summary>
/// A driver's threaded interrupt handler (the PRQ, PRIQ, event queue or PPR log thread): woken by the
/// interrupt, it runs <see cref="Timing.InterruptNs"/> later, or when its previous batch is done, and
/// stays busy <see cref="Timing.ReportNs"/> per entry handled; then the workers and drains move on.
/// </summary>
internal sealed class DriverThread(Platform platform, IommuNode node, string name, RingQueue? ring, Func<int> handleBatch)
{
    private bool _scheduled;
    private long _busyUntil;

    public void Wake() => WakeAt(platform.Now + platform.Timing.InterruptNs);

    /// <summary>Runs the thread at <paramref name="time"/> (or when it is free); for a handler that polls again later.</summary>
    public void WakeAt(long time)
    {
        if (_scheduled) return;
        _scheduled = true;
        platform.Scheduler.At(Math.Max(time, _busyUntil), Run);
    }

    private void Run()
    {
        _scheduled = false;
        if (ring is not null) platform.Trace?.Counter(node.TraceName, $"{name}: queue", platform.Now, ring.Count);
        int handled = handleBatch();
        _busyUntil = platform.Now + handled * platform.Timing.ReportNs;
        platform.Trace?.Span(node.TraceName, name, "batch", platform.Now, _busyUntil - platform.Now, "driver", ("entries", handled.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (ring is not null) platform.Trace?.Counter(node.TraceName, $"{name}: queue", platform.Now, ring.Count);
        platform.Scheduler.At(_busyUntil, () => platform.AfterDriverBatch(node));
    }
}
