using System.Collections.Concurrent;
using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Sva;
using Faultline.Userspace;

namespace Faultline.Runtime;

/// <summary>A device on a <see cref="RuntimeHost"/>: a PCIe function or a stall master, as its kernel port.</summary>
public sealed class RuntimeDevice
{
    internal RuntimeDevice(DevicePort port) => Port = port;

    /// <summary>The kernel's view of the device; read it on the loop thread only.</summary>
    public DevicePort Port { get; }
    /// <summary>The device's name.</summary>
    public string Name => Port.Name;
}

/// <summary>How the runtime spaces what the kernel asks to be done later.</summary>
public sealed record RuntimeOptions
{
    /// <summary>POL-9: how long the kernel waits between two looks for a quiet function before its PRI reset.</summary>
    public long PriResetPollNs { get; init; } = 20_000;

    /// <summary>Steps (device messages, kernel outputs) one loop action runs before it yields to timers and other posts.</summary>
    public int StepsPerTurn { get; init; } = 4096;
}

/// <summary>
/// The host kernel (<see cref="HostKernel"/>) of any IOMMU kind — VT-d, SMMUv3 (PRI and stall), AMD, SMMUv2 — on a
/// <see cref="HostLoop"/>, for an emulator: the devices (<see cref="PriFunction"/>, <see cref="StallMaster"/>) and the
/// kernel run on the loop thread; device threads submit DMA accesses with <see cref="Access"/> and await how each
/// ended; a VMM thread reads and answers a guest's fault queue. Every output of the kernel lands at once on the loop
/// (the wall clock is the only time), except what the kernel wants later (AMD's poll, POL-5 deadlines, POL-9 polls),
/// which becomes a loop timer. Nothing of the fault path is decided here: this class only carries.
/// </summary>
public sealed class RuntimeHost : IKernelHost, IPriFunctionObserver, IStallMasterObserver, IDisposable
{
    private readonly RuntimeOptions _options;
    // Loop thread only: what is due now, in the order it happened (device messages and kernel outputs alike).
    private readonly Queue<Step> _steps = new();
    private bool _pumpPosted;
    private readonly Action _pump, _drainSubmitted;
    // Accesses cross threads through a queue of their own, taken by one posted action (no closure per access).
    private readonly ConcurrentQueue<Submission> _submitted = new();
    private int _submitPosted;
    private readonly Dictionary<long, TaskCompletionSource<AccessResult>> _inFlight = new(); // loop thread only
    private readonly Dictionary<PriFunction, FunctionPort> _functions = new();
    private readonly Dictionary<int, TaskCompletionSource<bool>> _detaches = new(); // loop thread only; by guest id
    private readonly Dictionary<StallMaster, MasterPort> _masters = new();
    private long _lastAccessId;
    private long _refused;
    private int _disposed;
    private int _unfinishedRefused;

    /// <summary>A kernel built from <paramref name="spec"/> under <paramref name="policy"/>, run on <paramref name="loop"/>; its calls run once the loop is started.</summary>
    public RuntimeHost(HostLoop loop, HostSpec spec, FaultPolicy policy, RuntimeOptions? options = null)
    {
        Loop = loop;
        _options = options ?? new RuntimeOptions();
        Kernel = new HostKernel(spec, policy, this);
        _pump = Pump;
        _drainSubmitted = DrainSubmitted;
        // However the loop ends (stopped, faulted, disposed), nothing runs on it any more: end what it left.
        loop.Completion.ContinueWith(static (_, host) => ((RuntimeHost)host!).RefuseUnfinished(), this,
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
    }

    /// <summary>The loop thread that owns the kernel and the devices.</summary>
    public HostLoop Loop { get; }

    /// <summary>The core: touch it only on the loop thread (<see cref="HostLoop.InvokeAsync{T}"/>).</summary>
    public HostKernel Kernel { get; }

    /// <summary>Accesses refused because the loop had stopped or faulted, or ended unfinished when it did (any thread).</summary>
    public long RefusedAccesses => Interlocked.Read(ref _refused);

    /// <summary>Raised on the loop thread when a guest's fault queue turns readable (R48): wake the VMM's reader.</summary>
    public event Action<GuestAttachment>? FaultQueueReadable;

    // ---- topology and the kernel's calls (any thread; they run on the loop) ----

    /// <summary>Adds the IOMMU <paramref name="spec"/> describes, of any kind; the unit is the loop's, to pass back to <see cref="AddFunction"/> and <see cref="AddMaster"/>.</summary>
    public Task<IommuUnit> AddIommu(IommuSpec spec) => Loop.InvokeAsync(() => Kernel.AddIommu(spec));

    /// <summary>A PCIe function behind <paramref name="unit"/>; its driver probes it with <paramref name="credits"/> and enables IOPF.</summary>
    public Task<RuntimeDevice> AddFunction(IommuUnit unit, PriFunctionConfig config, uint? credits = null) => Loop.InvokeAsync(() =>
    {
        var link = new Link(this);
        var function = new PriFunction(config, link, this);
        var port = Kernel.AddFunction(unit, function, credits, Loop.Now);
        link.Port = port;
        _functions.Add(function, port);
        return new RuntimeDevice(port);
    });

    /// <summary>A platform stall master behind an SMMUv3, or on a context bank of an SMMUv2.</summary>
    public Task<RuntimeDevice> AddMaster(IommuUnit unit, StallMasterConfig config, string? owner = null, int? contextBank = null) => Loop.InvokeAsync(() =>
    {
        var link = new Link(this);
        var master = new StallMaster(config, link, this);
        var port = Kernel.AddMaster(unit, master, owner, contextBank, Loop.Now);
        link.Port = port;
        _masters.Add(master, port);
        return new RuntimeDevice(port);
    });

    /// <summary>SVA-binds <paramref name="mm"/> to the device; its PASID (0 at the RID), or null where the kernel refused (see its notes). The mm is the loop's from now on.</summary>
    public Task<uint?> Bind(RuntimeDevice device, AddressSpace mm) =>
        Loop.InvokeAsync(() => Kernel.Bind(device.Port, mm, Loop.Now) ? device.Port.Pasids[mm.Name] : (uint?)null);

    /// <summary>Unbinds: the PASID's teardown starts (R25); it completes on the loop while faults drain.</summary>
    public Task Unbind(RuntimeDevice device, AddressSpace mm, PasidStopMode mode) => Loop.InvokeAsync(() =>
    {
        Kernel.Unbind(device.Port, mm, mode, Loop.Now);
        return true;
    });

    /// <summary>The process exits: its faults are answered INVALID (R27) and every binding of it is torn down (R25), then its PASID freed.</summary>
    public Task Exit(AddressSpace mm, PasidStopMode mode) => Loop.InvokeAsync(() =>
    {
        Kernel.Exit(mm, mode, Loop.Now);
        return true;
    });

    /// <summary>remove_device (R4) while faults may be in flight.</summary>
    public Task RemoveDevice(RuntimeDevice device) => Loop.InvokeAsync(() =>
    {
        Kernel.RemoveDevice(device.Port, Loop.Now);
        return true;
    });

    /// <summary>Gives the function to a guest through iommufd, as a VMM does; null where a step was refused (see the kernel's notes).</summary>
    public Task<GuestAttachment?> AttachGuest(string name, RuntimeDevice device, uint pasid, AddressSpace mm) =>
        Loop.InvokeAsync(() => Kernel.AttachGuest(name, (FunctionPort)device.Port, pasid, mm, Loop.Now));

    /// <summary>
    /// Takes the function away from the guest (iommufd detach, R43), completing as the ioctl returns: once the PASID
    /// is drained (VT-d) and every group the guest held is answered; false at once if iommufd refused.
    /// </summary>
    public async Task<bool> DetachGuest(GuestAttachment guest)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool started = await Loop.InvokeAsync(() =>
        {
            _detaches[guest.Id] = done; // before the kernel, which may finish the detach at once
            if (Kernel.DetachGuest(guest, Loop.Now)) return true;
            _detaches.Remove(guest.Id);
            return false;
        }).ConfigureAwait(false);
        return started && await done.Task.ConfigureAwait(false);
    }

    /// <summary>read(2) on the guest's fault queue (R46): whole groups into <paramref name="groups"/>, which the caller must not touch until the task completes.</summary>
    public Task<FaultQueueResult> ReadFaults(GuestAttachment guest, ICollection<UserFaultGroup> groups, int maxFaults) =>
        Loop.InvokeAsync(() => Kernel.ReadFaults(guest, groups, maxFaults, Loop.Now));

    /// <summary>write(2) of one 8-byte response record (R47).</summary>
    public Task<FaultQueueResult> WriteResponse(GuestAttachment guest, byte[] record) =>
        Loop.InvokeAsync(() => Kernel.WriteResponse(guest, record, Loop.Now));

    /// <summary>The kernel's end-of-run checks, once the devices are quiet; the invariants broken so far.</summary>
    public Task<IReadOnlyList<Violation>> CheckEnd() => Loop.InvokeAsync(() =>
    {
        Kernel.CheckEnd(Loop.Now);
        return (IReadOnlyList<Violation>)Kernel.Invariants.Kept.ToList();
    });

    // ---- device threads ----

    /// <summary>
    /// A DMA access by the device (any thread): pages from <paramref name="address"/>, under <paramref name="prefix"/>'s
    /// PASID. The task ends with how the access ended; it fails if the loop stopped or faulted first.
    /// </summary>
    public Task<AccessResult> Access(RuntimeDevice device, PasidPrefix? prefix, ulong address, int pages, bool write)
    {
        var completion = new TaskCompletionSource<AccessResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var access = new DmaAccess(Interlocked.Increment(ref _lastAccessId), prefix, address, pages, write);
        if (Loop.State is not (HostLoopState.Created or HostLoopState.Running) || Volatile.Read(ref _disposed) != 0)
        {
            Refuse(completion);
            return completion.Task;
        }
        _submitted.Enqueue(new Submission(device.Port, access, completion));
        if (Interlocked.Exchange(ref _submitPosted, 1) == 0)
        {
            try
            {
                Loop.Post(_drainSubmitted);
            }
            catch (InvalidOperationException)
            {
                // The loop closed between the check and the post: what is queued will never run.
                RefuseSubmitted();
            }
        }
        return completion.Task;
    }

    private void Refuse(TaskCompletionSource<AccessResult> completion)
    {
        Interlocked.Increment(ref _refused);
        completion.TrySetException(new InvalidOperationException($"the host loop is {Loop.State}; the access was refused, or left unfinished when it ended", Loop.Fault));
    }

    /// <remarks>
    /// No lost wake-up. A submitter enqueues, then sets the flag with a full fence and posts only if it was 0.
    /// If its exchange comes before this one in the flag's order, its item was in the queue before this exchange
    /// (a full fence too), so the count read after it includes the item. If it comes after, the submitter read 0
    /// and posted another drain. Every path that clears the flag drains the queue after clearing it: this one,
    /// a failed post and the loop's end (<see cref="RefuseSubmitted"/>), so a 1 left by a drain the loop dropped
    /// is cleared, and its items refused, when the loop ends.
    /// </remarks>
    private void DrainSubmitted()
    {
        Interlocked.Exchange(ref _submitPosted, 0);
        for (int n = _submitted.Count; n > 0 && _submitted.TryDequeue(out var s); n--)
        {
            _inFlight.Add(s.Access.Id, s.Completion);
            if (s.Device is FunctionPort f) f.Function.StartAccess(s.Access, Loop.Now);
            else ((MasterPort)s.Device).Master.Start(s.Access, Loop.Now);
        }
    }

    /// <summary>The loop takes no more: clear the flag (see <see cref="DrainSubmitted"/>), then refuse what is queued.</summary>
    private void RefuseSubmitted()
    {
        Interlocked.Exchange(ref _submitPosted, 0);
        while (_submitted.TryDequeue(out var s)) Refuse(s.Completion);
    }

    /// <summary>
    /// Once the loop thread has ended (the continuation on <see cref="HostLoop.Completion"/>, or <see cref="Dispose"/>
    /// after the join), its tables are free: the accesses in flight will never end, and are refused once; so is
    /// what is queued, now and whenever a late submitter finds the loop closed; a detach still draining fails.
    /// </summary>
    private void RefuseUnfinished()
    {
        if (Interlocked.Exchange(ref _unfinishedRefused, 1) == 0)
        {
            foreach (var completion in _inFlight.Values) Refuse(completion);
            _inFlight.Clear();
            foreach (var detach in _detaches.Values) detach.TrySetException(new ObjectDisposedException(nameof(RuntimeHost), "the host loop ended before the guest's detach completed"));
            _detaches.Clear();
        }
        RefuseSubmitted();
    }

    // ---- the loop: messages and outputs land in order ----

    private void Enqueue(in Step step)
    {
        _steps.Enqueue(step);
        if (_pumpPosted) return;
        _pumpPosted = true;
        Loop.Post(_pump);
    }

    private void Pump()
    {
        _pumpPosted = false;
        for (int n = 0; n < _options.StepsPerTurn && _steps.TryDequeue(out var step); n++)
        {
            if (step.IsMessage) Kernel.Receive(step.Message, Loop.Now);
            else Kernel.Land(step.Action, Loop.Now);
        }
        if (_steps.Count > 0 && !_pumpPosted)
        {
            _pumpPosted = true;
            Loop.Post(_pump); // yield: timers and other posts run between turns
        }
    }

    void IKernelHost.Take(in HostAction action)
    {
        var a = action;
        switch (action.Kind)
        {
            case HostActionKind.FaultQueueReadable:
                FaultQueueReadable?.Invoke(Kernel.Guests[action.Target]);
                break;
            case HostActionKind.GuestDetached:
                if (_detaches.Remove(action.Target, out var detach)) detach.SetResult(true);
                break;
            case HostActionKind.RunThread when action.At != HostAction.NoTime:
            case HostActionKind.CompleteLogWrites:
            case HostActionKind.Timer:
                Loop.At(action.At, () => Kernel.Land(a, Loop.Now));
                break;
            case HostActionKind.PriResetPoll:
                Loop.After(_options.PriResetPollNs, () => Kernel.Land(a, Loop.Now));
                break;
            default:
                Enqueue(new Step(false, default, action));
                break;
        }
    }

    // ---- what the devices saw (on the loop) ----

    void IPriFunctionObserver.PageRequestSent(PriFunction function, in PageRequest request, long now) => Kernel.PageRequestSent(_functions[function], now);

    void IPriFunctionObserver.PrgResponseReceived(PriFunction function, in PrgResponse response, PrgResponseOutcome outcome, long latency, long now) =>
        Kernel.PrgResponseTaken(_functions[function], response, outcome, now);

    void IPriFunctionObserver.AccessEnded(PriFunction function, DmaAccess access, AccessResult result, long now) => Ended(access, result);

    void IPriFunctionObserver.PasidStopCompleted(PriFunction function, Pasid pasid, long now) =>
        Enqueue(new Step(true, DeviceMessage.Stopped(_functions[function], pasid), default)); // behind the function's posted requests

    void IStallMasterObserver.AccessEnded(StallMaster master, in StallAccessResult result)
    {
        Ended(result.Access, result.Outcome switch
        {
            TransactionOutcome.Completed => AccessResult.Completed,
            TransactionOutcome.Aborted => AccessResult.StallAborted,
            _ => AccessResult.StallTerminated,
        });
        Kernel.MasterAccessEnded(Loop.Now);
    }

    private void Ended(DmaAccess access, AccessResult result)
    {
        if (_inFlight.Remove(access.Id, out var completion)) completion.TrySetResult(result);
    }

    /// <summary>
    /// Cancels the loop (<see cref="HostLoop.Dispose"/>), then fails every access not yet ended, so no device thread
    /// waits for ever; <see cref="RefusedAccesses"/> counts them. Called on the loop thread, the failing happens as
    /// the loop ends.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        Loop.Dispose();
        if (!Loop.IsLoopThread) RefuseUnfinished(); // the loop thread has ended (or never ran)
    }

    /// <summary>The device's side of its link: what it sends lands on the loop, in order, right away.</summary>
    private sealed class Link(RuntimeHost host) : IUpstreamPort, IStallMasterPort
    {
        public DevicePort Port { get; set; } = null!;

        public void SendTranslationRequest(in TranslationRequest request) => host.Enqueue(new Step(true, DeviceMessage.Of(Port, request), default));
        public void SendPageRequest(in PageRequest request) => host.Enqueue(new Step(true, DeviceMessage.Of(Port, request), default));
        public void SendInvalidationCompletion(in InvalidationCompletion completion) => host.Enqueue(new Step(true, DeviceMessage.Of(Port, completion), default));
        public void SendTransaction(in StallTransaction transaction) => host.Enqueue(new Step(true, DeviceMessage.Of(Port, transaction), default));

        public void SendTransaction(in StallTransaction transaction, long delayNs)
        {
            var message = DeviceMessage.Of(Port, transaction);
            host.Loop.After(delayNs, () => host.Enqueue(new Step(true, message, default)));
        }
    }

    private readonly record struct Step(bool IsMessage, DeviceMessage Message, HostAction Action);

    private readonly record struct Submission(DevicePort Device, DmaAccess Access, TaskCompletionSource<AccessResult> Completion);
}
