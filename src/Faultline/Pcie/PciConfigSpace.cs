namespace Faultline.Pcie;

/// <summary>A function's configuration space, as host software reaches it: capability registers by id and offset.</summary>
public interface IPciConfigSpace
{
    /// <summary>The function's requester id (bus, device, function), which routes its PRG Responses.</summary>
    RequesterId Requester { get; }
    /// <summary>Whether the function has the extended capability <paramref name="capabilityId"/>.</summary>
    bool HasCapability(ushort capabilityId);
    /// <summary>Reads the register at <paramref name="offset"/> of capability <paramref name="capabilityId"/>.</summary>
    uint ReadConfig(ushort capabilityId, int offset);
    /// <summary>Writes the register at <paramref name="offset"/> of capability <paramref name="capabilityId"/> and returns what the write did.</summary>
    ConfigWriteEffect WriteConfig(ushort capabilityId, int offset, uint value, long now);

    /// <summary>For an SR-IOV virtual function, its physical function (<c>pdev->physfn</c>); null for a PF.</summary>
    IPciConfigSpace? PhysicalFunction => null;
}
