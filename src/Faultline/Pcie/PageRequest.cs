namespace Faultline.Pcie;

/// <summary>
/// A PCIe Page Request message (message code 0x04, pcie.md §3.1): the 8-byte payload
/// (R, W, L, PRG index, page address) plus the requester id and the optional PASID prefix.
/// A Stop Marker is the same message with a PASID, L = 1 and R = W = 0 (§3.2).
/// </summary>
public readonly record struct PageRequest(
    RequesterId Requester,
    bool Read,
    bool Write,
    bool Last,
    PrgIndex Index,
    ulong PageAddress,
    PasidPrefix? Prefix)
{
    /// <summary>log2 of the 4 KiB page: the Page Address field holds address bits 63:12.</summary>
    public const int PageShift = 12;
    /// <summary>Mask of the Page Address field (bits 63:12) in the payload.</summary>
    public const ulong PageMask = ~((1UL << PageShift) - 1);

    /// <summary>A Stop Marker: PASID prefix present, L = 1, R = W = 0 (§3.2).</summary>
    public bool IsStopMarker => Prefix.HasValue && Last && !Read && !Write;

    // The PASID prefix as every IOMMU records it: without one, PASID and Exe/Priv read as 0 (§3.1).
    /// <summary>Whether the request carries a PASID prefix.</summary>
    public bool PasidPresent => Prefix.HasValue;
    /// <summary>The prefix's PASID, or 0 without a prefix.</summary>
    public Pasid PasidOrZero => Prefix?.Pasid ?? default;
    /// <summary>The prefix's Execute Requested bit; false without a prefix.</summary>
    public bool ExecuteRequested => Prefix?.ExecuteRequested ?? false;
    /// <summary>The prefix's Privileged Mode Requested bit; false without a prefix.</summary>
    public bool PrivilegedModeRequested => Prefix?.PrivilegedMode ?? false;

    /// <summary>A Stop Marker for <paramref name="pasid"/> (§3.2): L = 1, R = W = 0, page address 0.</summary>
    public static PageRequest StopMarker(RequesterId requester, Pasid pasid, PrgIndex index) =>
        new(requester, false, false, true, index, 0, new PasidPrefix(pasid, false, false));

    /// <summary>The 8-byte payload, copied verbatim by every IOMMU into its queue record.</summary>
    public ulong Payload =>
        (Read ? 1UL : 0) | (Write ? 2UL : 0) | (Last ? 4UL : 0) | ((ulong)Index.Value << 3) | (PageAddress & PageMask);

    /// <summary>Decodes the 8-byte payload (R bit 0, W bit 1, L bit 2, PRG index 11:3, page address 63:12): the inverse of <see cref="Payload"/>.</summary>
    public static PageRequest FromPayload(RequesterId requester, ulong payload, PasidPrefix? prefix) =>
        new(requester, (payload & 1) != 0, (payload & 2) != 0, (payload & 4) != 0,
            new PrgIndex((ushort)((payload >> 3) & PrgIndex.Mask)), payload & PageMask, prefix);

    /// <inheritdoc />
    public override string ToString() =>
        $"PageRequest {Requester} {(Read ? 'r' : '-')}{(Write ? 'w' : '-')}{(Last ? 'l' : '-')} index={Index} addr=0x{PageAddress:x}{(Prefix is { } p ? " " + p : "")}";
}
