using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;

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
    /// <summary>A page request or Stop Marker of function <see cref="SimEvent.Target"/> reaches its IOMMU.</summary>
    PageRequest,
    TranslationRequest,
    /// <summary>The IOMMU's Translation Completion reaches function <see cref="SimEvent.Target"/>.</summary>
    TranslationCompletion,
    InvalidationCompletion,
    /// <summary>A transaction of master <see cref="SimEvent.Target"/> reaches its SMMU.</summary>
    Transaction,
    /// <summary>The next access of workload <see cref="SimEvent.Target"/> arrives.</summary>
    WorkloadArrival,
    /// <summary>The scenario's event <see cref="SimEvent.Target"/> happens.</summary>
    ScenarioEvent,
    /// <summary>Guest <see cref="SimEvent.Target"/> reads its fault queue.</summary>
    GuestRead,
    /// <summary>Guest <see cref="SimEvent.Target"/> writes the answers in <see cref="SimEvent.Answers"/>.</summary>
    GuestAnswers,
    /// <summary>The host detaches guest <see cref="SimEvent.Target"/>'s function.</summary>
    GuestDetach,
}

/// <summary>One event of the simulator, as a value: a kind, a target (an index) and the payload its kind names.</summary>
internal struct SimEvent
{
    public SimEventKind Kind;
    public int Target;
    public HostAction Action;
    public PageResponseCode Code;
    public PageRequest PageRequest;
    public TranslationRequest TranslationRequest;
    public TranslationCompletion TranslationCompletion;
    public InvalidationCompletion InvalidationCompletion;
    public StallTransaction Transaction;
    public IReadOnlyList<(uint Cookie, uint Code)>? Answers;
}
