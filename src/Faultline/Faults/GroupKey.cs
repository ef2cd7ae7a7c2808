namespace Faultline.Faults;

/// <summary>
/// What joins partial faults to their last fault (POL-2), packed into one word so the per-device
/// lookup hashes a single integer: bit 63 PASID present, bits 51:32 PASID, bits 31:0 group id.
/// Under <see cref="GroupKeyPolicy.PrgIndexOnly"/> the PASID bits are zero, so requests of two
/// PASIDs with one index merge exactly as R14 does.
/// </summary>
internal readonly record struct GroupKey(ulong Value)
{
    public static GroupKey Of(in Fault fault, GroupKeyPolicy policy) =>
        policy == GroupKeyPolicy.PrgIndexOnly || !fault.HasPasid
            ? new GroupKey(fault.GroupId)
            : new GroupKey((1UL << 63) | ((ulong)(fault.Pasid & Pcie.Pasid.Mask) << 32) | fault.GroupId);

    public uint GroupId => (uint)Value;
    public bool PasidValid => (Value >> 63) != 0;
    public uint Pasid => (uint)(Value >> 32) & Pcie.Pasid.Mask;
}
