namespace Faultline.Userspace;

/// <summary>What the <c>flags</c> of a read record carry (R49, F11).</summary>
public enum RecordFlagsPolicy
{
    /// <summary>R49 as Linux: the kernel's <c>prm.flags</c> verbatim, bits 0–2, so the internal NEEDS_PASID (bit 2) leaks.</summary>
    Verbatim,
    /// <summary>F11: only the bits the uAPI defines (PASID_VALID, LAST_PAGE).</summary>
    DefinedOnly,
}

/// <summary>
/// The user fault queue's switches. <see cref="Linux"/> is upstream rule for rule; <see cref="Hardened"/>
/// masks the internal flag bit (F11) and bounds the groups a consumer may hold (F3).
/// </summary>
public sealed record UserFaultQueueOptions
{
    public required string Name { get; init; }
    public required RecordFlagsPolicy RecordFlags { get; init; }

    /// <summary>
    /// F3: groups the queue holds at once (unread plus read-but-unanswered); past it the handler refuses
    /// the group, and the framework answers it per its abort policy (R15, POL-3). Null: unbounded (R42).
    /// </summary>
    public int? Depth { get; init; }

    public static UserFaultQueueOptions Linux { get; } = new() { Name = "linux", RecordFlags = RecordFlagsPolicy.Verbatim, Depth = null };

    /// <summary>4096 groups: twice the largest PRI allocation Linux VT-d grants (numbers.md), per queue.</summary>
    public static UserFaultQueueOptions Hardened { get; } = new() { Name = "hardened", RecordFlags = RecordFlagsPolicy.DefinedOnly, Depth = 4096 };
}

/// <summary>poll(2) events (R48), with Linux's values.</summary>
[Flags]
public enum PollEvents : uint
{
    None = 0,
    EPOLLIN = 0x001,
    EPOLLOUT = 0x004,
    EPOLLRDNORM = 0x040,
}

/// <summary>One group as the typed API returns it: its cookie and its records, last fault last.</summary>
public sealed record UserFaultGroup(uint Cookie, PageFaultRecord[] Records);

/// <summary>What the queue did, for checks and reports.</summary>
public sealed class UserFaultQueueCounters
{
    /// <summary>Groups appended to the deliver list (R42).</summary>
    public long Delivered { get; internal set; }
    /// <summary>Groups the handler refused: the queue is destroyed, the attach handle unknown, or <see cref="UserFaultQueueOptions.Depth"/> reached.</summary>
    public long Refused { get; internal set; }
    /// <summary>Groups copied out by read and given a cookie (R46).</summary>
    public long GroupsRead { get; internal set; }
    /// <summary>Groups answered by write (R47).</summary>
    public long Responses { get; internal set; }
    /// <summary>Groups answered INVALID on detach (R43).</summary>
    public long AutoResponses { get; internal set; }
    /// <summary>Groups answered INVALID on destroy (R44).</summary>
    public long DestroyResponses { get; internal set; }
    /// <summary>Read copies that failed (EFAULT, R46).</summary>
    public long CopyFailures { get; internal set; }
    /// <summary>
    /// Groups the framework had already freed when the queue came to them (e.g. its device was removed
    /// before detach: R4 answered them). Linux would touch freed memory there (F12); the model skips them.
    /// </summary>
    public long StaleGroups { get; internal set; }
}
