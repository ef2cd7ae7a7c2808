namespace Faultline.Pcie;

/// <summary>A function's configuration space, as host software reaches it: capability registers by id and offset.</summary>
public interface IPciConfigSpace
{
    RequesterId Requester { get; }
    bool HasCapability(ushort capabilityId);
    uint ReadConfig(ushort capabilityId, int offset);
    ConfigWriteEffect WriteConfig(ushort capabilityId, int offset, uint value, long now);

    /// <summary>For an SR-IOV virtual function, its physical function (<c>pdev->physfn</c>); null for a PF.</summary>
    IPciConfigSpace? PhysicalFunction => null;
}
