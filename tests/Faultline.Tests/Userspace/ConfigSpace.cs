using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Userspace;

/// <summary>A function's config space with no capability at all, a VF when given its PF: what R41's VF check reads.</summary>
internal sealed class ConfigSpace(RequesterId requester, IPciConfigSpace? physical) : IPciConfigSpace
{
    public RequesterId Requester { get; } = requester;
    public IPciConfigSpace? PhysicalFunction { get; } = physical;
    public bool HasCapability(ushort capabilityId) => false;
    public uint ReadConfig(ushort capabilityId, int offset) => 0;
    public ConfigWriteEffect WriteConfig(ushort capabilityId, int offset, uint value, long now) => default;
}
