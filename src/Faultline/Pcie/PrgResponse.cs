namespace Faultline.Pcie;

/// <summary>
/// A PRG Response message (message code 0x05, routed by id to the destination function,
/// pcie.md §3.3). The PASID prefix is present iff the function requires it and the group's
/// requests carried one.
/// </summary>
public readonly record struct PrgResponse(RequesterId Destination, PrgIndex Index, ResponseCode Code, Pasid? Pasid)
{
    /// <summary>
    /// The response an IOMMU sends on its own account for a request it refused or discarded (H-VTD-1,
    /// H-VTD-5, H-SMMU-3, H-AMD-2): only a last request is answered — a group gets one response — and
    /// never a Stop Marker (H-PCI-20). False when <paramref name="request"/> gets none.
    /// </summary>
    public static bool TryAutoResponse(in PageRequest request, ResponseCode code, out PrgResponse response)
    {
        response = default;
        if (!request.Last || request.IsStopMarker) return false;
        response = new PrgResponse(request.Requester, request.Index, code, request.Prefix?.Pasid);
        return true;
    }

    /// <summary>Upper payload DW as the RISC-V ATS.PRGR command builds it: index 40:32, code 47:44, RID 63:48.</summary>
    public ulong Payload =>
        ((ulong)Index.Value << 32) | ((ulong)((byte)Code & ResponseCodes.FieldMask) << 44) | ((ulong)Destination.Value << 48);

    /// <inheritdoc />
    public override string ToString() =>
        $"PrgResponse {Destination} index={Index} {Code.Name()}{(Pasid is { } p ? $" pasid={p}" : "")}";
}
