namespace Faultline.Pcie;

/// <summary>The PASID extended capability (id 0x001B, pcie.md §2).</summary>
public sealed class PasidCapability(bool executeSupported, bool privilegedSupported, int maxWidth = Pasid.MaxWidth)
{
    /// <summary>PASID Extended Capability ID.</summary>
    public const ushort CapabilityId = 0x001B;
    /// <summary>Offset of the PASID Capability register (Execute Permission Supported, Privileged Mode Supported, Max PASID Width).</summary>
    public const int CapabilityOffset = 0x04;
    /// <summary>Offset of the PASID Control register (PASID Enable, Execute Permission Enable, Privileged Mode Enable).</summary>
    public const int ControlOffset = 0x06;

    /// <summary>PASID Capability: Execute Permission Supported (bit 1).</summary>
    public bool ExecuteSupported { get; } = executeSupported;
    /// <summary>PASID Capability: Privileged Mode Supported (bit 2).</summary>
    public bool PrivilegedSupported { get; } = privilegedSupported;
    /// <summary>PASID Capability: Max PASID Width (bits 12:8).</summary>
    public int MaxWidth { get; } = maxWidth is >= 1 and <= Pasid.MaxWidth ? maxWidth : throw new ArgumentOutOfRangeException(nameof(maxWidth));

    /// <summary>PASID Control: PASID Enable (bit 0).</summary>
    public bool Enabled { get; private set; }
    /// <summary>PASID Control: Execute Permission Enable (bit 1); stays clear unless supported.</summary>
    public bool ExecuteEnabled { get; private set; }
    /// <summary>PASID Control: Privileged Mode Enable (bit 2); stays clear unless supported.</summary>
    public bool PrivilegedEnabled { get; private set; }

    /// <summary>Reads the PASID Capability or Control register at <paramref name="offset"/>.</summary>
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
