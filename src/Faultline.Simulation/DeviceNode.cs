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

/// <summary>One PCIe function and its link: ATS requests and page requests share it, FIFO with one latency, so they stay in order.</summary>
internal sealed class FunctionNode(Platform platform, DeviceSpec spec) : DeviceNode, IUpstreamPort
{
    private FunctionPort? _port;

    public override string Name => Spec.Name;
    public DeviceSpec Spec { get; } = spec;
    public override FunctionPort Port => _port!;
    public PriFunction Function => Port.Function;

    internal void SetPort(FunctionPort port) => _port = port;

    public override void StartAccess(DmaAccess access, long now) => Function.StartAccess(access, now);

    public void SendTranslationRequest(in TranslationRequest request) => platform.Send(DeviceMessage.Of(Port, request));

    public void SendPageRequest(in PageRequest request) => platform.Send(DeviceMessage.Of(Port, request));

    /// <summary>H-PCI-18: same link, same latency, so it cannot overtake page requests sent before it.</summary>
    public void SendInvalidationCompletion(in InvalidationCompletion completion) => platform.Send(DeviceMessage.Of(Port, completion));
}
