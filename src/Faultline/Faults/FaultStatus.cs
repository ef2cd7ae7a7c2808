namespace Faultline.Faults;

/// <summary>Results of framework calls, each mirroring the errno Linux returns in that case.</summary>
public enum FaultStatus
{
    /// <summary>0: success.</summary>
    Ok = 0,
    /// <summary>-ENODEV: no page_response op (R3), or no fault param.</summary>
    NoDevice,
    /// <summary>-EBUSY: already registered (R3) or slot occupied (R28).</summary>
    Busy,
    /// <summary>-ENOMEM: an allocation failed (R12).</summary>
    NoMemory,
    /// <summary>-EINVAL: bad iopf setup, no handler (R10); null queue (R24).</summary>
    Invalid,
}

/// <summary>What happened to a response (R18, R20, POL-7).</summary>
public enum ResponseStatus
{
    /// <summary>Passed to the driver, which sent it to the device.</summary>
    Responded,
    /// <summary>R20 under <c>linux</c>: silently not sent; the responder learns nothing more.</summary>
    Dropped,
    /// <summary>POL-7: the group was already answered.</summary>
    AlreadyAnswered,
    /// <summary>POL-7: no such group (never reported, freed, or removed with its device).</summary>
    Unknown,
}

/// <summary>The errno names of <see cref="FaultStatus"/> values.</summary>
public static class FaultStatusNames
{
    /// <summary>The errno Linux returns in this case: "0", "-ENODEV", "-EBUSY", "-ENOMEM" or "-EINVAL".</summary>
    public static string Errno(this FaultStatus status) => status switch
    {
        FaultStatus.Ok => "0",
        FaultStatus.NoDevice => "-ENODEV",
        FaultStatus.Busy => "-EBUSY",
        FaultStatus.NoMemory => "-ENOMEM",
        FaultStatus.Invalid => "-EINVAL",
        _ => status.ToString(),
    };
}
