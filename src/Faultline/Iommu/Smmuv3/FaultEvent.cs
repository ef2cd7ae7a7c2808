using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Smmuv3;

/// <summary>
/// The 32-byte SMMUv3 event queue record, read with the layout of the translation-fault events
/// (smmuv3.md §4). DW0: event id 7:0, SSV 11, SubstreamID 31:12, StreamID 63:32. DW1: STAG 15:0,
/// Stall 31, PnU 33, InD 34, RnW 35, S2 39, CLASS 41:40. DW2: input address 63:0. DW3: IPA 51:12.
/// Any event id decodes; <see cref="IsRecoverableFault"/> marks the four ids Linux hands to the
/// fault framework when Stall is set (0x10–0x13, H-SMMU-5, R36).
/// <para>
/// Sources. Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (torvalds/linux): <c>EVTQ_ENT_SZ_SHIFT</c> 5,
/// <c>EVTQ_0_ID</c> = GENMASK_ULL(7, 0), <c>EVT_ID_TRANSLATION_FAULT</c> 0x10, <c>EVT_ID_ADDR_SIZE_FAULT</c> 0x11,
/// <c>EVT_ID_ACCESS_FAULT</c> 0x12, <c>EVT_ID_PERMISSION_FAULT</c> 0x13, <c>EVTQ_0_SSV</c> = 1 &lt;&lt; 11,
/// <c>EVTQ_0_SSID</c> = GENMASK_ULL(31, 12), <c>EVTQ_0_SID</c> = GENMASK_ULL(63, 32),
/// <c>EVTQ_1_STAG</c> = GENMASK_ULL(15, 0), <c>EVTQ_1_STALL</c> = 1 &lt;&lt; 31, <c>EVTQ_1_PnU</c> = 1 &lt;&lt; 33,
/// <c>EVTQ_1_InD</c> = 1 &lt;&lt; 34, <c>EVTQ_1_RnW</c> = 1 &lt;&lt; 35, <c>EVTQ_1_S2</c> = 1 &lt;&lt; 39,
/// <c>EVTQ_1_CLASS</c> = GENMASK_ULL(41, 40), <c>EVTQ_2_ADDR</c> = GENMASK_ULL(63, 0),
/// <c>EVTQ_3_IPA</c> = GENMASK_ULL(51, 12). QEMU hw/arm/smmuv3-internal.h writes the same positions in
/// 32-bit words: <c>EVT_SET_TYPE</c> word[0] 7:0, <c>EVT_SET_SSV</c> word[0] 11, <c>EVT_SET_SSID</c> word[0]
/// 31:12, <c>EVT_SET_SID</c> word[1], <c>EVT_SET_STAG</c> word[2] 15:0, <c>EVT_SET_STALL</c> word[2] 31,
/// <c>EVT_SET_PNU</c> / <c>_IND</c> / <c>_RNW</c> word[3] 1 / 2 / 3, <c>EVT_SET_S2</c> word[3] 7,
/// <c>EVT_SET_CLASS</c> word[3] 9:8, <c>EVT_SET_ADDR</c> words 4–5, <c>EVT_SET_ADDR2</c> words 6–7 (QEMU
/// writes the whole 64-bit IPA there; Linux reads only 51:12). Other bits are laid out per event id
/// (e.g. Linux <c>EVTQ_1_TT_READ</c> bit 44) and no source marks them reserved for every id: decode
/// ignores them and encode writes them as 0.
/// </para>
/// </summary>
public readonly record struct FaultEvent(
    byte EventId,
    uint StreamId,
    bool SubstreamValid,
    Pasid SubstreamId,
    ushort StallTag,
    bool Stall,
    bool PnU,
    bool InD,
    bool RnW,
    bool S2,
    byte Class,
    ulong InputAddress,
    ulong Ipa)
{
    /// <summary>32 bytes (Linux <c>EVTQ_ENT_SZ_SHIFT</c> 5).</summary>
    public const int Size = 32;

    /// <summary>F_TRANSLATION, 0x10: no valid translation for the input address.</summary>
    public const byte TranslationFault = 0x10;
    /// <summary>F_ADDR_SIZE, 0x11: an address beyond the configured address size.</summary>
    public const byte AddressSizeFault = 0x11;
    /// <summary>F_ACCESS, 0x12: an access flag fault.</summary>
    public const byte AccessFault = 0x12;
    /// <summary>F_PERMISSION, 0x13: the translation does not permit the access.</summary>
    public const byte PermissionFault = 0x13;

    /// <summary>DW0 bit 11, SSV: the SubstreamID is valid (<c>EVTQ_0_SSV</c>).</summary>
    public const ulong SubstreamValidBit = 1UL << 11;
    /// <summary>DW0 31:12: SubstreamID (<c>EVTQ_0_SSID</c>).</summary>
    public const int SubstreamIdShift = 12;
    /// <summary>DW0 63:32: StreamID (<c>EVTQ_0_SID</c>).</summary>
    public const int StreamIdShift = 32;
    /// <summary>DW1 bit 31, Stall: the transaction is held until CMD_RESUME names its STAG (<c>EVTQ_1_STALL</c>).</summary>
    public const ulong StallBit = 1UL << 31;
    /// <summary>DW1 bit 33, PnU: 1 for a privileged access (<c>EVTQ_1_PnU</c>).</summary>
    public const ulong PnUBit = 1UL << 33;
    /// <summary>DW1 bit 34, InD: 1 for an instruction fetch, 0 for data (<c>EVTQ_1_InD</c>).</summary>
    public const ulong InDBit = 1UL << 34;
    /// <summary>DW1 bit 35, RnW: 1 for a read, 0 for a write (<c>EVTQ_1_RnW</c>).</summary>
    public const ulong RnWBit = 1UL << 35;
    /// <summary>DW1 bit 39, S2: the fault arose at stage 2 (<c>EVTQ_1_S2</c>).</summary>
    public const ulong S2Bit = 1UL << 39;
    /// <summary>DW1 41:40: CLASS, what the faulting access was for: CD fetch 0, table walk 1, input address 2 (<c>EVTQ_1_CLASS</c>).</summary>
    public const int ClassShift = 40;
    /// <summary>CLASS is 2 bits wide.</summary>
    public const byte ClassMask = 0x3;
    /// <summary>DW3 51:12: the IPA (<c>EVTQ_3_IPA</c>).</summary>
    public const ulong IpaMask = 0x000F_FFFF_FFFF_F000UL;

    /// <summary>The bits of DW0 that carry a field; the rest are written as 0 and ignored on decode.</summary>
    public const ulong Dw0Fields = 0xFFUL | SubstreamValidBit | ((ulong)Pasid.Mask << SubstreamIdShift) | (0xFFFF_FFFFUL << StreamIdShift);
    /// <summary>The bits of DW1 that carry a field; the rest are written as 0 and ignored on decode.</summary>
    public const ulong Dw1Fields = 0xFFFFUL | StallBit | PnUBit | InDBit | RnWBit | S2Bit | ((ulong)ClassMask << ClassShift);

    /// <summary>F_TRANSLATION, F_ADDR_SIZE, F_ACCESS or F_PERMISSION: the events that may stall (H-SMMU-5).</summary>
    public bool IsRecoverableFault => EventId is >= TranslationFault and <= PermissionFault;

    /// <summary>The Arm name of the event id, for the four fault ids; otherwise null.</summary>
    public string? EventName => EventId switch
    {
        TranslationFault => "F_TRANSLATION",
        AddressSizeFault => "F_ADDR_SIZE",
        AccessFault => "F_ACCESS",
        PermissionFault => "F_PERMISSION",
        _ => null,
    };

    /// <summary>Writes the 32 bytes, DW0 first, little-endian; bits outside the fields as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong dw0 = EventId
            | (SubstreamValid ? SubstreamValidBit : 0)
            | ((ulong)(SubstreamId.Value & Pasid.Mask) << SubstreamIdShift)
            | ((ulong)StreamId << StreamIdShift);
        ulong dw1 = StallTag
            | (Stall ? StallBit : 0)
            | (PnU ? PnUBit : 0)
            | (InD ? InDBit : 0)
            | (RnW ? RnWBit : 0)
            | (S2 ? S2Bit : 0)
            | ((ulong)(Class & ClassMask) << ClassShift);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, dw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], dw1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], InputAddress);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], Ipa & IpaMask);
    }

    /// <summary>Reads exactly 32 bytes; fails only on length: any event id decodes, bits outside the fields are ignored.</summary>
    public static DecodeResult<FaultEvent> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<FaultEvent>.Fail("length", $"{bytes.Length} bytes, an event record is {Size}");
        ulong dw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong dw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        return new FaultEvent(
            (byte)dw0,
            (uint)(dw0 >> StreamIdShift),
            (dw0 & SubstreamValidBit) != 0,
            new Pasid((uint)(dw0 >> SubstreamIdShift) & Pasid.Mask),
            (ushort)dw1,
            (dw1 & StallBit) != 0,
            (dw1 & PnUBit) != 0,
            (dw1 & InDBit) != 0,
            (dw1 & RnWBit) != 0,
            (dw1 & S2Bit) != 0,
            (byte)((dw1 >> ClassShift) & ClassMask),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[24..]) & IpaMask);
    }
}
