using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// The 32-byte VT-d PASID-based Device-TLB Invalidate Descriptor (invalidation queue type 8), step 2
/// of the drain (vtd.md §7): the IOMMU sends an ATS Invalidate Request to the device and the wait
/// after it completes only when the device has answered. QW0: type 3:0 = 8, max invalidations
/// pending (MIP, the ATS invalidate queue depth) 8:4, type-high 11:9 = 0, PFSID[3:0] 15:12, source id
/// (SID = RID) 31:16, PASID 51:32, PFSID[15:4] 63:52. QW1: global G 0, size S 11, address 63:12.
/// QW2–QW3: reserved. Reserved in QW1: bits 10:1.
/// <para>
/// Sources. Field positions: Linux drivers/iommu/intel/iommu.h (torvalds/linux) <c>QI_DEIOTLB_TYPE</c>
/// 0x8, <c>QI_DEV_EIOTLB_QDEP(qd)</c> = (qd &amp; 0x1f) &lt;&lt; 4, <c>QI_DEV_EIOTLB_SID(sid)</c> =
/// (sid &amp; 0xffff) &lt;&lt; 16, <c>QI_DEV_EIOTLB_PASID(p)</c> = (p &amp; 0xfffff) &lt;&lt; 32,
/// <c>QI_DEV_EIOTLB_PFSID(pfsid)</c> (and the identical <c>QI_DEV_IOTLB_PFSID</c> that
/// <c>qi_desc_dev_iotlb_pasid</c> actually uses) = (pfsid &amp; 0xf) &lt;&lt; 12 | ((pfsid &gt;&gt; 4) &amp; 0xfff) &lt;&lt; 52,
/// <c>QI_DEV_EIOTLB_SIZE</c> = 1 &lt;&lt; 11, <c>QI_DEV_EIOTLB_ADDR(a)</c> = a &amp; VTD_PAGE_MASK, and the
/// range encoding of <c>qi_desc_dev_iotlb_pasid</c> (see <see cref="ForRange"/>). Global G = bit 0 from
/// Linux's former <c>QI_DEV_EIOTLB_GLOB(g)</c> = g &amp; 0x1 (since removed; Linux now writes 0) and QEMU
/// <c>VTD_INV_DESC_PASID_DEVICE_IOTLB_GLOBAL(val)</c> = val &amp; 0x1. Reserved masks: QEMU
/// hw/i386/intel_iommu_internal.h <c>VTD_INV_DESC_PASID_DEVICE_IOTLB_RSVD_VAL1</c> = 0x7fe, QW2/QW3 all
/// ones in <c>vtd_process_device_piotlb_desc</c>. QEMU's <c>VTD_INV_DESC_PASID_DEVICE_IOTLB_RSVD_VAL0</c> =
/// 0xfff000000000f000 marks QW0 bits 15:12 and 63:52 reserved, which are exactly Linux's PFSID: the
/// field wins (Linux writes a nonzero PFSID for every device whose RID is 0x10 or more), so nothing in
/// QW0 outside the type is reserved here.
/// </para>
/// </summary>
public readonly record struct PasidDeviceTlbInvalidationDescriptor(
    RequesterId SourceId,
    Pasid Pasid,
    RequesterId PhysicalFunctionSourceId,
    byte MaxInvalidationsPending,
    bool Global,
    bool SizeBit,
    ulong Address)
{
    /// <summary>32 bytes: a scalable-mode (256-bit) descriptor.</summary>
    public const int Size = InvalidationDescriptor.Size;
    /// <summary>Descriptor type 8, QW0 3:0 (Linux <c>QI_DEIOTLB_TYPE</c>).</summary>
    public const byte Type = 0x8;

    /// <summary>MIP is 5 bits; as in the PCIe ATS capability, 0 stands for 32.</summary>
    public const byte MaxInvalidationsPendingMask = 0x1F;

    /// <summary>The size order of "every address" (<see cref="DeviceTlbRange.MaxSizeOrder"/>), what the drain invalidates.</summary>
    public const int MaxSizeOrder = DeviceTlbRange.MaxSizeOrder;

    private const ulong PageMask = ~0xFFFUL;
    private const ulong Qw1Reserved = 0x7FEUL;

    /// <summary>
    /// The range invalidated, as Linux's <c>size_order</c>: 2^SizeOrder pages. S = 0 is one page; with S = 1
    /// the lowest 0 bit of the address at or above bit 12 marks the size (ATS Invalidate Request encoding):
    /// order = 1 + the number of 1 bits below it.
    /// </summary>
    public int SizeOrder => DeviceTlbRange.SizeOrder(Address, SizeBit);

    /// <summary>
    /// Linux <c>qi_desc_dev_iotlb_pasid(sid, pfsid, pasid, qdep, addr, size_order)</c>: 2^<paramref name="sizeOrder"/>
    /// pages at <paramref name="address"/>. For order &gt; 0 the bits 12 … 12+order−2 are set, bit 12+order−1 is
    /// cleared and S is set; the drain uses address 0 with order <see cref="MaxSizeOrder"/> (every address).
    /// </summary>
    public static PasidDeviceTlbInvalidationDescriptor ForRange(RequesterId sourceId, RequesterId physicalFunctionSourceId, Pasid pasid,
        byte maxInvalidationsPending, ulong address, int sizeOrder)
    {
        return new PasidDeviceTlbInvalidationDescriptor(sourceId, pasid, physicalFunctionSourceId,
            (byte)(maxInvalidationsPending & MaxInvalidationsPendingMask), Global: false, SizeBit: sizeOrder > 0,
            DeviceTlbRange.EncodeAddress(address, sizeOrder));
    }

    /// <summary>Writes the 32 bytes little-endian; QW1 10:1, QW2 and QW3 as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong qw0 = Type
            | ((ulong)(MaxInvalidationsPending & MaxInvalidationsPendingMask) << 4)
            | DeviceTlbRange.EncodePfsid(PhysicalFunctionSourceId)
            | ((ulong)SourceId.Value << 16)
            | ((ulong)(Pasid.Value & Pasid.Mask) << 32);
        ulong qw1 = (Global ? 1UL : 0)
            | (SizeBit ? 1UL << 11 : 0)
            | (Address & PageMask);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], qw1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], 0);
    }

    /// <summary>Reads exactly 32 bytes; fails on length, type, or a reserved bit set in QW1 (10:1), QW2 or QW3.</summary>
    public static DecodeResult<PasidDeviceTlbInvalidationDescriptor> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<PasidDeviceTlbInvalidationDescriptor>.Fail("length", $"{bytes.Length} bytes, a PASID-based device-TLB invalidation descriptor is {Size}");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        if (InvalidationDescriptor.TypeError(qw0, Type, "a PASID-based device-TLB invalidation") is { } typeError)
            return DecodeResult<PasidDeviceTlbInvalidationDescriptor>.Fail(typeError.Field, typeError.Message);
        if ((qw1 & Qw1Reserved) != 0)
            return DecodeResult<PasidDeviceTlbInvalidationDescriptor>.Fail("reserved", $"QW1 reserved bits 10:1 are 0x{qw1 & Qw1Reserved:x16}, must be 0");
        if (InvalidationDescriptor.UpperHalfError(bytes) is { } upper)
            return DecodeResult<PasidDeviceTlbInvalidationDescriptor>.Fail(upper.Field, upper.Message);
        return new PasidDeviceTlbInvalidationDescriptor(
            new RequesterId((ushort)(qw0 >> 16)),
            new Pasid((uint)(qw0 >> 32) & Pasid.Mask),
            DeviceTlbRange.DecodePfsid(qw0),
            (byte)((qw0 >> 4) & MaxInvalidationsPendingMask),
            (qw1 & 1) != 0,
            (qw1 & (1UL << 11)) != 0,
            qw1 & PageMask);
    }
}
