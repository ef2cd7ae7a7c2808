using System.Collections.Concurrent;
using System.Diagnostics;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using Faultline.Sva;

namespace Faultline.Runtime;

/// <summary>What <see cref="VtdHost.AddFunction"/> did: the driver's probe (R34), then IOPF enabling (R3).</summary>
/// <remarks><see cref="Device"/> and <see cref="PasidTable"/> belong to the loop: hand them back to the host, never use them elsewhere.</remarks>
public readonly record struct VtdHostFunction(PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? PasidTable);

/// <summary>
/// One VT-d remapping unit, its Linux driver, a fault framework and SVA binding, hosted on a
/// <see cref="HostLoop"/> for an emulator. The emulator's device threads call the public entry points,
/// which are thread-safe and only post; everything the core does happens on the loop thread: the PRQ
/// thread (R31, R32), the SVA workers (R26, R27: their model cost is ignored, the wall clock is real),
/// the invalidation queue, and <c>prgResponse</c>, raised there for every PRG Response the unit sends.
/// </summary>
public sealed class VtdHost : IVtdPlatform
{
    private readonly Action<PrgResponse> _prgResponse;
    // Page requests cross threads through a queue of their own, drained by one posted action, so a
    // submission costs no closure; _inboundPosted says whether that action is already on its way.
    private readonly ConcurrentQueue<PageRequest> _inbound = new();
    private int _inboundPosted;
    private readonly Action _drainInbound, _handlePageRequests, _runWork, _processInvalidations;
    // Loop thread only: each deferred step is posted once until it has run (an MSI does not queue twice).
    private bool _prqPosted, _workPosted, _invalidationsPosted;

    /// <param name="prgResponse">Raised on the loop thread for each PRG Response; it must not block the loop for long.</param>
    public VtdHost(HostLoop loop, VtdConfig config, FaultPolicy policy, Action<PrgResponse> prgResponse, int virtualAddressBits = 48)
    {
        Loop = loop;
        _prgResponse = prgResponse;
        Framework = new FaultFramework(policy);
        Iommu = new VtdIommu(config, this);
        Driver = new VtdDriver(Iommu, Framework, virtualAddressBits);
        Binder = new SvaBinder(SvaCosts.Default);
        _drainInbound = DrainInbound;
        _handlePageRequests = HandlePageRequests;
        _runWork = RunWork;
        _processInvalidations = ProcessInvalidations;
    }

    public HostLoop Loop { get; }

    // The core: touch these only on the loop thread (Loop.Post / Loop.InvokeAsync).
    public FaultFramework Framework { get; }
    public VtdIommu Iommu { get; }
    public VtdDriver Driver { get; }
    public SvaBinder Binder { get; }

    /// <summary>Fault work items run and answered (loop thread).</summary>
    public long WorkRun { get; private set; }

    /// <summary>Fault work items whose group had gone with its device before they ran (R4; loop thread).</summary>
    public long WorkForGoneGroups { get; private set; }

    /// <summary>Probes <paramref name="function"/> (R34) and enables fault handling for it (R3), on the loop.</summary>
    public Task<VtdHostFunction> AddFunction(IPciConfigSpace function, string name, uint? credits = null) =>
        Loop.InvokeAsync(() =>
        {
            var probe = Driver.ProbeDevice(function, Loop.Now, credits);
            var (status, device, table) = Driver.AddDevice(function, name);
            return new VtdHostFunction(probe, status, device, table);
        });

    /// <summary>Binds <paramref name="mm"/> to the device with SVA, on the loop; the PASID it got. The mm belongs to the loop from now on.</summary>
    public Task<(FaultStatus Status, uint Pasid)> Bind(FaultDevice device, IPasidTable table, AddressSpace mm) =>
        Loop.InvokeAsync(() => Binder.Bind(device, table, mm));

    /// <summary>A Page Request message reaches the unit (thread-safe; it lands in the PRQ on the loop).</summary>
    public void SubmitPageRequest(in PageRequest request)
    {
        _inbound.Enqueue(request);
        if (Interlocked.Exchange(ref _inboundPosted, 1) == 0) Loop.Post(_drainInbound);
    }

    private void DrainInbound()
    {
        // Clear the flag before draining: a request queued after this posts the drain again. Only what is
        // queued now is taken, so a steady stream cannot keep the PRQ thread and the workers from the loop.
        Volatile.Write(ref _inboundPosted, 0);
        for (int n = _inbound.Count; n > 0 && _inbound.TryDequeue(out var request); n--) Iommu.OnPageRequest(request);
    }

    private void HandlePageRequests()
    {
        _prqPosted = false;
        Driver.HandlePageRequests();
        PostOnce(ref _workPosted, _runWork); // the batch may have queued work for the SVA workers (R26)
    }

    /// <summary>What the simulator's workers do, without their model time: run, respond (R18), free (R19).</summary>
    private void RunWork()
    {
        _workPosted = false;
        while (Driver.Queue.TryDequeueWork(out var item))
        {
            if (Framework.Find(item.Group) is not { } group)
            {
                WorkForGoneGroups++;
                continue;
            }
            var outcome = item.Work.Run(group);
            Framework.Respond(item.Group, outcome.Code);
            Framework.Free(item.Group);
            WorkRun++;
        }
    }

    private void ProcessInvalidations()
    {
        _invalidationsPosted = false;
        Iommu.ProcessInvalidationQueue();
        Driver.RetrySubmissions(); // descriptors that waited for room (qi_submit_sync)
    }

    private void PostOnce(ref bool posted, Action action)
    {
        if (posted) return;
        posted = true;
        Loop.Post(action);
    }

    // ---- IVtdPlatform: called by the core, so already on the loop thread ----

    void IVtdPlatform.RaisePageRequestEvent(VtdIommu iommu)
    {
        Debug.Assert(Loop.IsLoopThread);
        PostOnce(ref _prqPosted, _handlePageRequests);
    }

    void IVtdPlatform.InvalidationQueued(VtdIommu iommu)
    {
        Debug.Assert(Loop.IsLoopThread);
        PostOnce(ref _invalidationsPosted, _processInvalidations);
    }

    void IVtdPlatform.SendPrgResponse(VtdIommu iommu, in PrgResponse response)
    {
        Debug.Assert(Loop.IsLoopThread);
        _prgResponse(response);
    }

    /// <summary>Nothing this host offers submits device-TLB invalidations (no PASID teardown yet), so one is a bug: it faults the loop.</summary>
    void IVtdPlatform.SendInvalidateRequest(VtdIommu iommu, in InvalidateRequest request) =>
        throw new NotSupportedException($"{iommu.Name}: device-TLB invalidation toward {request.Destination}, which this host cannot deliver yet");

    void IVtdPlatform.InvalidationWaitCompleted(VtdIommu iommu, in InvalidationWaitDescriptor wait) => Driver.OnInvalidationWaitCompleted(wait);
}
