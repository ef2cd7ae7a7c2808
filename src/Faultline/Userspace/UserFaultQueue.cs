using Faultline.Faults;

namespace Faultline.Userspace;

/// <summary>
/// The iommufd FAULT object and its file (<c>drivers/iommu/iommufd/eventq.c</c>, userspace.md R39–R50),
/// sans-IO: it is the <see cref="IFaultHandler"/> of fault-capable HWPTs; the framework delivers groups
/// to it (R42); user space reads 40-byte <see cref="PageFaultRecord"/>s (R46) and writes 8-byte
/// <see cref="PageResponseRecord"/>s (R47) through <see cref="Read"/> and <see cref="Write"/>, which take
/// the bytes a system call would and return its result. Groups are kept as <see cref="FaultGroupHandle"/>s,
/// never as pooled objects.
/// <para>
/// Lifetime (R45): the file holds one reference, every HWPT allocated with this fault id holds one. Closing
/// the file answers nothing; <see cref="Destroy"/> (IOMMU_DESTROY) fails with EBUSY until both are gone,
/// then answers every outstanding group INVALID (R44).
/// </para>
/// </summary>
public sealed class UserFaultQueue : IFaultHandler
{
    /// <summary>The upper bound of the cookie range: <c>xa_limit_32b</c> on an ALLOC1 array, 1…2^32−1.</summary>
    public const uint MaxCookie = uint.MaxValue;

    /// <summary>Cookies whose fate (answered, expired, answered by the host) is remembered, to name a rejection (POL-7).</summary>
    private const int FateMemory = 4096;

    private readonly FaultFramework _framework;
    private readonly Dictionary<FaultAttachment, (uint DevId, int DepthShare)> _handles = new(ReferenceEqualityComparer.Instance);
    private readonly Queue<Entry> _deliver = new();
    private readonly Dictionary<uint, Entry> _responses = new();
    // Read groups in delivery order, for POL-5; entries whose cookie was answered meanwhile are skipped.
    private readonly Queue<(long DeliveredAt, uint Cookie, FaultGroupHandle Group)> _readByAge = new();
    private readonly (uint Cookie, ResponseRejection Fate)[] _fates = new (uint, ResponseRejection)[FateMemory];
    private readonly CookieAllocator _cookies;
    private readonly List<uint> _scratchCookies = [];
    private int _failCookieAllocations;
    private int _depthShares;

    /// <summary>
    /// A fault object on <paramref name="framework"/>, whose policy sets the record flags (F11), cookie reuse
    /// (POL-7), depth (POL-6) and response deadline (POL-5). A group's deadline runs from the time the framework
    /// hands it over (<see cref="Handle"/>'s <c>now</c>).
    /// </summary>
    public UserFaultQueue(FaultFramework framework, uint id = 1)
        : this(framework, id, MaxCookie)
    {
    }

    /// <summary>For tests: a cookie range 1…<paramref name="maxCookie"/> small enough to exhaust.</summary>
    internal UserFaultQueue(FaultFramework framework, uint id, uint maxCookie)
    {
        ArgumentNullException.ThrowIfNull(framework);
        ArgumentOutOfRangeException.ThrowIfZero(id); // R39: an object id is never 0
        _framework = framework;
        Id = id;
        _cookies = new CookieAllocator(maxCookie, framework.Policy.Cookies);
    }

    /// <summary>
    /// <c>IOMMU_FAULT_QUEUE_ALLOC</c> (R39): <paramref name="flags"/> != 0 → EOPNOTSUPP; else a queue whose
    /// file is open.
    /// </summary>
    public static FaultQueueErrno Allocate(FaultFramework framework, uint flags, uint id, out UserFaultQueue? queue)
    {
        queue = null;
        if (flags != 0) return FaultQueueErrno.EOPNOTSUPP;
        queue = new UserFaultQueue(framework, id);
        return FaultQueueErrno.None;
    }

    /// <summary><c>out_fault_id</c>.</summary>
    public uint Id { get; }
    /// <summary>The framework's policy, which sets record flags (F11), cookie reuse (POL-7), depth (POL-6) and deadline (POL-5).</summary>
    public FaultPolicy Policy => _framework.Policy;
    /// <summary>What the queue delivered, answered, expired and rejected.</summary>
    public UserFaultQueueCounters Counters { get; } = new();

    /// <summary>
    /// POL-6: groups the queue holds at once (unread plus read-but-unanswered) — the sum of the depth shares
    /// (PRI allocations) of its attach handles. Null under <see cref="UserQueueDepthPolicy.Unbounded"/> (R42), or
    /// while no handle declared a share.
    /// </summary>
    public int? Depth => Policy.UserQueueDepth == UserQueueDepthPolicy.Unbounded || _depthShares == 0 ? null : _depthShares;

    /// <summary>
    /// The poll wake-up (<c>wake_up_interruptible</c>, R42): called when the deliver list turns non-empty, so
    /// a host can schedule its reader. It runs inside the framework's report: it must not call back into the queue.
    /// </summary>
    public Action<UserFaultQueue>? Readable { get; set; }

    /// <summary>The fault fd is still open; it holds one reference (R45).</summary>
    public bool FdOpen { get; private set; } = true;
    /// <summary>HWPTs allocated with this fault id that still hold it (R40).</summary>
    public int HwptReferences { get; private set; }
    /// <summary>IOMMU_DESTROY succeeded: outstanding groups were answered INVALID (R44) and nothing more is delivered.</summary>
    public bool IsDestroyed { get; private set; }

    /// <summary>Groups delivered and not yet read (the deliver list).</summary>
    public int Unread => _deliver.Count;

    /// <summary>Groups read and not yet answered (the response xarray).</summary>
    public int Unanswered => _responses.Count;

    /// <summary>Whether <paramref name="cookie"/> names a group read and not yet answered.</summary>
    public bool IsOutstanding(uint cookie) => _responses.ContainsKey(cookie);

    /// <summary>The group <paramref name="cookie"/> names while it is read and not yet answered, or null.</summary>
    public FaultGroupHandle? GroupOf(uint cookie) => _responses.TryGetValue(cookie, out var entry) ? entry.Handle : null;

    /// <summary>Outstanding cookies, ascending.</summary>
    public uint[] OutstandingCookies() => [.. _responses.Keys.Order()];

    // ---- Objects and references (R40, R43, R45) ----------------------------------------------------

    /// <summary>
    /// An attach handle of this queue's HWPT for the iommufd device <paramref name="devId"/> (R49 dev_id):
    /// attach it with <see cref="FaultDevice.Attach"/>; after its hardware detach or a successful replace,
    /// pass it to <see cref="AutoRespond"/>. <paramref name="depthShare"/> is what the device can have
    /// outstanding (its PRI allocation): the handle adds it to <see cref="Depth"/> (POL-6).
    /// </summary>
    public FaultAttachment CreateAttachment(uint devId, string domain = "iommufd-iopf-hwpt", int depthShare = 0, bool nested = false)
    {
        if (IsDestroyed) throw new InvalidOperationException($"fault object {Id} is destroyed");
        ArgumentOutOfRangeException.ThrowIfNegative(depthShare);
        var attachment = new FaultAttachment(domain, this) { Nested = nested };
        _handles.Add(attachment, (devId, depthShare));
        _depthShares += depthShare;
        return attachment;
    }

    /// <summary>The dev_id an attach handle of this queue carries, or null.</summary>
    public uint? DevIdOf(FaultAttachment attachment) => _handles.TryGetValue(attachment, out var h) ? h.DevId : null;

    /// <summary><c>IOMMU_HWPT_ALLOC</c> with FAULT_ID_VALID takes a long-term reference (R40); ENOENT once destroyed.</summary>
    public FaultQueueErrno AddHwptReference()
    {
        if (IsDestroyed) return FaultQueueErrno.ENOENT;
        HwptReferences++;
        return FaultQueueErrno.None;
    }

    /// <summary>The HWPT is destroyed: its reference goes. Answers nothing (R45).</summary>
    public bool ReleaseHwptReference()
    {
        if (HwptReferences == 0) return false;
        HwptReferences--;
        return true;
    }

    /// <summary>close(2) of the fault fd: drops the file's reference and answers nothing (R45).</summary>
    public bool Close()
    {
        if (!FdOpen) return false;
        FdOpen = false;
        return true;
    }

    /// <summary>
    /// <c>IOMMU_DESTROY</c> of the fault object: EBUSY while the file is open or an HWPT references it
    /// (R40, R45); ENOENT if already destroyed; else R44 — every group, unread then read-but-unanswered
    /// in cookie order, answered INVALID and freed (the BUG-3 fix covers the second kind).
    /// </summary>
    public FaultQueueErrno Destroy(long now)
    {
        if (IsDestroyed) return FaultQueueErrno.ENOENT;
        if (FdOpen || HwptReferences > 0) return FaultQueueErrno.EBUSY;
        Counters.DestroyResponses += AnswerInvalid(null, now);
        _handles.Clear();
        _depthShares = 0;
        IsDestroyed = true;
        return FaultQueueErrno.None;
    }

    /// <summary>
    /// R43, after the hardware detach of <paramref name="attachment"/> (or a successful replace away from
    /// it): every group it delivered — unread, then read-but-unanswered in cookie order — answered INVALID
    /// and freed, its cookie invalidated; then the handle is forgotten. Returns how many were answered.
    /// O(unread + unanswered), as Linux (F10). A failed replace must not call this.
    /// </summary>
    public int AutoRespond(FaultAttachment attachment, long now)
    {
        ArgumentNullException.ThrowIfNull(attachment);
        int answered = AnswerInvalid(attachment, now);
        Counters.AutoResponses += answered;
        if (_handles.Remove(attachment, out var handle)) _depthShares -= handle.DepthShare;
        return answered;
    }

    // ---- Delivery (R42) -----------------------------------------------------------------------------

    /// <summary>
    /// R42 <c>iommufd_fault_iopf_handler</c>: the group goes to the tail of the deliver list and pollers are
    /// woken (<see cref="Readable"/>). Refuses (the framework then aborts it, R15) only a group of a handle this
    /// queue does not know or no longer serves. Past <see cref="Depth"/> (POL-6) the group is answered SUCCESS
    /// at once, so the function retries later, and counted as a lost event.
    /// </summary>
    public bool Handle(FaultGroup group, long now)
    {
        ArgumentNullException.ThrowIfNull(group);
        if (IsDestroyed || group.Attachment is not { } attachment || !_handles.TryGetValue(attachment, out var handle))
        {
            Counters.Refused++;
            return false;
        }
        if (Depth is { } depth && _deliver.Count + _responses.Count >= depth && LiveGroups() >= depth)
        {
            Counters.LostEvents++;
            Answer(group.Handle, PageResponseCode.Success, now);
            return true;
        }
        _deliver.Enqueue(new Entry(group.Handle, attachment, handle.DevId, now));
        Counters.Delivered++;
        Counters.HighWater = Math.Max(Counters.HighWater, _deliver.Count + _responses.Count);
        if (_deliver.Count == 1) Readable?.Invoke(this);
        return true;
    }

    // ---- Deadlines (POL-5) --------------------------------------------------------------------------

    /// <summary>When the oldest outstanding group reaches its POL-5 deadline, or null (none, or no deadline).</summary>
    public long? NextDeadline
    {
        get
        {
            if (Policy.ResponseDeadlineNs is not { } deadline) return null;
            while (_readByAge.TryPeek(out var read) && !IsStillOutstanding(read.Cookie, read.Group)) _readByAge.Dequeue();
            long? oldest = null;
            if (_deliver.TryPeek(out var unread)) oldest = unread.DeliveredAt;
            if (_readByAge.TryPeek(out var r) && (oldest is null || r.DeliveredAt < oldest)) oldest = r.DeliveredAt;
            return oldest + deadline;
        }
    }

    /// <summary>
    /// POL-5: every group delivered at least the deadline before <paramref name="now"/>, read or not, is
    /// answered INVALID and freed; its cookie, if it had one, is then rejected as expired. Returns how many.
    /// Amortised O(1) per group: deliveries and reads are kept in delivery order.
    /// </summary>
    public int Expire(long now)
    {
        if (Policy.ResponseDeadlineNs is not { } deadline) return 0;
        int expired = 0;
        while (_deliver.TryPeek(out var unread) && unread.DeliveredAt + deadline <= now)
        {
            _deliver.Dequeue();
            if (_framework.Find(unread.Handle) is null)
            {
                Counters.StaleGroups++; // freed meanwhile (R4): nothing to expire
                continue;
            }
            Answer(unread.Handle, PageResponseCode.Invalid, now);
            expired++;
        }
        while (_readByAge.TryPeek(out var read) && read.DeliveredAt + deadline <= now)
        {
            _readByAge.Dequeue();
            if (!IsStillOutstanding(read.Cookie, read.Group)) continue;
            _responses.Remove(read.Cookie, out var entry);
            if (_framework.Find(entry.Handle) is null)
            {
                Retire(read.Cookie, ResponseRejection.AnsweredByHost); // freed meanwhile (R4)
                Counters.StaleGroups++;
                continue;
            }
            Retire(read.Cookie, ResponseRejection.Expired);
            Answer(entry.Handle, PageResponseCode.Invalid, now);
            expired++;
        }
        Counters.Expired += expired;
        return expired;
    }

    // ---- The file (R46, R47, R48) -------------------------------------------------------------------

    /// <summary>
    /// R48: always writable; readable iff the deliver list is non-empty. Read-but-unanswered groups do not count.
    /// </summary>
    public PollEvents Poll() =>
        PollEvents.EPOLLOUT | (_deliver.Count > 0 ? PollEvents.EPOLLIN | PollEvents.EPOLLRDNORM : PollEvents.None);

    /// <summary>Makes the next <paramref name="count"/> cookie allocations fail with ENOMEM (xa_alloc, R46).</summary>
    public void FailNextCookieAllocations(int count) => _failCookieAllocations += count;

    /// <summary>
    /// read(2) (R46) into <paramref name="buffer"/> (count = its length) at file position
    /// <paramref name="position"/>. <paramref name="copyFaultAt"/> simulates a user buffer unmapped from
    /// that byte offset on: a record whose copy reaches it fails (EFAULT).
    /// <list type="bullet">
    /// <item>position ≠ 0 or count % 40 ≠ 0 → ESPIPE.</item>
    /// <item>Whole groups, oldest first, while they fit: one cookie per group (lowest free in 1…2^32−1),
    /// one record per fault in group order, last fault last, each with that cookie.</item>
    /// <item>Returns the bytes written if any, else the error (ENOMEM/EBUSY from cookie allocation,
    /// EFAULT), else 0 — for an empty queue <em>and</em> for a buffer smaller than the first group (F9).</item>
    /// <item>A copy failure erases the group's cookie and leaves the group first in the deliver list; the
    /// records of it already copied stay counted (R46 OBS). Linux then retries the group in the same call
    /// (its outer loop does not stop on -EFAULT), which never ends if the group still fits; the model stops,
    /// which gives Linux's result whenever Linux returns.</item>
    /// </list>
    /// </summary>
    public FaultQueueResult Read(Span<byte> buffer, long position, int? copyFaultAt = null)
    {
        if (!FdOpen) return FaultQueueResult.Failed(FaultQueueErrno.EBADF);
        if (position != 0 || buffer.Length % PageFaultRecord.Size != 0) return FaultQueueResult.Failed(FaultQueueErrno.ESPIPE);

        int done = 0;
        var rc = FaultQueueErrno.None;
        while (_deliver.TryPeek(out var entry))
        {
            if (_framework.Find(entry.Handle) is not { } group)
            {
                _deliver.Dequeue();
                Counters.StaleGroups++;
                continue;
            }
            if (done >= buffer.Length || (long)group.Count * PageFaultRecord.Size > buffer.Length - done) break;

            rc = AllocateCookie(out uint cookie);
            if (rc != FaultQueueErrno.None) break;

            bool copied = true;
            foreach (ref readonly var fault in group.Faults)
            {
                if (copyFaultAt is { } faultAt && done + PageFaultRecord.Size > faultAt)
                {
                    _cookies.Release(cookie);
                    Counters.CopyFailures++;
                    rc = FaultQueueErrno.EFAULT;
                    copied = false;
                    break;
                }
                Compose(fault, entry.DevId, cookie).Encode(buffer[done..]);
                done += PageFaultRecord.Size;
            }
            if (!copied) break;

            _deliver.Dequeue();
            _responses.Add(cookie, entry);
            if (Policy.ResponseDeadlineNs is not null) _readByAge.Enqueue((entry.DeliveredAt, cookie, entry.Handle));
            Counters.GroupsRead++;
        }
        return done > 0 ? FaultQueueResult.Transferred(done)
            : rc != FaultQueueErrno.None ? FaultQueueResult.Failed(rc)
            : FaultQueueResult.Transferred(0);
    }

    /// <summary>
    /// write(2) (R47) of <paramref name="buffer"/> (count = its length) at <paramref name="position"/>.
    /// <paramref name="copyFaultAt"/> as for <see cref="Read"/>.
    /// <list type="bullet">
    /// <item>position ≠ 0 or count % 8 ≠ 0 → ESPIPE.</item>
    /// <item>Per response in order: copy failure → EFAULT; code not SUCCESS/INVALID → EINVAL; cookie not
    /// outstanding (unknown, answered, auto-answered) → EINVAL; else the cookie is removed and the group
    /// answered (R18) and freed (R19).</item>
    /// <item>Stops at the first bad entry; returns the bytes consumed if any (earlier entries stay
    /// applied), else the error — never a positive count for a failed copy (BUG-11).</item>
    /// </list>
    /// </summary>
    public FaultQueueResult Write(ReadOnlySpan<byte> buffer, long position, long now, int? copyFaultAt = null)
    {
        if (!FdOpen) return FaultQueueResult.Failed(FaultQueueErrno.EBADF);
        if (position != 0 || buffer.Length % PageResponseRecord.Size != 0) return FaultQueueResult.Failed(FaultQueueErrno.ESPIPE);

        int done = 0;
        var rejection = ResponseRejection.None;
        while (done < buffer.Length)
        {
            if (copyFaultAt is { } faultAt && done + PageResponseRecord.Size > faultAt)
            {
                rejection = ResponseRejection.CopyFault;
                break;
            }
            var response = PageResponseRecord.Decode(buffer.Slice(done, PageResponseRecord.Size)).Value; // 8 bytes always decode
            if (!response.HasDefinedCode)
            {
                rejection = ResponseRejection.BadCode;
                break;
            }
            if (!_responses.Remove(response.Cookie, out var entry))
            {
                rejection = FateOf(response.Cookie);
                break;
            }
            Retire(response.Cookie, ResponseRejection.AlreadyAnswered);
            Answer(entry.Handle, (PageResponseCode)response.Code, now);
            Counters.Responses++;
            done += PageResponseRecord.Size;
        }
        if (rejection != ResponseRejection.None) Counters.Reject(rejection);
        return done > 0 ? FaultQueueResult.Transferred(done)
            : rejection != ResponseRejection.None ? FaultQueueResult.Failed(ErrnoFor(rejection))
            : FaultQueueResult.Transferred(0);
    }

    /// <summary>
    /// R47 answers -EINVAL for every rejected response but a failed copy; under POL-7 <c>hardened</c>
    /// (<see cref="CookiePolicy.Cyclic"/>, where a cookie's fate is certain) the errno names the reason.
    /// </summary>
    private FaultQueueErrno ErrnoFor(ResponseRejection rejection) => rejection switch
    {
        ResponseRejection.CopyFault => FaultQueueErrno.EFAULT,
        _ when Policy.Cookies == CookiePolicy.LowestFree => FaultQueueErrno.EINVAL,
        ResponseRejection.AlreadyAnswered => FaultQueueErrno.EALREADY,
        ResponseRejection.Expired => FaultQueueErrno.ETIMEDOUT,
        ResponseRejection.AnsweredByHost => FaultQueueErrno.ESTALE,
        _ => FaultQueueErrno.EINVAL,
    };

    // ---- Typed API: the same read and write, for library users ---------------------------------------

    /// <summary>
    /// <see cref="Read"/> with a buffer of <paramref name="maxFaults"/> records, decoded and split into groups
    /// (records of one group are adjacent and share a cookie). Returns the read's result.
    /// </summary>
    public FaultQueueResult ReadGroups(ICollection<UserFaultGroup> groups, int maxFaults = 64)
    {
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxFaults);
        var buffer = new byte[maxFaults * PageFaultRecord.Size];
        var result = Read(buffer, 0);
        if (result.IsError) return result;
        var records = new List<PageFaultRecord>();
        for (int offset = 0; offset < result.Bytes; offset += PageFaultRecord.Size)
        {
            var record = PageFaultRecord.Decode(buffer.AsSpan(offset, PageFaultRecord.Size)).Value; // the queue wrote it
            if (records.Count > 0 && records[^1].Cookie != record.Cookie)
            {
                groups.Add(new UserFaultGroup(records[^1].Cookie, [.. records]));
                records.Clear();
            }
            records.Add(record);
        }
        if (records.Count > 0) groups.Add(new UserFaultGroup(records[^1].Cookie, [.. records]));
        return result;
    }

    /// <summary><see cref="Write"/> of one <c>{cookie, code}</c> record: 8 bytes, or the error.</summary>
    public FaultQueueResult Respond(uint cookie, IommufdPageResponseCode code, long now)
    {
        Span<byte> bytes = stackalloc byte[PageResponseRecord.Size];
        new PageResponseRecord(cookie, code).Encode(bytes);
        return Write(bytes, 0, now);
    }

    // ---- Internals ------------------------------------------------------------------------------------

    /// <summary>R49: the record for one fault of a group.</summary>
    private PageFaultRecord Compose(in Fault fault, uint devId, uint cookie)
    {
        // Linux's prm.flags has bits 0–2; Faultline's PrivateDataValid (bit 3) is not Linux's and never leaves.
        var mask = Policy.UserRecordFlags == RecordFlagsPolicy.Verbatim
            ? PageFaultRecord.DefinedFlags | PageFaultFlags.ResponseNeedsPasid
            : PageFaultRecord.DefinedFlags;
        return new PageFaultRecord((PageFaultFlags)(uint)fault.Flags & mask, devId, fault.Pasid, fault.GroupId,
            (PageFaultPermissions)(uint)fault.Permissions, fault.Address, Length: 0, cookie);
    }

    private FaultQueueErrno AllocateCookie(out uint cookie)
    {
        if (_failCookieAllocations > 0)
        {
            _failCookieAllocations--;
            cookie = 0;
            return FaultQueueErrno.ENOMEM;
        }
        return _cookies.Allocate(out cookie);
    }

    /// <summary>
    /// The one auto-response loop of R43 and R44: groups of <paramref name="attachment"/> (all when null),
    /// first from the deliver list in order, then from the response table in cookie order (xa_for_each).
    /// </summary>
    private int AnswerInvalid(FaultAttachment? attachment, long now)
    {
        int answered = 0;
        for (int n = _deliver.Count; n > 0; n--)
        {
            var entry = _deliver.Dequeue();
            if (attachment is null || entry.Attachment == attachment)
            {
                Answer(entry.Handle, PageResponseCode.Invalid, now);
                answered++;
            }
            else
            {
                _deliver.Enqueue(entry);
            }
        }

        _scratchCookies.Clear();
        foreach (var (cookie, entry) in _responses)
            if (attachment is null || entry.Attachment == attachment) _scratchCookies.Add(cookie);
        _scratchCookies.Sort();
        foreach (uint cookie in _scratchCookies)
        {
            _responses.Remove(cookie, out var entry);
            Retire(cookie, ResponseRejection.AnsweredByHost);
            Answer(entry.Handle, PageResponseCode.Invalid, now);
            answered++;
        }
        return answered;
    }

    /// <summary><c>iopf_group_response</c> then <c>iopf_free_group</c> (R18, R19).</summary>
    private void Answer(FaultGroupHandle handle, PageResponseCode code, long now)
    {
        var status = _framework.Respond(handle, code, now);
        bool freed = _framework.Free(handle);
        if (status != ResponseStatus.Responded || !freed) Counters.StaleGroups++;
    }

    /// <summary>
    /// Groups held that the framework still has: at the POL-6 bound, entries whose group went away with its
    /// device (R4) are dropped first, so they do not make a live group look like one too many. O(held), only there.
    /// </summary>
    private int LiveGroups()
    {
        for (int n = _deliver.Count; n > 0; n--)
        {
            var entry = _deliver.Dequeue();
            if (_framework.Find(entry.Handle) is not null) _deliver.Enqueue(entry);
            else Counters.StaleGroups++;
        }
        _scratchCookies.Clear();
        foreach (var (cookie, entry) in _responses)
            if (_framework.Find(entry.Handle) is null) _scratchCookies.Add(cookie);
        foreach (uint cookie in _scratchCookies)
        {
            _responses.Remove(cookie);
            Retire(cookie, ResponseRejection.AnsweredByHost);
            Counters.StaleGroups++;
        }
        return _deliver.Count + _responses.Count;
    }

    /// <summary>The cookie goes back to the allocator; what became of its group is remembered for a late response.</summary>
    private void Retire(uint cookie, ResponseRejection fate)
    {
        _cookies.Release(cookie);
        _fates[cookie % FateMemory] = (cookie, fate);
    }

    private ResponseRejection FateOf(uint cookie) =>
        _fates[cookie % FateMemory] is var (c, fate) && c == cookie && fate != ResponseRejection.None ? fate : ResponseRejection.UnknownCookie;

    private bool IsStillOutstanding(uint cookie, FaultGroupHandle group) =>
        _responses.TryGetValue(cookie, out var entry) && entry.Handle == group;


    private readonly record struct Entry(FaultGroupHandle Handle, FaultAttachment Attachment, uint DevId, long DeliveredAt);
}
