using Faultline.Devices;
using Faultline.Host;
using Faultline.Pcie;

namespace Faultline.Simulation;

/// <summary>
/// A device in the simulated topology that performs DMA for workloads: a PCIe function (<see cref="FunctionNode"/>)
/// or a platform stall master (<see cref="MasterNode"/>). The kernel knows it as its <see cref="Port"/>; the node
/// adds the link to its IOMMU (every message takes <see cref="Timing.LinkNs"/>) and the run's metrics.
/// </summary>
internal abstract class DeviceNode
{
    public abstract string Name { get; }
    public abstract DevicePort Port { get; }
    public long[] Results { get; } = new long[Enum.GetValues<AccessResult>().Length];
    public LatencyRecorder FaultLatency { get; } = new();

    public abstract void StartAccess(DmaAccess access, long now);
}

/// <summary>
/// One PCIe function and its link: ATS requests and page requests share it, FIFO with one latency, so they stay in
/// order. It is its function's observer too, handing the platform itself: no lookup by function per call (issue 9).
/// </summary>
internal sealed class FunctionNode(Platform platform, DeviceSpec spec) : DeviceNode, IUpstreamPort, IPriFunctionObserver
{
    private FunctionPort? _port;

    public override string Name => Spec.Name;
    public DeviceSpec Spec { get; } = spec;
    public override FunctionPort Port => _port!;
    public PriFunction Function => Port.Function;

    internal void SetPort(FunctionPort port) => _port = port;

    /// <summary>Its credits' place in the run's <see cref="Statistics.Occupancy"/>, and whether this event moved them.</summary>
    internal int OccupancyIndex { get; set; }
    internal bool Touched { get; set; }
    /// <summary>The tenant whose fault latency the function recorded last, and its recorder.</summary>
    internal (string Name, LatencyRecorder Recorder)? LastTenant { get; set; }

    // When each outstanding group, by PRG index, reached the IOMMU whole and was run by a handler (stage latencies).
    private readonly Dictionary<uint, GroupStages> _stages = new();

    /// <summary>The group's last request reached the IOMMU.</summary>
    internal void ArrivedAtIommu(uint prgIndex, long now) => _stages[prgIndex] = new GroupStages(now, now, now, -1, -1);

    /// <summary>
    /// A handler (a host worker, a guest) runs the group from <paramref name="start"/>; its answer is written at
    /// <paramref name="done"/>. The driver reported it at <paramref name="reported"/>, in a batch that ended at <paramref name="batchEnd"/>.
    /// </summary>
    internal void HandlerRan(uint prgIndex, long reported, long batchEnd, long start, long done) =>
        _stages[prgIndex] = _stages.GetValueOrDefault(prgIndex, new GroupStages(reported, reported, batchEnd, -1, -1))
            with { Reported = reported, BatchEnd = batchEnd, Start = start, Done = done };

    /// <summary>A response for the index came: the group's stages if a handler ran it, else null (auto-answered); forgotten either way.</summary>
    internal GroupStages? Answered(uint prgIndex) =>
        _stages.Remove(prgIndex, out var s) && s.Start >= 0 ? s : null;

    public override void StartAccess(DmaAccess access, long now) => Function.StartAccess(access, now);

    public void SendTranslationRequest(in TranslationRequest request) => platform.Send(DeviceMessage.Of(Port, request));

    public void SendPageRequest(in PageRequest request) => platform.Send(DeviceMessage.Of(Port, request));

    /// <summary>H-PCI-18: same link, same latency, so it cannot overtake page requests sent before it.</summary>
    public void SendInvalidationCompletion(in InvalidationCompletion completion) => platform.Send(DeviceMessage.Of(Port, completion));

    public void PageRequestSent(PriFunction function, in PageRequest request, long now) => platform.PageRequestSent(this, now);

    public void PrgResponseReceived(PriFunction function, in PrgResponse response, PrgResponseOutcome outcome, long latency, long now) =>
        platform.PrgResponseReceived(this, response, outcome, latency, now);

    public void AccessEnded(PriFunction function, DmaAccess access, AccessResult result, long now) => platform.AccessEnded(this, access, result, now);

    public void PasidStopCompleted(PriFunction function, Pasid pasid, long now) => platform.Send(DeviceMessage.Stopped(Port, pasid));
}

/// <summary>
/// When a group's last request reached the IOMMU, when the driver reported it and when that driver batch ended, and
/// when a handler started and finished it (-1: not yet).
/// </summary>
internal readonly record struct GroupStages(long AtIommu, long Reported, long BatchEnd, long Start, long Done);
