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
    public const int PageShift = 12;
    public const ulong PageMask = ~((1UL << PageShift) - 1);

    public bool IsStopMarker => Prefix.HasValue && Last && !Read && !Write;

    // The PASID prefix as every IOMMU records it: without one, PASID and Exe/Priv read as 0 (§3.1).
    public bool PasidPresent => Prefix.HasValue;
    public Pasid PasidOrZero => Prefix?.Pasid ?? default;
    public bool ExecuteRequested => Prefix?.ExecuteRequested ?? false;
    public bool PrivilegedModeRequested => Prefix?.PrivilegedMode ?? false;

    public static PageRequest StopMarker(RequesterId requester, Pasid pasid, PrgIndex index) =>
        new(requester, false, false, true, index, 0, new PasidPrefix(pasid, false, false));

    /// <summary>The 8-byte payload, copied verbatim by every IOMMU into its queue record.</summary>
    public ulong Payload =>
        (Read ? 1UL : 0) | (Write ? 2UL : 0) | (Last ? 4UL : 0) | ((ulong)Index.Value << 3) | (PageAddress & PageMask);

    public static PageRequest FromPayload(RequesterId requester, ulong payload, PasidPrefix? prefix) =>
        new(requester, (payload & 1) != 0, (payload & 2) != 0, (payload & 4) != 0,
            new PrgIndex((ushort)((payload >> 3) & PrgIndex.Mask)), payload & PageMask, prefix);

    public override string ToString() =>
        $"PageRequest {Requester} {(Read ? 'r' : '-')}{(Write ? 'w' : '-')}{(Last ? 'l' : '-')} index={Index} addr=0x{PageAddress:x}{(Prefix is { } p ? " " + p : "")}";
}
