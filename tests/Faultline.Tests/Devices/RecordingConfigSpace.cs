using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>Passes configuration accesses to a function and records every write, in order, with its effect.</summary>
public sealed class RecordingConfigSpace(IPciConfigSpace inner) : IPciConfigSpace
{
    public List<(ushort CapabilityId, int Offset, uint Value)> Writes { get; } = [];
    public List<ConfigWriteEffect> Effects { get; } = [];

    public RequesterId Requester => inner.Requester;

    public bool HasCapability(ushort capabilityId) => inner.HasCapability(capabilityId);

    public uint ReadConfig(ushort capabilityId, int offset) => inner.ReadConfig(capabilityId, offset);

    public ConfigWriteEffect WriteConfig(ushort capabilityId, int offset, uint value, long now)
    {
        Writes.Add((capabilityId, offset, value));
        var effect = inner.WriteConfig(capabilityId, offset, value, now);
        Effects.Add(effect);
        return effect;
    }
}
