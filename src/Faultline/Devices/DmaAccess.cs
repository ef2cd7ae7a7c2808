using Faultline.Pcie;

namespace Faultline.Devices;

/// <summary>
/// One DMA the function performs: <see cref="Pages"/> consecutive 4 KiB pages from
/// <see cref="Address"/>, read or written, under an optional PASID.
/// </summary>
public readonly record struct DmaAccess(long Id, PasidPrefix? Prefix, ulong Address, int Pages, bool Write)
{
    /// <summary>Whether the access fetches instructions: its PASID prefix's Execute Requested bit.</summary>
    public bool Execute => Prefix is { ExecuteRequested: true };
}

/// <summary>How an access ended.</summary>
public enum AccessResult
{
    /// <summary>Every page was translated and accessed.</summary>
    Completed,
    /// <summary>H-PCI-8: a page request was answered Invalid Request.</summary>
    InvalidRequest,
    /// <summary>H-PCI-9: Response Failure (or a reserved code) stopped PRI on the function.</summary>
    ResponseFailure,
    /// <summary>H-PCI-4: a page needed PRI while PRI was disabled or had no allocation.</summary>
    PriUnavailable,
    /// <summary>ATS, PASID, or the PASID's Execute / Privileged mode is not enabled, so the request cannot be made.</summary>
    CapabilityDisabled,
    /// <summary>The translation agent answered with a configuration error (UR/CA).</summary>
    TranslationFault,
    /// <summary>Success kept coming back without the page becoming usable (H-PCI-7 loop bound).</summary>
    RetryLimit,
    /// <summary>H-PCI-12: a PRI reset forgot the access's outstanding page requests.</summary>
    PriReset,
    /// <summary>H-PCI-19: the device driver stopped the access's PASID.</summary>
    PasidStopped,
    /// <summary>A platform master's transaction ended with an abort (CMD_RESUME Abort, a terminate with CD.A = 1, H-SMMU-6).</summary>
    StallAborted,
    /// <summary>A platform master's transaction was terminated as read-as-zero / write-ignored (CD.A = 0, H-SMMU-6).</summary>
    StallTerminated,
}
