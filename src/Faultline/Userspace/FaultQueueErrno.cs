namespace Faultline.Userspace;

/// <summary>
/// The errno a fault-queue operation fails with (userspace.md §2.2). Values are Linux's numbers, so
/// <see cref="FaultQueueResult.ToSyscallReturn"/> is what the system call returns.
/// </summary>
public enum FaultQueueErrno
{
    /// <summary>Success: no errno.</summary>
    None = 0,
    /// <summary>No such object, or one of another type (R40 fault_id lookup); a nested-from-vIOMMU attach without a vDEVICE (R41).</summary>
    ENOENT = 2,
    /// <summary>The fd is closed (read/write after close).</summary>
    EBADF = 9,
    /// <summary>Cookie allocation failed (xa_alloc -ENOMEM, R46).</summary>
    ENOMEM = 12,
    /// <summary>A user copy failed and nothing was transferred before it (R46, R47, BUG-11).</summary>
    EFAULT = 14,
    /// <summary>Destroy while the fd or an HWPT holds the object, or of an attached HWPT (R40); no free cookie in 1…2^32−1 (xa_alloc, R46).</summary>
    EBUSY = 16,
    /// <summary>vDEVICE alloc for a device that has one, or a virtual id the vIOMMU already has.</summary>
    EEXIST = 17,
    /// <summary>Write: a code other than SUCCESS/INVALID, or a cookie that is not outstanding (R47); R41; replace of a device not attached (BUG-13).</summary>
    EINVAL = 22,
    /// <summary>Read/write at a position other than 0, or a count not a multiple of the record (R46, R47).</summary>
    ESPIPE = 29,
    /// <summary>Fault-queue alloc flags != 0 (R39); HWPT flags unknown or NEST_PARENT with FAULT_ID_VALID (R40).</summary>
    EOPNOTSUPP = 95,
    /// <summary>POL-7 (hardened) write: the cookie's group was answered INVALID at its POL-5 deadline.</summary>
    ETIMEDOUT = 110,
    /// <summary>POL-7 (hardened) write: the cookie's group was already answered by this queue's user.</summary>
    EALREADY = 114,
    /// <summary>POL-7 (hardened) write: the cookie's group was answered by the host at detach or replace (R43).</summary>
    ESTALE = 116,
}

/// <summary>Spelling of a <see cref="FaultQueueErrno"/> as the kernel returns it.</summary>
public static class FaultQueueErrnoNames
{
    /// <summary>"-ESPIPE" and so on; "0" for none.</summary>
    public static string Name(this FaultQueueErrno errno) => errno == FaultQueueErrno.None ? "0" : "-" + errno;
}

/// <summary>
/// What read(2) or write(2) on the fault queue returned: a byte count (0 included) or an errno, never
/// both. A partial transfer that hit an error is a byte count (the kernel's <c>done == 0 ? rc : done</c>).
/// </summary>
public readonly record struct FaultQueueResult
{
    private FaultQueueResult(int bytes, FaultQueueErrno error)
    {
        Bytes = bytes;
        Error = error;
    }

    /// <summary>Bytes transferred; 0 when <see cref="IsError"/>.</summary>
    public int Bytes { get; }
    /// <summary>The errno the call failed with; <see cref="FaultQueueErrno.None"/> when it transferred bytes.</summary>
    public FaultQueueErrno Error { get; }
    /// <summary>True when the call returned an errno rather than a byte count.</summary>
    public bool IsError => Error != FaultQueueErrno.None;

    /// <summary>A call that moved <paramref name="bytes"/> bytes (0 or more).</summary>
    public static FaultQueueResult Transferred(int bytes) =>
        bytes >= 0 ? new(bytes, FaultQueueErrno.None) : throw new ArgumentOutOfRangeException(nameof(bytes));

    /// <summary>A call that failed with <paramref name="error"/> and moved nothing.</summary>
    public static FaultQueueResult Failed(FaultQueueErrno error) =>
        error != FaultQueueErrno.None ? new(0, error) : throw new ArgumentOutOfRangeException(nameof(error));

    /// <summary>The system call's return value: bytes, or minus the errno.</summary>
    public long ToSyscallReturn() => IsError ? -(long)Error : Bytes;

    /// <summary>The byte count, or the errno as <c>-EINVAL</c> and so on.</summary>
    public override string ToString() => IsError ? Error.Name() : Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
