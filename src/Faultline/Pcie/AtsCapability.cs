namespace Faultline.Pcie;

/// <summary>The ATS extended capability (id 0x000F, pcie.md §2).</summary>
public sealed class AtsCapability(int invalidateQueueDepth = 32, bool pageAlignedRequest = true)
{
    public const ushort CapabilityId = 0x000F;
    public const int CapabilityOffset = 0x04;
    public const int ControlOffset = 0x06;
    public const ushort ControlEnable = 1 << 15;

    /// <summary>Invalidate Queue Depth; the field's 0 encodes 32.</summary>
    public int InvalidateQueueDepth { get; } = invalidateQueueDepth is >= 1 and <= 32 ? invalidateQueueDepth : throw new ArgumentOutOfRangeException(nameof(invalidateQueueDepth));

    /// <summary>H-PCI-17: untranslated addresses in requests have their low 12 bits clear.</summary>
    public bool PageAlignedRequest { get; } = pageAlignedRequest;

    public bool Enabled { get; private set; }

    /// <summary>Smallest Translation Unit: 2^STU × 4 KiB.</summary>
    public int SmallestTranslationUnit { get; private set; }

    public uint Read(int offset) => offset switch
    {
        CapabilityOffset => (uint)(InvalidateQueueDepth & 0x1F) | (PageAlignedRequest ? 1u << 5 : 0),
        ControlOffset => (uint)SmallestTranslationUnit | (Enabled ? ControlEnable : 0u),
        _ => throw new ArgumentOutOfRangeException(nameof(offset), offset, "not an ATS capability register"),
    };

    public ConfigWriteEffect Write(int offset, uint value)
    {
        if (offset == CapabilityOffset) return ConfigWriteEffect.None; // read-only
        if (offset != ControlOffset) throw new ArgumentOutOfRangeException(nameof(offset), offset, "not an ATS capability register");
        bool enable = (value & ControlEnable) != 0;
        var effect = enable == Enabled ? ConfigWriteEffect.None : enable ? ConfigWriteEffect.Enabled : ConfigWriteEffect.Disabled;
        Enabled = enable;
        SmallestTranslationUnit = (int)(value & 0x1F);
        return effect;
    }
}
