namespace Faultline.Pcie;

/// <summary>The ATS extended capability (id 0x000F, pcie.md §2).</summary>
public sealed class AtsCapability(int invalidateQueueDepth = 32, bool pageAlignedRequest = true)
{
    /// <summary>ATS Extended Capability ID.</summary>
    public const ushort CapabilityId = 0x000F;
    /// <summary>Offset of the ATS Capability register (Invalidate Queue Depth, Page Aligned Request).</summary>
    public const int CapabilityOffset = 0x04;
    /// <summary>Offset of the ATS Control register (Smallest Translation Unit, Enable).</summary>
    public const int ControlOffset = 0x06;
    /// <summary>ATS Control: Enable (bit 15).</summary>
    public const ushort ControlEnable = 1 << 15;

    /// <summary>Invalidate Queue Depth; the field's 0 encodes 32.</summary>
    public int InvalidateQueueDepth { get; } = invalidateQueueDepth is >= 1 and <= 32 ? invalidateQueueDepth : throw new ArgumentOutOfRangeException(nameof(invalidateQueueDepth));

    /// <summary>H-PCI-17: untranslated addresses in requests have their low 12 bits clear.</summary>
    public bool PageAlignedRequest { get; } = pageAlignedRequest;

    /// <summary>ATS Control: Enable; without it the function sends no Translation Requests.</summary>
    public bool Enabled { get; private set; }

    /// <summary>Smallest Translation Unit: 2^STU × 4 KiB.</summary>
    public int SmallestTranslationUnit { get; private set; }

    /// <summary>Reads the ATS Capability or Control register at <paramref name="offset"/>.</summary>
    public uint Read(int offset) => offset switch
    {
        CapabilityOffset => (uint)(InvalidateQueueDepth & 0x1F) | (PageAlignedRequest ? 1u << 5 : 0),
        ControlOffset => (uint)SmallestTranslationUnit | (Enabled ? ControlEnable : 0u),
        _ => throw new ArgumentOutOfRangeException(nameof(offset), offset, "not an ATS capability register"),
    };

    /// <summary>Writes the ATS Control register (the Capability register is read-only) and reports whether ATS was enabled or disabled.</summary>
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
