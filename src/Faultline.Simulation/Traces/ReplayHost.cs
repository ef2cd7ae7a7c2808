using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Sva;

namespace Faultline.Simulation.Traces;

/// <summary>
/// Runs a <see cref="ReplayPlan"/> through the host kernel in virtual time: each captured page request reaches its
/// IOMMU at its time, the kernel does the rest (driver threads, framework, SVA handler, responses) with the
/// scenario's timing, and every response it sends is recorded instead of delivered: the captured device is not
/// modelled, so its requests are exactly the capture's, whatever the responses.
/// </summary>
internal sealed class ReplayHost : IKernelHost
{
    /// <summary>How long after the last request the kernel may take to settle (POL-5's deadline is far shorter).</summary>
    private const long SettleNs = 10_000_000_000;

    private readonly PriorityQueue<(int Request, HostAction Action), (long Time, long Order)> _queue = new();
    private readonly List<ReplayResponse> _responses = [];
    private readonly Timing _timing;
    private long _now, _order;
    private HostKernel? _kernel;

    private ReplayHost(Timing timing) => _timing = timing;

    /// <summary>The responses the model sends for the plan's requests under <paramref name="policy"/>, and what it found broken.</summary>
    public static (IReadOnlyList<ReplayResponse> Responses, InvariantLog Invariants) Run(ReplayPlan plan, FaultPolicy policy)
    {
        var host = new ReplayHost(plan.Scenario.Timing);
        var kernel = host._kernel = new HostKernel(plan.Scenario.Host, policy, host);
        var units = plan.Scenario.Iommus.ToDictionary(i => i.Name, kernel.AddIommu, StringComparer.Ordinal);
        var ports = new Dictionary<string, FunctionPort>(StringComparer.Ordinal);
        foreach (var d in plan.Scenario.Devices)
        {
            var function = new PriFunction(new PriFunctionConfig { Name = d.Name, Requester = d.Requester, Capacity = d.Capacity, PagesPerGroup = 1 }, Unplugged.Port);
            ports.Add(d.Name, kernel.AddFunction(units[d.Iommu], function, d.Credits, 0));
        }
        var processes = new Dictionary<string, AddressSpace>(StringComparer.Ordinal);
        foreach (var p in plan.Scenario.Processes)
        {
            var mm = new AddressSpace(p.Name);
            foreach (var v in p.Vmas) mm.Map(new Vma(v.Start, (ulong)v.Pages << PageRequest.PageShift, v.Permissions, v.Cost));
            processes.Add(p.Name, mm);
        }
        // Bound in PASID order, so that where the capture's PASIDs run from 1 the model's are the same numbers.
        foreach (var p in plan.Scenario.Processes)
            foreach (var d in plan.Scenario.Devices.Where(d => d.Bind.Contains(p.Name)))
                kernel.Bind(ports[d.Name], processes[p.Name], 0);

        for (int i = 0; i < plan.Requests.Count; i++) host.At(plan.Requests[i].TimeNs, (i, default));
        long end = (plan.Requests.Count > 0 ? plan.Requests[^1].TimeNs : 0) + SettleNs;
        while (host._queue.TryDequeue(out var item, out var key) && key.Time <= end)
        {
            host._now = key.Time;
            if (item.Request >= 0) host.Send(plan.Requests[item.Request], ports, processes);
            else kernel.Land(item.Action, host._now);
        }
        return (host._responses, kernel.Invariants);
    }

    /// <summary>The request as the device sent it, with the PASID the model bound for the capture's.</summary>
    private void Send(in ReplayRequest r, Dictionary<string, FunctionPort> ports, Dictionary<string, AddressSpace> processes)
    {
        var port = ports[r.Device];
        PasidPrefix? prefix = null;
        if (r.Pasid != 0)
        {
            uint pasid = port.Pasids.TryGetValue(ReplayPlan.ProcessOf(r.Pasid), out uint bound) ? bound : r.Pasid;
            prefix = new PasidPrefix(new Pasid(pasid), r.Execute, r.Privileged);
        }
        var request = new PageRequest(port.Function.Requester, r.Read, r.Write, r.Last, new PrgIndex((ushort)(r.Index & PrgIndex.Mask)), r.Address & PageRequest.PageMask, prefix);
        _kernel!.Receive(DeviceMessage.Of(port, request), _now);
    }

    private void At(long time, (int, HostAction) item) => _queue.Enqueue(item, (Math.Max(time, _now), ++_order));

    private void Later(long delay, in HostAction action) => At(_now + delay, (-1, action));

    // ---- IKernelHost: one timing hop per kind, as the simulator's platform; responses are recorded ----

    void IKernelHost.Take(in HostAction action)
    {
        switch (action.Kind)
        {
            case HostActionKind.PrgResponse:
                var port = _kernel!.Devices[action.Target];
                _responses.Add(new ReplayResponse(_now, port.Name, action.PrgResponse.Index.Value, action.PrgResponse.Code));
                break;
            case HostActionKind.RunThread:
                At(action.At == HostAction.NoTime ? _now + _timing.InterruptNs : action.At, (-1, action));
                break;
            case HostActionKind.ProcessCommands:
                Later(_timing.ResponseCommandNs, action);
                break;
            case HostActionKind.RunWork:
                Later(_timing.HandlerWakeupNs, action);
                break;
            case HostActionKind.CompleteLogWrites:
            case HostActionKind.Timer:
                At(action.At, (-1, action));
                break;
            case HostActionKind.PriResetPoll:
                Later(_timing.InterruptNs, action);
                break;
            // Device-side deliveries: the captured device is not modelled.
            case HostActionKind.InvalidateRequest:
            case HostActionKind.TranslationCompletion:
            case HostActionKind.TransactionEnded:
            case HostActionKind.FaultQueueReadable:
            case HostActionKind.GuestDetached:
                break;
        }
    }

    /// <summary>The link of a function that is not modelled: nothing it sends goes anywhere.</summary>
    private sealed class Unplugged : IUpstreamPort
    {
        public static readonly Unplugged Port = new();
        public void SendTranslationRequest(in TranslationRequest request) { }
        public void SendPageRequest(in PageRequest request) { }
        public void SendInvalidationCompletion(in InvalidationCompletion completion) { }
    }
}
