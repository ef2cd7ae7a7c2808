using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// The 32-byte VT-d PASID-based IOTLB Invalidate Descriptor (invalidation queue type 6), step 2 of
/// the drain (vtd.md §7). QW0: type 3:0 = 6, granularity 5:4, type-high 11:9 = 0, domain id 31:16,
/// PASID 51:32. QW1: address mask AM 5:0, invalidation hint IH 6, address 63:12. QW2–QW3: reserved.
/// Reserved in QW0: bits 8:6, 15:12, 63:52; in QW1: bits 11:7.
/// <para>
/// Sources. Field positions: Linux drivers/iommu/intel/iommu.h (torvalds/linux) <c>QI_EIOTLB_TYPE</c>
/// 0x6, <c>QI_EIOTLB_GRAN(gran)</c> = gran &lt;&lt; 4, <c>QI_EIOTLB_DID(did)</c> = did &lt;&lt; 16,
/// <c>QI_EIOTLB_PASID(pasid)</c> = pasid &lt;&lt; 32, <c>QI_EIOTLB_AM(am)</c> = am &amp; 0x3f,
/// <c>QI_EIOTLB_IH(ih)</c> = ih &lt;&lt; 6, <c>QI_EIOTLB_ADDR(addr)</c> = addr &amp; VTD_PAGE_MASK;
/// <c>QI_GRAN_NONG_PASID</c> 2, <c>QI_GRAN_PSI_PASID</c> 3; <c>qi_desc_piotlb_all</c> (QW1 = 0) and
/// <c>qi_desc_piotlb</c>. Reserved masks: QEMU hw/i386/intel_iommu_internal.h
/// <c>VTD_INV_DESC_PIOTLB_RSVD_VAL0</c> = 0xfff000000000f1c0, <c>VTD_INV_DESC_PIOTLB_RSVD_VAL1</c> = 0xf80,
/// QW2/QW3 all ones in <c>vtd_process_piotlb_desc</c>; field extractors <c>VTD_INV_DESC_PIOTLB_DID</c>
/// (&gt;&gt; 16), <c>_PASID</c> (&gt;&gt; 32, 20 bits), <c>_AM</c> (&amp; 0x3f), <c>_IH</c> (&gt;&gt; 6), <c>_ADDR</c>
/// (&amp; ~0xfff) agree with Linux.
/// </para>
/// </summary>
public readonly record struct PasidIotlbInvalidationDescriptor(
    PasidIotlbGranularity Granularity,
    ushort DomainId,
    Pasid Pasid,
    ulong Address = 0,
    byte AddressMask = 0,
    bool InvalidationHint = false)
{
    /// <summary>32 bytes: a scalable-mode (256-bit) descriptor.</summary>
    public const int Size = InvalidationDescriptor.Size;
    /// <summary>Descriptor type 6, QW0 3:0 (Linux <c>QI_EIOTLB_TYPE</c>).</summary>
    public const byte Type = 0x6;
    /// <summary>AM, QW1 5:0: the address mask is 6 bits (<c>QI_EIOTLB_AM(am)</c> = am &amp; 0x3f).</summary>
    public const byte AddressMaskLimit = 0x3F;

    private const ulong PageMask = ~0xFFFUL;
    private const ulong Qw0Reserved = 0xFFF0_0000_0000_F1C0UL;
    private const ulong Qw1Reserved = 0xF80UL;

    /// <summary>Linux <c>qi_desc_piotlb_all</c>: every non-global mapping of the PASID in the domain, QW1 = 0.</summary>
    public static PasidIotlbInvalidationDescriptor AllInPasid(ushort domainId, Pasid pasid) =>
        new(PasidIotlbGranularity.PasidSelective, domainId, pasid);

    /// <summary>
    /// Linux <c>qi_desc_piotlb</c>: 2^<paramref name="sizeOrder"/> pages at <paramref name="address"/>,
    /// which the caller has aligned to that size (Linux's <c>calculate_psi_aligned_address</c>).
    /// </summary>
    public static PasidIotlbInvalidationDescriptor PageSelective(ushort domainId, Pasid pasid, ulong address, byte sizeOrder, bool invalidationHint = false) =>
        new(PasidIotlbGranularity.PageSelectiveWithinPasid, domainId, pasid, address & PageMask, sizeOrder, invalidationHint);

    /// <summary>Writes the 32 bytes little-endian; reserved bits, QW2 and QW3 as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong qw0 = Type
            | ((ulong)((byte)Granularity & 0x3) << 4)
            | ((ulong)DomainId << 16)
            | ((ulong)(Pasid.Value & Pasid.Mask) << 32);
        ulong qw1 = (ulong)(byte)(AddressMask & AddressMaskLimit)
            | (InvalidationHint ? 1UL << 6 : 0)
            | (Address & PageMask);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], qw1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], 0);
    }

    /// <summary>Reads exactly 32 bytes; fails on length, type, a reserved bit set in any QW, or a granularity other than 2 and 3.</summary>
    public static DecodeResult<PasidIotlbInvalidationDescriptor> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<PasidIotlbInvalidationDescriptor>.Fail("length", $"{bytes.Length} bytes, a PASID-based IOTLB invalidation descriptor is {Size}");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        if (InvalidationDescriptor.TypeError(qw0, Type, "a PASID-based IOTLB invalidation") is { } typeError)
            return DecodeResult<PasidIotlbInvalidationDescriptor>.Fail(typeError.Field, typeError.Message);
        if ((qw0 & Qw0Reserved) != 0)
            return DecodeResult<PasidIotlbInvalidationDescriptor>.Fail("reserved", $"QW0 reserved bits 8:6 / 15:12 / 63:52 are 0x{qw0 & Qw0Reserved:x16}, must be 0");
        if ((qw1 & Qw1Reserved) != 0)
            return DecodeResult<PasidIotlbInvalidationDescriptor>.Fail("reserved", $"QW1 reserved bits 11:7 are 0x{qw1 & Qw1Reserved:x16}, must be 0");
        if (InvalidationDescriptor.UpperHalfError(bytes) is { } upper)
            return DecodeResult<PasidIotlbInvalidationDescriptor>.Fail(upper.Field, upper.Message);
        var granularity = (PasidIotlbGranularity)((qw0 >> 4) & 0x3);
        if (granularity is not (PasidIotlbGranularity.PasidSelective or PasidIotlbGranularity.PageSelectiveWithinPasid))
            return DecodeResult<PasidIotlbInvalidationDescriptor>.Fail("granularity", $"QW0[5:4] = {(byte)granularity}; defined are 2 (PASID-selective) and 3 (page-selective-within-PASID)");
        return new PasidIotlbInvalidationDescriptor(
            granularity,
            (ushort)(qw0 >> 16),
            new Pasid((uint)(qw0 >> 32) & Pasid.Mask),
            qw1 & PageMask,
            (byte)(qw1 & AddressMaskLimit),
            (qw1 & (1UL << 6)) != 0);
    }
}
