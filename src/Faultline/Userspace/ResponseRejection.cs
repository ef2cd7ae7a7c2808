namespace Faultline.Userspace;

/// <summary>
/// Why a response written to a userspace fault queue was not applied (R47; POL-7). Linux answers
/// -EINVAL for all but <see cref="CopyFault"/>; under <c>hardened</c> the errno names the reason.
/// </summary>
public enum ResponseRejection
{
    /// <summary>The response was applied.</summary>
    None,
    /// <summary>A code other than SUCCESS (0) or INVALID (1) (R47, BUG-10).</summary>
    BadCode,
    /// <summary>A cookie this queue never handed out, or one too old to remember.</summary>
    UnknownCookie,
    /// <summary>The group was already answered through this queue (a duplicate).</summary>
    AlreadyAnswered,
    /// <summary>POL-5: the host answered the group INVALID at its deadline.</summary>
    Expired,
    /// <summary>R43 / R44: the host answered the group INVALID when its device was detached or the queue destroyed.</summary>
    AnsweredByHost,
    /// <summary>The user buffer could not be read (R47, BUG-11).</summary>
    CopyFault,
}
