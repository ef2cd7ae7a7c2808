namespace Faultline.Pcie;

/// <summary>What a configuration write did, for the function that owns the capability to act on.</summary>
[Flags]
public enum ConfigWriteEffect
{
    /// <summary>The write changed nothing the function must act on.</summary>
    None = 0,
    /// <summary>H-PCI-12: PRI credits and all pending-request state must be forgotten.</summary>
    Reset = 1,
    /// <summary>The write set an Enable bit that was clear.</summary>
    Enabled = 2,
    /// <summary>The write cleared an Enable bit that was set.</summary>
    Disabled = 4,
    /// <summary>Software broke an enable rule (H-PCI-13, H-PCI-14, H-PCI-16); the simulator flags it.</summary>
    ProtocolViolation = 8,
}

/// <summary>
/// The PRI extended capability (id 0x0013, 16 bytes) of a PCIe function, with the credit counter
/// it governs (pcie.md §2, H-PCI-1, H-PCI-9..14). Offsets are relative to the capability header.
/// </summary>
public sealed class PriCapability
{
    /// <summary>PRI (Page Request) Extended Capability ID.</summary>
    public const ushort CapabilityId = 0x0013;
    /// <summary>Offset of the Page Request Control register.</summary>
    public const int ControlOffset = 0x04;
    /// <summary>Offset of the Page Request Status register.</summary>
    public const int StatusOffset = 0x06;
    /// <summary>Offset of the Outstanding Page Request Capacity register.</summary>
    public const int CapacityOffset = 0x08;
    /// <summary>Offset of the Outstanding Page Request Allocation register.</summary>
    public const int AllocationOffset = 0x0C;

    /// <summary>Page Request Control: Enable (bit 0).</summary>
    public const ushort ControlEnable = 1 << 0;
    /// <summary>Page Request Control: Reset (bit 1, always reads 0).</summary>
    public const ushort ControlReset = 1 << 1;
    /// <summary>Page Request Status: Response Failure (RF, bit 0, RW1C).</summary>
    public const ushort StatusResponseFailure = 1 << 0;
    /// <summary>Page Request Status: Unexpected Page Request Group Index (UPRGI, bit 1, RW1C).</summary>
    public const ushort StatusUnexpectedPrgIndex = 1 << 1;
    /// <summary>Page Request Status: Stopped (bit 8, read-only).</summary>
    public const ushort StatusStopped = 1 << 8;
    /// <summary>Page Request Status: PRG Response PASID Required (bit 15, read-only).</summary>
    public const ushort StatusPrgResponsePasidRequired = 1 << 15;

    /// <summary>A disabled capability with no allocation, its Capacity and PRG Response PASID Required fixed.</summary>
    public PriCapability(uint capacity, bool prgResponsePasidRequired)
    {
        Capacity = capacity;
        PrgResponsePasidRequired = prgResponsePasidRequired;
    }

    /// <summary>Outstanding Page Request Capacity: the most page requests the function can have outstanding.</summary>
    public uint Capacity { get; }
    /// <summary>PRG Response PASID Required: a response to requests that carried a PASID must carry it too.</summary>
    public bool PrgResponsePasidRequired { get; }
    /// <summary>Page Request Control: Enable.</summary>
    public bool Enabled { get; private set; }
    /// <summary>Outstanding Page Request Allocation: the credits software granted (H-PCI-1).</summary>
    public uint Allocation { get; private set; }
    /// <summary>Status RF: a Response Failure stopped page requests until software clears it or re-enables PRI (H-PCI-9).</summary>
    public bool ResponseFailure { get; private set; }
    /// <summary>Status UPRGI: a PRG Response named an index with no outstanding group (H-PCI-10).</summary>
    public bool UnexpectedPrgIndex { get; private set; }

    /// <summary>Page requests sent and not yet released by a PRG Response (the credits in use).</summary>
    public uint Outstanding { get; private set; }

    /// <summary>H-PCI-11: reads 1 only while disabled with nothing outstanding; Linux masks it while enabled.</summary>
    public bool Stopped => !Enabled && Outstanding == 0;

    /// <summary>H-PCI-1, H-PCI-4, H-PCI-9: a new page request may be sent only with a free credit.</summary>
    public bool CanSendRequest => Enabled && !ResponseFailure && Outstanding < Allocation;

    /// <summary>Credits of the allocation not held by outstanding requests.</summary>
    public uint FreeCredits => Allocation > Outstanding ? Allocation - Outstanding : 0;

    /// <summary>The Page Request Control register as software reads it.</summary>
    public ushort Control => Enabled ? ControlEnable : (ushort)0; // Reset always reads 0 (H-PCI-12).

    /// <summary>The Page Request Status register as software reads it.</summary>
    public ushort Status =>
        (ushort)((ResponseFailure ? StatusResponseFailure : 0)
               | (UnexpectedPrgIndex ? StatusUnexpectedPrgIndex : 0)
               | (Stopped ? StatusStopped : 0)
               | (PrgResponsePasidRequired ? StatusPrgResponsePasidRequired : 0));

    /// <summary>Reads the register at <paramref name="offset"/>.</summary>
    public uint Read(int offset) => offset switch
    {
        ControlOffset => Control,
        StatusOffset => Status,
        CapacityOffset => Capacity,
        AllocationOffset => Allocation,
        _ => throw new ArgumentOutOfRangeException(nameof(offset), offset, "not a PRI capability register"),
    };

    /// <summary>Writes the register at <paramref name="offset"/> (Control, RW1C Status bits, Allocation; Capacity is read-only) and returns what the write did.</summary>
    public ConfigWriteEffect Write(int offset, uint value) => offset switch
    {
        ControlOffset => WriteControl((ushort)value),
        StatusOffset => WriteStatus((ushort)value),
        CapacityOffset => ConfigWriteEffect.None, // read-only
        AllocationOffset => WriteAllocation(value),
        _ => throw new ArgumentOutOfRangeException(nameof(offset), offset, "not a PRI capability register"),
    };

    private ConfigWriteEffect WriteControl(ushort value)
    {
        bool enable = (value & ControlEnable) != 0;
        bool reset = (value & ControlReset) != 0;
        var effect = ConfigWriteEffect.None;

        if (Enabled && !enable)
        {
            // H-PCI-11: requests already sent stay outstanding and may still be answered.
            Enabled = false;
            effect |= ConfigWriteEffect.Disabled;
        }

        if (reset && !Enabled)
        {
            // H-PCI-12: reset acts only while disabled (or in the write that disables).
            Outstanding = 0;
            effect |= ConfigWriteEffect.Reset;
        }

        if (!Enabled && enable)
        {
            // H-PCI-13: enabling a function that is not Stopped is undefined; flag it.
            if (!Stopped) effect |= ConfigWriteEffect.ProtocolViolation;
            Enabled = true;
            ResponseFailure = false;
            UnexpectedPrgIndex = false;
            effect |= ConfigWriteEffect.Enabled;
        }

        return effect;
    }

    private ConfigWriteEffect WriteStatus(ushort value)
    {
        // RF and UPRGI are RW1C; Stopped and PRG Response PASID Required are read-only.
        if ((value & StatusResponseFailure) != 0) ResponseFailure = false;
        if ((value & StatusUnexpectedPrgIndex) != 0) UnexpectedPrgIndex = false;
        return ConfigWriteEffect.None;
    }

    private ConfigWriteEffect WriteAllocation(uint value)
    {
        // H-PCI-14: software writes Allocation only while disabled.
        if (Enabled) return ConfigWriteEffect.ProtocolViolation;
        Allocation = value;
        return ConfigWriteEffect.None;
    }

    internal void ConsumeCredit() => Outstanding++;

    internal void ReturnCredits(uint count) => Outstanding -= Math.Min(count, Outstanding);

    internal void RaiseUnexpectedPrgIndex() => UnexpectedPrgIndex = true;

    internal void RaiseResponseFailure() => ResponseFailure = true;
}
