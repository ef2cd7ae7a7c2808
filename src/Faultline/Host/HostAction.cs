using Faultline.Devices;
using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>What the host kernel asks of its host. The host decides when each lands (DESIGN rule 1).</summary>
public enum HostActionKind : byte
{
    /// <summary>A PRG Response leaves the root port toward <see cref="HostAction.Function"/>; deliver it with <see cref="HostKernel.DeliverPrgResponse"/>.</summary>
    PrgResponse,
    /// <summary>An ATS Invalidate Request leaves toward <see cref="HostAction.Function"/>; deliver it with <see cref="HostKernel.DeliverInvalidateRequest"/>.</summary>
    InvalidateRequest,
    /// <summary>A stall master's transaction ended; deliver it with <see cref="HostKernel.DeliverTransactionEnd"/>.</summary>
    TransactionEnded,
    /// <summary>
    /// The device driver tells the function to stop using a PASID (H-PCI-19). The function is on the host's side,
    /// so the host hands it over at once, with <see cref="HostKernel.StopPasid"/>.
    /// </summary>
    StopPasid,
    /// <summary>
    /// A driver thread of <see cref="HostAction.Unit"/> is woken: by its interrupt (<see cref="HostAction.At"/> is
    /// <see cref="HostAction.NoTime"/>: the host adds its interrupt latency) or to poll again at <see cref="HostAction.At"/>.
    /// Run it with <see cref="HostKernel.RunThread"/>; the kernel asks once until it has run.
    /// </summary>
    RunThread,
    /// <summary>Software wrote commands (responses, invalidations) to the unit's queue; process them with <see cref="HostKernel.ProcessCommands"/> when the IOMMU gets to it.</summary>
    ProcessCommands,
    /// <summary>AMD (H-AMD-3): a PPR log entry becomes visible in memory at <see cref="HostAction.At"/>; then call <see cref="HostKernel.CompleteLogWrites"/>.</summary>
    CompleteLogWrites,
    /// <summary>A worker of the unit's fault queue takes <see cref="HostAction.Work"/> (R26); run it with <see cref="HostKernel.RunWork"/> once the worker is awake.</summary>
    RunWork,
    /// <summary>A guest's fault queue turned readable (R48): wake its reader.</summary>
    FaultQueueReadable,
    /// <summary>A POL-5 response deadline of a guest's fault queue at <see cref="HostAction.At"/>; call <see cref="HostKernel.OnTimer"/> then.</summary>
    Timer,
    /// <summary>POL-9: look again whether the function is quiet enough for its PRI reset (<see cref="HostAction.Attempt"/> 1 after a link time, later ones an interrupt time apart); call <see cref="HostKernel.PollPriReset"/>.</summary>
    PriResetPoll,
}

/// <summary>
/// One output of the host kernel, as a value: a kind, where it goes (a unit, a function or master, a guest),
/// and the payload of that kind. Only the fields its kind names are meaningful.
/// </summary>
public readonly struct HostAction
{
    /// <summary>The <see cref="At"/> of an action that has no time of its own.</summary>
    public const long NoTime = long.MinValue;

    public HostActionKind Kind { get; init; }
    /// <summary>The IOMMU unit's index in <see cref="HostKernel.Units"/>.</summary>
    public int Unit { get; init; }
    /// <summary>The function, master or guest attachment the action is for (its <c>Id</c>), or the driver thread's index.</summary>
    public int Target { get; init; }
    public long At { get; init; }
    public int Attempt { get; init; }
    public PrgResponse PrgResponse { get; init; }
    public InvalidateRequest InvalidateRequest { get; init; }
    public StallTransaction Transaction { get; init; }
    public TransactionOutcome Outcome { get; init; }
    public FaultWorkItem Work { get; init; }
    public Pasid Pasid { get; init; }
    public PasidStopMode StopMode { get; init; }

    public override string ToString() => $"{Kind} unit {Unit} target {Target}{(At == NoTime ? "" : $" at {At}")}";
}

/// <summary>Where the host kernel sends its outputs: the simulator schedules each, the runtime posts each to its loop.</summary>
public interface IKernelHost
{
    /// <summary>Called as the output happens, in order; the host must not call back into the kernel from here except where the kind says "at once".</summary>
    void Take(in HostAction action);
}
