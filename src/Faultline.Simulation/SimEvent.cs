using System.Runtime.InteropServices;
using Faultline.Faults;
using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>What lands when a simulator event runs.</summary>
internal enum SimEventKind : byte
{
    /// <summary>An output of the host kernel lands (<see cref="SimEvent.Action"/>).</summary>
    Kernel,
    /// <summary>A driver thread of unit <see cref="SimEvent.Target"/> ends its batch.</summary>
    ThreadBatchDone,
    /// <summary>A worker finished resolving its group (<see cref="SimEvent.Action"/>, <see cref="SimEvent.Code"/>).</summary>
    WorkDone,
    /// <summary>A device's message reaches its IOMMU (<see cref="SimEvent.Message"/>).</summary>
    DeviceMessage,
    /// <summary>The next access of workload <see cref="SimEvent.Target"/> arrives.</summary>
    WorkloadArrival,
    /// <summary>The scenario's event <see cref="SimEvent.Target"/> happens.</summary>
    ScenarioEvent,
    /// <summary>Guest <see cref="SimEvent.Target"/> reads its fault queue.</summary>
    GuestRead,
    /// <summary>Guest <see cref="SimEvent.Target"/> writes its answer batch <see cref="SimEvent.Batch"/>.</summary>
    GuestAnswers,
    /// <summary>The host detaches guest <see cref="SimEvent.Target"/>'s function.</summary>
    GuestDetach,
    /// <summary>A device sends <see cref="SimEvent.Message"/> now, after a wait of its own (a master's retry): it takes its link as any message.</summary>
    DeviceSend,
}

/// <summary>
/// One event of the simulator, as a value: a kind, a target (an index) and the payload its kind names. A kernel
/// output and a device message share their bytes, so an event stays small to copy in and out of the engine; it holds
/// no reference (a guest keeps its answers and the event names the batch), so the engine copies it without GC write
/// barriers and leaves a taken slot as it is.
/// </summary>
[StructLayout(LayoutKind.Explicit)]
internal struct SimEvent
{
    [FieldOffset(0)] public int Batch;
    [FieldOffset(8)] public int Target;
    [FieldOffset(12)] public PageResponseCode Code;
    [FieldOffset(16)] public SimEventKind Kind;
    [FieldOffset(24)] public HostAction Action;
    [FieldOffset(24)] public DeviceMessage Message;
}
