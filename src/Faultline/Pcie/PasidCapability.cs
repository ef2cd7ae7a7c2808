namespace Faultline.Pcie;

/// <summary>The PASID extended capability (id 0x001B, pcie.md §2).</summary>
public sealed class PasidCapability(bool executeSupported, bool privilegedSupported, int maxWidth = Pasid.MaxWidth)
{
    public const ushort CapabilityId = 0x001B;
    public const int CapabilityOffset = 0x04;
    public const int ControlOffset = 0x06;

    public bool ExecuteSupported { get; } = executeSupported;
    public bool PrivilegedSupported { get; } = privilegedSupported;
    public int MaxWidth { get; } = maxWidth is >= 1 and <= Pasid.MaxWidth ? maxWidth : throw new ArgumentOutOfRangeException(nameof(maxWidth));

    public bool Enabled { get; private set; }
    public bool ExecuteEnabled { get; private set; }
    public bool PrivilegedEnabled { get; private set; }

    public uint Read(int offset) => offset switch
    {
        CapabilityOffset => (ExecuteSupported ? 1u << 1 : 0) | (PrivilegedSupported ? 1u << 2 : 0) | ((uint)MaxWidth << 8),
        ControlOffset => (Enabled ? 1u : 0) | (ExecuteEnabled ? 1u << 1 : 0) | (PrivilegedEnabled ? 1u << 2 : 0),
        _ => throw new ArgumentOutOfRangeException(nameof(offset), offset, "not a PASID capability register"),
    };

    /// <summary>Writes the control register; <paramref name="atsEnabled"/> checks H-PCI-16 (PASID before ATS).</summary>
    public ConfigWriteEffect Write(int offset, uint value, bool atsEnabled)
    {
        if (offset == CapabilityOffset) return ConfigWriteEffect.None; // read-only
        if (offset != ControlOffset) throw new ArgumentOutOfRangeException(nameof(offset), offset, "not a PASID capability register");
        bool enable = (value & 1) != 0;
        var effect = ConfigWriteEffect.None;
        if (enable && !Enabled)
        {
            effect |= ConfigWriteEffect.Enabled;
            if (atsEnabled) effect |= ConfigWriteEffect.ProtocolViolation; // H-PCI-16: undefined after ATS
        }
        else if (!enable && Enabled)
        {
            effect |= ConfigWriteEffect.Disabled;
        }
        Enabled = enable;
        ExecuteEnabled = ExecuteSupported && (value & 2) != 0;
        PrivilegedEnabled = PrivilegedSupported && (value & 4) != 0;
        return effect;
    }
}
