using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// The 32-byte VT-d Device-TLB Invalidate Descriptor (invalidation queue type 3): the device-TLB
/// invalidation of requests without a PASID, which R33 uses when it drains the RID (PASID 0). QW0:
/// type 3:0 = 3, PFSID[3:0] 15:12, max invalidations pending 20:16, source id 47:32, PFSID[15:4]
/// 63:52. QW1: size S 0, address 63:12. QW2–QW3: reserved.
/// <para>
/// Sources. Linux drivers/iommu/intel/iommu.h (torvalds/linux): <c>QI_DIOTLB_TYPE</c> 0x3,
/// <c>QI_DEV_IOTLB_SID(sid)</c> = (sid &amp; 0xffff) &lt;&lt; 32, <c>QI_DEV_IOTLB_QDEP(q)</c> = (q &amp; 0x1f) &lt;&lt; 16,
/// <c>QI_DEV_IOTLB_ADDR</c>, <c>QI_DEV_IOTLB_SIZE</c> = 1, <c>QI_DEV_IOTLB_PFSID</c> (see
/// <see cref="DeviceTlbRange"/>); the range encoding of <c>qi_desc_dev_iotlb</c>. Reserved: QEMU
/// <c>VTD_INV_DESC_DEVICE_IOTLB_RSVD_HI</c> = 0x7fe (QW1 11:1); QEMU also marks the PFSID bits reserved,
/// which Linux writes, so as for type 8 the field wins.
/// </para>
/// </summary>
public readonly record struct DeviceTlbInvalidationDescriptor(
    RequesterId SourceId,
    RequesterId PhysicalFunctionSourceId,
    byte MaxInvalidationsPending,
    bool SizeBit,
    ulong Address)
{
    /// <summary>32 bytes: a scalable-mode (256-bit) descriptor.</summary>
    public const int Size = InvalidationDescriptor.Size;
    /// <summary>Descriptor type 3, QW0 3:0 (Linux <c>QI_DIOTLB_TYPE</c>).</summary>
    public const byte Type = 0x3;

    private const ulong Qw0Reserved = (0xFFUL << 4) & ~(0x7UL << 9) | (0x7FFUL << 21) | (0xFUL << 48);
    private const ulong Qw1Reserved = 0xFFEUL;

    /// <summary>The range invalidated, 2^SizeOrder pages, from S and the address encoding (<see cref="DeviceTlbRange.SizeOrder"/>).</summary>
    public int SizeOrder => DeviceTlbRange.SizeOrder(Address, SizeBit);

    /// <summary>Linux <c>qi_desc_dev_iotlb(sid, pfsid, qdep, addr, mask)</c>: 2^<paramref name="sizeOrder"/> pages.</summary>
    public static DeviceTlbInvalidationDescriptor ForRange(RequesterId sourceId, RequesterId physicalFunctionSourceId,
        byte maxInvalidationsPending, ulong address, int sizeOrder) =>
        new(sourceId, physicalFunctionSourceId, (byte)(maxInvalidationsPending & 0x1F), sizeOrder > 0,
            DeviceTlbRange.EncodeAddress(address, sizeOrder));

    /// <summary>Writes the 32 bytes, QW0 first, little-endian; reserved bits, QW2 and QW3 as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong qw0 = Type
            | DeviceTlbRange.EncodePfsid(PhysicalFunctionSourceId)
            | ((ulong)(MaxInvalidationsPending & 0x1F) << 16)
            | ((ulong)SourceId.Value << 32);
        ulong qw1 = (SizeBit ? 1UL : 0) | (Address & ~0xFFFUL);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], qw1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], 0);
    }

    /// <summary>Reads exactly 32 bytes; fails on length, type, or a reserved bit set in any QW.</summary>
    public static DecodeResult<DeviceTlbInvalidationDescriptor> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<DeviceTlbInvalidationDescriptor>.Fail("length", $"{bytes.Length} bytes, a device-TLB invalidation descriptor is {Size}");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        if (InvalidationDescriptor.TypeError(qw0, Type, "a device-TLB invalidation") is { } typeError)
            return DecodeResult<DeviceTlbInvalidationDescriptor>.Fail(typeError.Field, typeError.Message);
        if ((qw0 & Qw0Reserved) != 0 || (qw1 & Qw1Reserved) != 0)
            return DecodeResult<DeviceTlbInvalidationDescriptor>.Fail("reserved", $"QW0 bits 8:4, 31:21, 51:48 and QW1 bits 11:1 must be 0 (QW0 0x{qw0:x16}, QW1 0x{qw1:x16})");
        if (InvalidationDescriptor.UpperHalfError(bytes) is { } upper)
            return DecodeResult<DeviceTlbInvalidationDescriptor>.Fail(upper.Field, upper.Message);
        return new DeviceTlbInvalidationDescriptor(new RequesterId((ushort)(qw0 >> 32)), DeviceTlbRange.DecodePfsid(qw0),
            (byte)((qw0 >> 16) & 0x1F), (qw1 & 1) != 0, qw1 & ~0xFFFUL);
    }
}
