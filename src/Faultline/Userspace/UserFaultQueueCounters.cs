namespace Faultline.Userspace;

/// <summary>What a userspace fault queue did, for checks and reports.</summary>
public sealed class UserFaultQueueCounters
{
    private readonly long[] _rejected = new long[Enum.GetValues<ResponseRejection>().Length];

    /// <summary>Groups appended to the deliver list (R42).</summary>
    public long Delivered { get; internal set; }
    /// <summary>Groups the handler refused: the queue is destroyed or the attach handle unknown (the framework aborts them, R15).</summary>
    public long Refused { get; internal set; }
    /// <summary>POL-6: groups past the queue's depth, answered SUCCESS so the function retries (lost events).</summary>
    public long LostEvents { get; internal set; }
    /// <summary>Groups copied out by read and given a cookie (R46).</summary>
    public long GroupsRead { get; internal set; }
    /// <summary>Groups answered by write (R47).</summary>
    public long Responses { get; internal set; }
    /// <summary>Groups answered INVALID on detach (R43).</summary>
    public long AutoResponses { get; internal set; }
    /// <summary>Groups answered INVALID on destroy (R44).</summary>
    public long DestroyResponses { get; internal set; }
    /// <summary>POL-5: groups answered INVALID at their deadline.</summary>
    public long Expired { get; internal set; }
    /// <summary>Read copies that failed (EFAULT, R46).</summary>
    public long CopyFailures { get; internal set; }
    /// <summary>The most groups held at once (unread plus read-but-unanswered).</summary>
    public long HighWater { get; internal set; }
    /// <summary>
    /// Groups the framework had already freed when the queue came to them (e.g. its device was removed
    /// before detach: R4 answered them). Linux would touch freed memory there (F12); the model skips them.
    /// </summary>
    public long StaleGroups { get; internal set; }

    /// <summary>Responses written and not applied, by reason (R47, POL-7).</summary>
    public long Rejected(ResponseRejection reason) => _rejected[(int)reason];

    /// <summary>Responses written and not applied, for every reason.</summary>
    public long RejectedTotal => _rejected.Sum();

    internal void Reject(ResponseRejection reason) => _rejected[(int)reason]++;
}
