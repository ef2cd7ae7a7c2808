namespace Faultline.Pcie;

/// <summary>
/// The optional PASID TLP prefix of a request: PASID with Execute Requested and Privileged Mode
/// Requested. Without a prefix the IOMMU reports Exe/Priv as 0 (pcie.md §3.1).
/// </summary>
public readonly record struct PasidPrefix(Pasid Pasid, bool ExecuteRequested, bool PrivilegedMode)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"pasid={Pasid}{(ExecuteRequested ? " x" : "")}{(PrivilegedMode ? " p" : "")}";
}
