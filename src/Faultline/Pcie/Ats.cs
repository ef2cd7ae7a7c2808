namespace Faultline.Pcie;

/// <summary>
/// An ATS Translation Request for one page (pcie.md §1 step 1): untranslated address, optional
/// PASID prefix, and whether write permission is wanted. <see cref="Tag"/> lets the function match
/// the completion.
/// </summary>
public readonly record struct TranslationRequest(RequesterId Requester, PasidPrefix? Prefix, ulong Address, bool WriteWanted, int Tag);

/// <summary>Completion Status of an ATS Translation Completion.</summary>
public enum TranslationStatus
{
    /// <summary>A successful completion; R = W = 0 means "not present or no permission: use PRI".</summary>
    Success,
    /// <summary>A configuration error (no context, no PASID entry): UR/CA, not recoverable by PRI.</summary>
    UnsupportedRequest,
}

/// <summary>An ATS Translation Completion (pcie.md §1 step 2).</summary>
public readonly record struct TranslationCompletion(int Tag, TranslationStatus Status, bool Read, bool Write, bool Execute)
{
    /// <summary>Whether the completion grants the access: W for a write (R for a read), and X when <paramref name="execute"/> is set.</summary>
    public bool Grants(bool write, bool execute) =>
        Status == TranslationStatus.Success && (write ? Write : Read) && (!execute || Execute);

    /// <summary>The translation agent cannot serve the request (no context, stream or table for it).</summary>
    public static TranslationCompletion Unsupported(int tag) => new(tag, TranslationStatus.UnsupportedRequest, false, false, false);
}

/// <summary>
/// An ATS Invalidate Request from the IOMMU to a function: drop cached translations of the PASID
/// (or of untranslated requests without one) in [Address, Address + Length).
/// </summary>
public readonly record struct InvalidateRequest(RequesterId Destination, Pasid? Pasid, ulong Address, ulong Length, int Tag)
{
    /// <summary>Whether <paramref name="address"/> lies in the invalidated range.</summary>
    public bool Covers(ulong address) => address >= Address && address - Address < Length;
}

/// <summary>
/// The function's Invalidation Completion. It is posted behind the function's earlier Page Requests
/// and must not overtake them (H-PCI-18): the VT-d drain depends on that.
/// </summary>
public readonly record struct InvalidationCompletion(RequesterId Requester, int Tag);
