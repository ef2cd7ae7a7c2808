using System.Buffers.Binary;

namespace Faultline.Iommu.Vtd;

/// <summary>IOTLB invalidation granularity (QW0 5:4).</summary>
public enum IotlbGranularity : byte
{
    /// <summary>1: global, every mapping of every domain (Linux <c>DMA_TLB_GLOBAL_FLUSH</c>).</summary>
    Global = 1,
    /// <summary>2: domain-selective, every mapping of the domain id (<c>DMA_TLB_DSI_FLUSH</c>).</summary>
    DomainSelective = 2,
    /// <summary>3: page-selective within the domain, 2^AM pages from the address (<c>DMA_TLB_PSI_FLUSH</c>).</summary>
    PageSelectiveWithinDomain = 3,
}

/// <summary>
/// The 32-byte VT-d IOTLB Invalidate Descriptor (invalidation queue type 2). R33 uses it,
/// domain-selective, when it drains the RID (PASID 0) rather than a PASID. QW0: type 3:0 = 2,
/// granularity 5:4, drain writes DW 6, drain reads DR 7, domain id 31:16. QW1: address mask 5:0,
/// invalidation hint 6, address 63:12. QW2–QW3: reserved.
/// <para>
/// Sources. Linux drivers/iommu/intel/iommu.h (torvalds/linux): <c>QI_IOTLB_TYPE</c> 0x2,
/// <c>QI_IOTLB_DID(did)</c> = did &lt;&lt; 16, <c>QI_IOTLB_DR(dr)</c> = dr &lt;&lt; 7, <c>QI_IOTLB_DW(dw)</c> =
/// dw &lt;&lt; 6, <c>QI_IOTLB_GRAN(g)</c> = g &gt;&gt; (DMA_TLB_FLUSH_GRANU_OFFSET − 4) (so DMA_TLB_DSI_FLUSH,
/// 2 &lt;&lt; 60, lands as 2 in bits 5:4), <c>QI_IOTLB_ADDR</c>, <c>QI_IOTLB_IH(ih)</c> = ih &lt;&lt; 6,
/// <c>QI_IOTLB_AM(am)</c> = am &amp; 0x3f; <c>qi_desc_iotlb</c>. Reserved masks: QEMU
/// hw/i386/intel_iommu_internal.h <c>VTD_INV_DESC_IOTLB_RSVD_LO</c> = 0xffffffff0000ff00 (bits 11:9 are
/// the type-high bits, checked as the type) and <c>VTD_INV_DESC_IOTLB_RSVD_HI</c> = 0xf80.
/// </para>
/// </summary>
public readonly record struct IotlbInvalidationDescriptor(
    IotlbGranularity Granularity,
    bool DrainReads,
    bool DrainWrites,
    ushort DomainId,
    ulong Address = 0,
    byte AddressMask = 0,
    bool InvalidationHint = false)
{
    /// <summary>32 bytes: a scalable-mode (256-bit) descriptor.</summary>
    public const int Size = InvalidationDescriptor.Size;
    /// <summary>Descriptor type 2, QW0 3:0 (Linux <c>QI_IOTLB_TYPE</c>).</summary>
    public const byte Type = 0x2;

    private const ulong Qw0Reserved = 0xFFFF_FFFF_0000_F100UL;
    private const ulong Qw1Reserved = 0xF80UL;

    /// <summary>Linux <c>qi_desc_iotlb(iommu, did, 0, 0, DMA_TLB_DSI_FLUSH, desc)</c>: every mapping of the domain.</summary>
    public static IotlbInvalidationDescriptor DomainSelective(ushort domainId) =>
        new(IotlbGranularity.DomainSelective, false, false, domainId);

    /// <summary>Writes the 32 bytes little-endian; reserved bits, QW2 and QW3 as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong qw0 = Type
            | ((ulong)((byte)Granularity & 0x3) << 4)
            | (DrainWrites ? 1UL << 6 : 0)
            | (DrainReads ? 1UL << 7 : 0)
            | ((ulong)DomainId << 16);
        ulong qw1 = ((ulong)AddressMask & 0x3F) | (InvalidationHint ? 1UL << 6 : 0) | (Address & ~0xFFFUL);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], qw1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], 0);
    }

    /// <summary>Reads exactly 32 bytes; fails on length, type, a reserved bit set in any QW, or granularity 0.</summary>
    public static DecodeResult<IotlbInvalidationDescriptor> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<IotlbInvalidationDescriptor>.Fail("length", $"{bytes.Length} bytes, an IOTLB invalidation descriptor is {Size}");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        if (InvalidationDescriptor.TypeError(qw0, Type, "an IOTLB invalidation") is { } typeError)
            return DecodeResult<IotlbInvalidationDescriptor>.Fail(typeError.Field, typeError.Message);
        if ((qw0 & Qw0Reserved & ~(0x7UL << 9)) != 0 || (qw1 & Qw1Reserved) != 0)
            return DecodeResult<IotlbInvalidationDescriptor>.Fail("reserved", $"QW0 bits 15:12, 8, 63:32 and QW1 bits 11:7 must be 0 (QW0 0x{qw0:x16}, QW1 0x{qw1:x16})");
        if (InvalidationDescriptor.UpperHalfError(bytes) is { } upper)
            return DecodeResult<IotlbInvalidationDescriptor>.Fail(upper.Field, upper.Message);
        var granularity = (IotlbGranularity)((qw0 >> 4) & 0x3);
        if (granularity == 0)
            return DecodeResult<IotlbInvalidationDescriptor>.Fail("granularity", "QW0[5:4] = 0 is not a granularity (1 global, 2 domain, 3 page)");
        return new IotlbInvalidationDescriptor(granularity, (qw0 & (1UL << 7)) != 0, (qw0 & (1UL << 6)) != 0, (ushort)(qw0 >> 16),
            qw1 & ~0xFFFUL, (byte)(qw1 & 0x3F), (qw1 & (1UL << 6)) != 0);
    }
}
