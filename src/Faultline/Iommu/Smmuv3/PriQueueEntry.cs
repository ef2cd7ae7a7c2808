using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Smmuv3;

/// <summary>
/// The 16-byte SMMUv3 PRI queue entry the SMMU writes for each PCIe Page Request (smmuv3.md §2,
/// H-SMMU-2). DW0: StreamID 31:0, SubstreamID (PASID) 51:32, privileged 58, execute 59, read 60,
/// write 61, PRG_LAST 62, SSV 63. DW1: PRG index 8:0, page address 63:12.
/// <para>
/// Sources. Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (torvalds/linux): <c>PRIQ_ENT_SZ_SHIFT</c> 4,
/// <c>PRIQ_0_SID</c> = GENMASK_ULL(31, 0), <c>PRIQ_0_SSID</c> = GENMASK_ULL(51, 32),
/// <c>PRIQ_0_PERM_PRIV</c> = 1 &lt;&lt; 58, <c>PRIQ_0_PERM_EXEC</c> = 1 &lt;&lt; 59, <c>PRIQ_0_PERM_READ</c> = 1 &lt;&lt; 60,
/// <c>PRIQ_0_PERM_WRITE</c> = 1 &lt;&lt; 61, <c>PRIQ_0_PRG_LAST</c> = 1 &lt;&lt; 62, <c>PRIQ_0_SSID_V</c> = 1 &lt;&lt; 63,
/// <c>PRIQ_1_PRG_IDX</c> = GENMASK_ULL(8, 0), <c>PRIQ_1_ADDR_MASK</c> = GENMASK_ULL(63, 12); read back by
/// <c>arm_smmu_handle_ppr</c> in arm-smmu-v3.c (R38). QEMU has no PRI queue (smmuv3.md §9), so it
/// defines no PRIQ layout. Neither source names reserved bits (DW0 57:52, DW1 11:9): decode ignores
/// them and encode writes them as 0.
/// </para>
/// </summary>
public readonly record struct PriQueueEntry(
    uint StreamId,
    bool SubstreamValid,
    Pasid SubstreamId,
    bool Privileged,
    bool Execute,
    bool Read,
    bool Write,
    bool Last,
    PrgIndex Index,
    ulong PageAddress)
{
    /// <summary>16 bytes (Linux <c>PRIQ_ENT_SZ_SHIFT</c> 4).</summary>
    public const int Size = 16;

    /// <summary>DW0 51:32: SubstreamID, the request's PASID (<c>PRIQ_0_SSID</c>).</summary>
    public const int SubstreamIdShift = 32;
    /// <summary>DW0 bit 58: privileged mode requested (<c>PRIQ_0_PERM_PRIV</c>).</summary>
    public const ulong PrivilegedBit = 1UL << 58;
    /// <summary>DW0 bit 59: execute requested (<c>PRIQ_0_PERM_EXEC</c>).</summary>
    public const ulong ExecuteBit = 1UL << 59;
    /// <summary>DW0 bit 60: read access requested (<c>PRIQ_0_PERM_READ</c>).</summary>
    public const ulong ReadBit = 1UL << 60;
    /// <summary>DW0 bit 61: write access requested (<c>PRIQ_0_PERM_WRITE</c>).</summary>
    public const ulong WriteBit = 1UL << 61;
    /// <summary>DW0 bit 62: last request of the PRG (<c>PRIQ_0_PRG_LAST</c>).</summary>
    public const ulong LastBit = 1UL << 62;
    /// <summary>DW0 bit 63: SubstreamID valid, the request had a PASID prefix (<c>PRIQ_0_SSID_V</c>).</summary>
    public const ulong SubstreamValidBit = 1UL << 63;
    /// <summary>DW1 63:12: the page address (<c>PRIQ_1_ADDR_MASK</c>).</summary>
    public const ulong PageAddressMask = ~0xFFFUL;

    /// <summary>The bits of DW0 and DW1 that carry a field; the rest are written as 0 and ignored on decode.</summary>
    public const ulong Dw0Fields = 0xFFFF_FFFFUL | ((ulong)Pasid.Mask << SubstreamIdShift) | (0x3FUL << 58);
    /// <summary>DW1's fields: PRG index 8:0 and the page address 63:12.</summary>
    public const ulong Dw1Fields = PrgIndex.Mask | PageAddressMask;

    /// <summary>H-PCI-20: PRG_LAST with neither read nor write is a Stop Marker.</summary>
    public bool IsStopMarker => Last && !Read && !Write;

    /// <summary>What the SMMU writes for a Page Request from stream <paramref name="streamId"/> (payload copied verbatim).</summary>
    public static PriQueueEntry From(in PageRequest request, uint streamId) => new(
        streamId,
        request.PasidPresent,
        request.PasidOrZero,
        request.PrivilegedModeRequested,
        request.ExecuteRequested,
        request.Read,
        request.Write,
        request.Last,
        request.Index,
        request.PageAddress & PageRequest.PageMask);

    /// <summary>Writes the 16 bytes, DW0 first, little-endian; bits outside the fields as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong dw0 = StreamId
            | ((ulong)(SubstreamId.Value & Pasid.Mask) << SubstreamIdShift)
            | (Privileged ? PrivilegedBit : 0)
            | (Execute ? ExecuteBit : 0)
            | (Read ? ReadBit : 0)
            | (Write ? WriteBit : 0)
            | (Last ? LastBit : 0)
            | (SubstreamValid ? SubstreamValidBit : 0);
        ulong dw1 = ((ulong)Index.Value & PrgIndex.Mask) | (PageAddress & PageAddressMask);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, dw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], dw1);
    }

    /// <summary>Reads exactly 16 bytes; fails only on length, bits outside the fields are ignored.</summary>
    public static DecodeResult<PriQueueEntry> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<PriQueueEntry>.Fail("length", $"{bytes.Length} bytes, a PRI queue entry is {Size}");
        ulong dw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong dw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        return new PriQueueEntry(
            (uint)dw0,
            (dw0 & SubstreamValidBit) != 0,
            new Pasid((uint)(dw0 >> SubstreamIdShift) & Pasid.Mask),
            (dw0 & PrivilegedBit) != 0,
            (dw0 & ExecuteBit) != 0,
            (dw0 & ReadBit) != 0,
            (dw0 & WriteBit) != 0,
            (dw0 & LastBit) != 0,
            new PrgIndex((ushort)(dw1 & PrgIndex.Mask)),
            dw1 & PageAddressMask);
    }
}
