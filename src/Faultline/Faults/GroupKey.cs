namespace Faultline.Faults;

/// <summary>
/// What joins partial faults to their last fault (POL-2). Under <see cref="GroupKeyPolicy.PrgIndexOnly"/>
/// the PASID fields are zero, so requests of two PASIDs with one index merge exactly as R14 does.
/// </summary>
public readonly record struct GroupKey(uint GroupId, uint Pasid, bool PasidValid)
{
    public static GroupKey Of(in Fault fault, GroupKeyPolicy policy) =>
        policy == GroupKeyPolicy.PrgIndexOnly
            ? new GroupKey(fault.GroupId, 0, false)
            : new GroupKey(fault.GroupId, fault.HasPasid ? fault.Pasid : 0, fault.HasPasid);
}
