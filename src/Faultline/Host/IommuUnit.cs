using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>
/// One IOMMU as the host kernel runs it: the architecture's hardware model, its Linux driver and the glue to
/// the fault framework, seen through what every architecture has in common. A subclass per architecture
/// implements that architecture's platform interface and turns what the hardware does into
/// <see cref="HostAction"/>s; the kernel does the rest (workers, drains, teardown, invariants).
/// </summary>
public abstract class IommuUnit
{
    private FaultWorkItem[] _work = new FaultWorkItem[4]; // what each busy worker runs, by slot
    private bool[] _busy = new bool[4];
    private int _busyCount;
    private readonly bool[] _threadPending;
    private bool _commandsPending;

    private protected IommuUnit(HostKernel kernel, IommuSpec spec, int threads)
    {
        Kernel = kernel;
        Spec = spec;
        Index = kernel.Units.Count;
        _threadPending = new bool[threads];
    }

    private protected HostKernel Kernel { get; }
    /// <summary>The spec the unit was built from.</summary>
    public IommuSpec Spec { get; }
    /// <summary>The IOMMU's name, from its spec.</summary>
    public string Name => Spec.Name;
    /// <summary>Its place in <see cref="HostKernel.Units"/>, as <see cref="HostAction.Unit"/> names it.</summary>
    public int Index { get; }
    /// <summary>The architecture's short name: <c>vtd</c>, <c>smmuv3</c>, <c>amd</c> or <c>smmuv2</c>.</summary>
    public abstract string Kind { get; }
    /// <summary>Its process in a trace.</summary>
    public string TraceName => $"{Name} ({Kind})";
    internal Dictionary<RequesterId, FunctionPort> Functions { get; } = new();
    internal Dictionary<uint, MasterPort> Masters { get; } = new();

    /// <summary>Workers of this IOMMU's fault queues busy now (R1: the workqueue's concurrency, <see cref="HostSpec.Workers"/>).</summary>
    public int BusyWorkers => _busyCount;

    /// <summary>A worker starts on <paramref name="item"/>: the lowest free slot, so a trace draws each worker on its own track.</summary>
    internal int TakeWorker(in FaultWorkItem item)
    {
        int slot = 0;
        while (slot < _busy.Length && _busy[slot]) slot++;
        if (slot == _busy.Length)
        {
            Array.Resize(ref _busy, _busy.Length * 2);
            Array.Resize(ref _work, _work.Length * 2);
        }
        _busy[slot] = true;
        _busyCount++;
        _work[slot] = item;
        return slot;
    }

    /// <summary>The item worker <paramref name="slot"/> runs.</summary>
    internal ref readonly FaultWorkItem WorkAt(int slot) => ref _work[slot];

    internal void ReleaseWorker(int slot)
    {
        if (!_busy[slot]) return;
        _busy[slot] = false;
        _busyCount--;
        _work[slot] = default;
    }

    /// <summary>Whether devices behind it have PASIDs (substreams); without them a device's one address space sits at the RID.</summary>
    public virtual bool HasPasids => true;

    /// <summary>Why this IOMMU's driver refuses IOPF to a function whose PRI is enabled, for a note.</summary>
    internal abstract string IopfRefusal { get; }

    /// <summary>The IOPF queues whose work the workers run, in the order they are served.</summary>
    public abstract IReadOnlyList<FaultQueue> FaultQueues { get; }

    // ---- driver threads and the command queue: asked of the host once until they ran ----

    /// <summary>The driver's threaded interrupt handlers (PRQ, PRIQ and EVTQ, PPR log, context banks).</summary>
    public int ThreadCount => _threadPending.Length;

    /// <summary>The thread's name in a trace.</summary>
    public abstract string ThreadName(int thread);

    /// <summary>The hardware queue the thread drains, if it has one (a trace samples its fill).</summary>
    public abstract RingQueue? ThreadQueue(int thread);

    /// <summary>The interrupt fired, or the handler wants to poll again at <paramref name="at"/>: an MSI does not queue twice.</summary>
    private protected void WakeThread(int thread, long at = HostAction.NoTime)
    {
        if (_threadPending[thread]) return;
        _threadPending[thread] = true;
        Kernel.Emit(new HostAction { Kind = HostActionKind.RunThread, Unit = Index, Target = thread, At = at });
    }

    internal int RunThread(int thread, long now)
    {
        _threadPending[thread] = false;
        return HandleThread(thread, now);
    }

    /// <summary>One batch of the thread's handler; returns the entries it handled.</summary>
    private protected abstract int HandleThread(int thread, long now);

    /// <summary>A response or invalidation command was written: the IOMMU gets to the queue once for everything written meanwhile.</summary>
    private protected void CommandsQueued()
    {
        if (_commandsPending) return;
        _commandsPending = true;
        Kernel.Emit(new HostAction { Kind = HostActionKind.ProcessCommands, Unit = Index });
    }

    internal void ProcessCommands(long now)
    {
        _commandsPending = false;
        ExecuteCommands(now);
    }

    /// <summary>The IOMMU executes its command queue, then the driver submits what waited for room.</summary>
    private protected virtual void ExecuteCommands(long now) { }

    // ---- PCIe functions ----

    internal abstract TranslationCompletion Translate(in TranslationRequest request);
    internal abstract void OnPageRequest(in PageRequest request, long now);
    internal virtual void OnInvalidationCompletion(in InvalidationCompletion completion, long now) { }

    /// <summary>Probe (PASID, ATS, PRI with the driver's credits) and IOPF; the table is null only where even ATS cannot be set up.</summary>
    internal abstract (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, uint? credits, long now);

    /// <summary>Whether the hardware queue still holds requests of (requester, PASID) (the drain's scan).</summary>
    internal abstract bool RingHolds(RequesterId requester, uint pasid);

    /// <summary>POL-14: how often the driver saw its queue lose page requests that nothing will answer (AMD's PPR log restarts, H-AMD-2); 0 where the hardware answers what it drops.</summary>
    internal virtual long RequestLossEvents => 0;
    /// <summary>POL-14: <see cref="RequestLossEvents"/> when the kernel last looked.</summary>
    internal long RequestLossEventsSeen { get; set; }

    /// <summary>No response command is waiting in the driver or the IOMMU's command queue.</summary>
    internal abstract bool CommandsIdle { get; }

    internal abstract RequesterId? RequesterOf(FaultDevice device);

    /// <summary>R33's check after a teardown: requests of (device, PASID) are still in the hardware queue, as the
    /// hardware knows it (what the driver cannot see yet counts only if it is of that PASID).</summary>
    internal virtual bool HardwareHolds(DevicePort port, uint pasid) => port.QueueHolds(pasid);

    /// <summary>R43: the driver drains a PASID's page requests when a domain leaves it, before the core removes the
    /// attach handle (VT-d); elsewhere the handle goes at once.</summary>
    internal virtual bool DrainsOnDetach => false;

    /// <summary>
    /// R25's drain of (device, PASID): until no request or event of it is left in the hardware queue, then the
    /// fault queue flush (R23; H-SMMU-13 for stall masters). VT-d adds its invalidation-queue step (R33).
    /// </summary>
    internal virtual IPasidDrain BeginDrain(DevicePort port, uint pasid, long now) =>
        new QueueDrain(Kernel.Framework, port.FaultDevice!, port.FaultDevice!.Queue ?? FaultQueues[0], pasid, () => port.QueueHolds(pasid));

    // ---- platform stall masters (SMMUv3, SMMUv2) ----

    internal virtual (FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddStallMaster(string name, uint streamId, string? owner, int? contextBank, long now) =>
        (FaultStatus.NoDevice, null, null);

    /// <summary>Whether a queue still holds events of (StreamID, PASID): an SMMUv3's event queue; none elsewhere.</summary>
    internal virtual bool MasterQueueHolds(uint streamId, uint pasid) => false;

    internal virtual void OnTransaction(in StallTransaction transaction, long now) =>
        throw new InvalidOperationException($"{Kind} IOMMU {Name} has no platform masters");

    /// <summary>The context bank a master's stalls go to (SMMUv2), for the report.</summary>
    internal virtual int? ContextBankOf(FaultDevice device) => null;

    /// <summary>AMD H-AMD-3: PPR log entries due by now become visible.</summary>
    internal virtual void CompleteLogWrites(long now) =>
        throw new InvalidOperationException($"{Kind} IOMMU {Name} writes no log late");

    /// <summary>
    /// Names the rule when the IOMMU discarded page requests and answered none of them (no auto-response),
    /// so a function may wait forever for a group whose last request was lost; else empty.
    /// </summary>
    internal abstract string UnansweredDiscards { get; }

    // ---- what the hardware sends out ----

    private protected void SendPrgResponse(in PrgResponse response) => Kernel.SendPrgResponse(this, response);

    private protected void CompleteTransaction(in StallTransaction transaction, TransactionOutcome outcome, string rule) =>
        Kernel.EndTransaction(this, transaction, outcome, rule);

    // ---- reporting ----

    /// <summary>The unit's counters at <paramref name="now"/>: its hardware queue, its driver, and its stall model where it has one.</summary>
    public abstract IommuReport Report(long now);

    /// <summary>What must hold of this IOMMU at the end of a run.</summary>
    internal virtual void CheckEnd(InvariantLog invariants, long now)
    {
        foreach (var queue in FaultQueues)
            if (queue.QueuedWork > 0) invariants.Report("R26", now, Name, $"{queue.QueuedWork} fault work items of {queue.Name} never ran");
    }
}
