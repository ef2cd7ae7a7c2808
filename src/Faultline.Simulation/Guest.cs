using Faultline.Faults;
using Faultline.Host;
using Faultline.Sva;
using Faultline.Userspace;

namespace Faultline.Simulation;

/// <summary>
/// A guest (its VMM and its driver, as one actor) that owns a function through a fault-capable HWPT:
/// woken when its fault queue turns readable, it reads whole groups, resolves them in its own stage-1
/// address space and writes its answers — or misbehaves as <see cref="GuestSpec.Behaviour"/> says.
/// Every write goes through the queue's byte interface, so the host sees exactly what a VMM would send.
/// </summary>
internal sealed class Guest(Platform platform, GuestSpec spec, FunctionNode node, GuestAttachment attachment, SimRandom random)
{
    private readonly List<(uint Cookie, uint Code)> _held = [];
    private readonly byte[] _response = new byte[PageResponseRecord.Size];
    private bool _readScheduled;
    // Answers on their way out, by batch: the event that writes them names its batch (SimEvent holds no reference).
    private readonly Dictionary<int, IReadOnlyList<(uint Cookie, uint Code)>> _batches = [];
    private int _nextBatch;
    private int _readFaults = 256; // records per read; grows when a whole group does not fit (R46 returns 0 then)
    private uint _previousCookie;

    /// <summary>The largest read: a group never holds more requests than a function has credits (at most 2^16 here).</summary>
    private const int MaxReadFaults = 1 << 16;

    public GuestSpec Spec { get; } = spec;
    public FunctionNode Node { get; } = node;
    /// <summary>What the kernel has of the guest: its fault queue, detach, POL-9.</summary>
    public GuestAttachment Attachment { get; } = attachment;
    public AddressSpace AddressSpace => Attachment.AddressSpace;
    public UserFaultQueue Queue => Attachment.Queue;

    /// <summary>R48: the queue is readable; the guest reads after its wake-up delay.</summary>
    public void OnReadable()
    {
        if (Spec.Behaviour == GuestBehaviour.ReadsNothing || _readScheduled || Queue.IsDestroyed) return;
        _readScheduled = true;
        platform.Scheduler.After(Spec.ReadDelayNs, new SimEvent { Kind = SimEventKind.GuestRead, Target = Attachment.Id });
    }

    /// <summary>The host detached the device (R43): held answers go out now, late (answers-after-detach).</summary>
    public void OnDetached()
    {
        if (_held.Count == 0) return;
        var late = _held.ToArray();
        _held.Clear();
        Answer(Spec.AnswerDelayNs, late);
    }

    private void Answer(long delay, IReadOnlyList<(uint Cookie, uint Code)> answers)
    {
        int batch = _nextBatch++;
        _batches.Add(batch, answers);
        platform.Scheduler.After(delay, new SimEvent { Kind = SimEventKind.GuestAnswers, Target = Attachment.Id, Batch = batch });
    }

    public void Read()
    {
        _readScheduled = false;
        var groups = new List<UserFaultGroup>();
        // R46: a read returns 0 when the first group is larger than the buffer; a VMM then reads again with a larger one.
        while (platform.Kernel.ReadFaults(Attachment, groups, _readFaults, platform.Now) is { IsError: false, Bytes: 0 } && Queue.Unread > 0 && _readFaults < MaxReadFaults) _readFaults *= 2;
        if (Queue.Unread > 0 && groups.Count > 0) OnReadable();
        platform.Trace?.Instant(Node.Port.TraceName, "guest", $"{Spec.Name} read {groups.Count} groups", platform.Now, "guest");
        if (groups.Count == 0) return;

        long cost = 0;
        var answers = new List<(uint Cookie, uint Code)>(groups.Count);
        foreach (var group in groups)
        {
            var code = Spec.Behaviour == GuestBehaviour.Flood ? PageResponseCode.Success : Resolve(group, ref cost);
            answers.AddRange(Answers(group.Cookie, (uint)code));
        }
        if (answers.Count == 0) return;
        if (Spec.Behaviour == GuestBehaviour.AnswersAfterDetach && !Attachment.Detached)
        {
            _held.AddRange(answers);
            return;
        }
        Answer(Spec.AnswerDelayNs + cost, answers);
        // The guest is the handler of what it answers: stage latencies run from its read to its write.
        foreach (var group in groups)
            if (Queue.GroupOf(group.Cookie) is { } handle && platform.Kernel.Framework.Find(handle) is { } reported)
                platform.HandlerRan(Node, reported, Node.Port.Unit.Index, platform.Now + Spec.AnswerDelayNs + cost);
    }

    /// <summary>R27 in the guest: the first fault it cannot resolve makes the group INVALID.</summary>
    private PageResponseCode Resolve(UserFaultGroup group, ref long cost)
    {
        foreach (var record in group.Records)
        {
            var required = SvaDomain.Required((FaultPermissions)(uint)record.Perm);
            if (AddressSpace.Fault(record.Address, required, platform.Costs, ref cost) != PageResponseCode.Success)
                return PageResponseCode.Invalid;
        }
        return PageResponseCode.Success;
    }

    private IEnumerable<(uint Cookie, uint Code)> Answers(uint cookie, uint code)
    {
        switch (Spec.Behaviour)
        {
            case GuestBehaviour.NeverAnswers:
                yield break;
            case GuestBehaviour.AnswersTwice:
                yield return (cookie, code);
                yield return (cookie, code);
                break;
            case GuestBehaviour.RandomCookies:
                // Small numbers, where a lowest-free allocator hands out real cookies (R46).
                yield return ((uint)random.NextInclusive(1, 2L * (Queue.Unanswered + 4)), code);
                break;
            case GuestBehaviour.StaleCookies:
                yield return (_previousCookie == 0 ? cookie : _previousCookie, code);
                _previousCookie = cookie;
                break;
            case GuestBehaviour.BadCodes:
                yield return (cookie, (uint)random.NextInclusive(2, 5)); // BUG-10: FAILURE (2) and undefined codes
                break;
            default:
                yield return (cookie, code);
                break;
        }
    }

    /// <summary>Writes answer batch <paramref name="batch"/> (<see cref="Answer"/>), whose delay has passed: one write(2) per answer, as a VMM forwards each guest response.</summary>
    public void Send(int batch)
    {
        if (!_batches.Remove(batch, out var answers) || Queue.IsDestroyed) return;
        foreach (var (cookie, code) in answers)
        {
            new PageResponseRecord(cookie, (IommufdPageResponseCode)code).Encode(_response);
            var result = platform.Kernel.WriteResponse(Attachment, _response, platform.Now);
            platform.Trace?.Instant(Node.Port.TraceName, "guest", $"{Spec.Name} write cookie {cookie} code {code}: {result}", platform.Now, "guest");
        }
    }
}
