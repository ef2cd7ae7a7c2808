using Faultline.Devices;
using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>What the host kernel asks of its host. The host decides when each lands (DESIGN rule 1).</summary>
public enum HostActionKind : byte
{
    /// <summary>A PRG Response leaves the root port toward function <see cref="HostAction.Target"/> (a link away).</summary>
    PrgResponse,
    /// <summary>An ATS Invalidate Request leaves toward function <see cref="HostAction.Target"/> (a link away).</summary>
    InvalidateRequest,
    /// <summary>The translation agent answered an ATS request of function <see cref="HostAction.Target"/> (its work, then a link away).</summary>
    TranslationCompletion,
    /// <summary>A transaction of stall master <see cref="HostAction.Target"/> ended (a link away).</summary>
    TransactionEnded,
    /// <summary>
    /// Driver thread <see cref="HostAction.Target"/> of <see cref="HostAction.Unit"/> is woken: by its interrupt
    /// (<see cref="HostAction.At"/> is <see cref="HostAction.NoTime"/>: the host adds its interrupt latency) or to poll
    /// again at <see cref="HostAction.At"/>. The kernel asks once until it has run, and a host runs it no earlier than
    /// the end of the thread's previous batch.
    /// </summary>
    RunThread,
    /// <summary>Software wrote commands (responses, invalidations) to the unit's queue; the IOMMU gets to it after its command latency.</summary>
    ProcessCommands,
    /// <summary>AMD (H-AMD-3): a PPR log entry becomes visible in memory at <see cref="HostAction.At"/>.</summary>
    CompleteLogWrites,
    /// <summary>Worker <see cref="HostAction.Target"/> of the unit's fault queues takes <see cref="HostAction.Work"/> (R26), once awake.</summary>
    RunWork,
    /// <summary>Guest <see cref="HostAction.Target"/>'s fault queue turned readable (R48): the host wakes its reader at once.</summary>
    FaultQueueReadable,
    /// <summary>A POL-5 response deadline of guest <see cref="HostAction.Target"/>'s fault queue, due at <see cref="HostAction.At"/>.</summary>
    Timer,
    /// <summary>POL-9: look again whether guest <see cref="HostAction.Target"/>'s function is quiet enough for its PRI reset (<see cref="HostAction.Attempt"/> 1 after a link time, later ones an interrupt time apart).</summary>
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

    /// <summary>What the kernel asks for, and so which fields are meaningful.</summary>
    public HostActionKind Kind { get; init; }
    /// <summary>The IOMMU unit's index in <see cref="HostKernel.Units"/>.</summary>
    public int Unit { get; init; }
    /// <summary>The function, master or guest attachment the action is for (its <c>Id</c>), or the driver thread's index.</summary>
    public int Target { get; init; }
    /// <summary>When the action is due, in ns, for a poll (<see cref="HostActionKind.RunThread"/>), a PPR log write or a POL-5 timer.</summary>
    public long At { get; init; }
    /// <summary>Which look of POL-9 a <see cref="HostActionKind.PriResetPoll"/> is, from 1.</summary>
    public int Attempt { get; init; }
    /// <summary>The PRG Response, for <see cref="HostActionKind.PrgResponse"/>.</summary>
    public PrgResponse PrgResponse { get; init; }
    /// <summary>The ATS Invalidate Request, for <see cref="HostActionKind.InvalidateRequest"/>.</summary>
    public InvalidateRequest InvalidateRequest { get; init; }
    /// <summary>The ATS Translation Completion, for <see cref="HostActionKind.TranslationCompletion"/>.</summary>
    public TranslationCompletion TranslationCompletion { get; init; }
    /// <summary>The master's transaction that ended, for <see cref="HostActionKind.TransactionEnded"/>.</summary>
    public StallTransaction Transaction { get; init; }
    /// <summary>How that transaction ended, for <see cref="HostActionKind.TransactionEnded"/>.</summary>
    public TransactionOutcome Outcome { get; init; }
    /// <summary>The fault work item (group and handler) the worker takes, for <see cref="HostActionKind.RunWork"/>.</summary>
    public FaultWorkItem Work { get; init; }

    /// <summary>The kind, unit, target and, unless it is <see cref="NoTime"/>, <see cref="At"/>, for logs.</summary>
    public override string ToString() => $"{Kind} unit {Unit} target {Target}{(At == NoTime ? "" : $" at {At}")}";
}

/// <summary>Where the host kernel sends its outputs: the simulator schedules each, the runtime queues each on its loop.</summary>
public interface IKernelHost
{
    /// <summary>
    /// Called as the output happens, in order. The host decides when it lands and then hands it to
    /// <see cref="HostKernel.Land"/>; only <see cref="HostActionKind.FaultQueueReadable"/> is acted on at once.
    /// </summary>
    void Take(in HostAction action);
}
