using System.Runtime.InteropServices;
using Faultline.Devices;
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
    /// <summary>Worker <see cref="HostAction.Target"/> of the unit's fault queues took a work item (R26); it runs once the worker is awake.</summary>
    RunWork,
    /// <summary>Guest <see cref="HostAction.Target"/>'s fault queue turned readable (R48): the host wakes its reader at once.</summary>
    FaultQueueReadable,
    /// <summary>A POL-5 response deadline of guest <see cref="HostAction.Target"/>'s fault queue, due at <see cref="HostAction.At"/>.</summary>
    Timer,
    /// <summary>POL-9, POL-13, POL-14: look again whether function <see cref="HostAction.Target"/> is quiet enough for its PRI reset (<see cref="HostAction.Attempt"/> 1 after a link time, later ones an interrupt time apart).</summary>
    PriResetPoll,
    /// <summary>Guest <see cref="HostAction.Target"/>'s detach completed (R43): the host tells the guest's VMM at once.</summary>
    GuestDetached,
}

/// <summary>
/// One output of the host kernel, as a value: a kind, where it goes (a unit, a function or master, a guest),
/// and the payload of that kind. Only the fields its kind names are meaningful: the payloads share their bytes,
/// so an action holds no reference and a host can copy it cheaply (a worker's item stays in its unit: <see cref="HostKernel.RunWork"/>).
/// </summary>
[StructLayout(LayoutKind.Explicit)]
public readonly struct HostAction
{
    /// <summary>The <see cref="At"/> of an action that has no time of its own.</summary>
    public const long NoTime = long.MinValue;

    private const int Payload = 32;

    [FieldOffset(0)] private readonly long _at;
    [FieldOffset(8)] private readonly int _unit;
    [FieldOffset(12)] private readonly int _target;
    [FieldOffset(16)] private readonly int _attempt;
    [FieldOffset(20)] private readonly TransactionOutcome _outcome;
    [FieldOffset(24)] private readonly HostActionKind _kind;
    [FieldOffset(Payload)] private readonly PrgResponse _prgResponse;
    [FieldOffset(Payload)] private readonly InvalidateRequest _invalidateRequest;
    [FieldOffset(Payload)] private readonly TranslationCompletion _translationCompletion;
    [FieldOffset(Payload)] private readonly StallTransaction _transaction;

    /// <summary>What the host is asked to do.</summary>
    public HostActionKind Kind { get => _kind; init => _kind = value; }
    /// <summary>The IOMMU unit's index in <see cref="HostKernel.Units"/>.</summary>
    public int Unit { get => _unit; init => _unit = value; }
    /// <summary>The function, master or guest attachment the action is for (its <c>Id</c>), the driver thread's index, or the worker's slot.</summary>
    public int Target { get => _target; init => _target = value; }
    /// <summary>When it is due, for the kinds that say so; else <see cref="NoTime"/> or 0.</summary>
    public long At { get => _at; init => _at = value; }
    /// <summary>POL-9, POL-13, POL-14: which look for a quiet function this is (1 for the first).</summary>
    public int Attempt { get => _attempt; init => _attempt = value; }
    /// <summary>The response, for <see cref="HostActionKind.PrgResponse"/>.</summary>
    public PrgResponse PrgResponse { get => _prgResponse; init => _prgResponse = value; }
    /// <summary>The ATS Invalidate Request, for <see cref="HostActionKind.InvalidateRequest"/>.</summary>
    public InvalidateRequest InvalidateRequest { get => _invalidateRequest; init => _invalidateRequest = value; }
    /// <summary>The ATS Translation Completion, for <see cref="HostActionKind.TranslationCompletion"/>.</summary>
    public TranslationCompletion TranslationCompletion { get => _translationCompletion; init => _translationCompletion = value; }
    /// <summary>The transaction that ended, for <see cref="HostActionKind.TransactionEnded"/>.</summary>
    public StallTransaction Transaction { get => _transaction; init => _transaction = value; }
    /// <summary>How it ended, for <see cref="HostActionKind.TransactionEnded"/>.</summary>
    public TransactionOutcome Outcome { get => _outcome; init => _outcome = value; }

    /// <inheritdoc />
    public override string ToString() => $"{Kind} unit {Unit} target {Target}{(At == NoTime ? "" : $" at {At}")}";
}

/// <summary>Where the host kernel sends its outputs: the simulator schedules each, the runtime queues each on its loop.</summary>
public interface IKernelHost
{
    /// <summary>
    /// Called as the output happens, in order. The host decides when it lands and then hands it to
    /// <see cref="HostKernel.Land"/>; only <see cref="HostActionKind.FaultQueueReadable"/> and <see cref="HostActionKind.GuestDetached"/> are acted on at once.
    /// </summary>
    void Take(in HostAction action);
}
