using System.Buffers.Binary;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// The 32-byte VT-d Invalidation Wait Descriptor (invalidation queue type 5, vtd.md §3 and §7).
/// QW0: type 3:0 = 5, interrupt flag IF 4, status write SW 5, fence FN 6, page-request drain PD 7,
/// type-high 11:9 = 0, status data 63:32. QW1: status address 63:2 (4-byte aligned, bits 1:0 must be 0).
/// QW2–QW3: reserved. Reserved in QW0: bit 8 and bits 31:12.
/// <para>
/// Sources. Field positions: Linux drivers/iommu/intel/iommu.h (torvalds/linux; formerly
/// include/linux/intel-iommu.h) <c>QI_IWD_TYPE</c> 0x5, <c>QI_IWD_STATUS_DATA(d)</c> = d &lt;&lt; 32,
/// <c>QI_IWD_STATUS_WRITE</c> = 1 &lt;&lt; 5, <c>QI_IWD_FENCE</c> = 1 &lt;&lt; 6, <c>QI_IWD_PRQ_DRAIN</c> = 1 &lt;&lt; 7;
/// <c>qi_submit_sync</c> puts the physical address of a 4-byte <c>desc_status</c> slot in QW1. Linux has no
/// IF macro: IF comes from QEMU hw/i386/intel_iommu_internal.h <c>VTD_INV_DESC_WAIT_IF</c> = 1 &lt;&lt; 4
/// (with <c>VTD_INV_DESC_WAIT_SW</c> 1 &lt;&lt; 5, <c>VTD_INV_DESC_WAIT_FN</c> 1 &lt;&lt; 6,
/// <c>VTD_INV_DESC_WAIT_DATA_SHIFT</c> 32). Reserved masks: QEMU <c>VTD_INV_DESC_WAIT_RSVD_LO(ecap)</c> =
/// 0xfffff100 | (ECAP.PDS ? 0 : 1 &lt;&lt; 7), <c>VTD_INV_DESC_WAIT_RSVD_HI</c> = 3, QW2/QW3 all ones
/// (<c>VTD_INV_DESC_ALL_ONE</c>). PD is decoded here as a field; whether it is honoured (ECAP.PDS,
/// H-VTD-14) is the hardware model's business, not the codec's.
/// </para>
/// <para>
/// Linux's drain (R33, <c>intel_iommu_drain_pasid_prq</c>) submits a leading wait with
/// <c>QI_IWD_STATUS_DATA(QI_DONE) | QI_IWD_FENCE | QI_IWD_TYPE</c> (SW = 0, so the data is never written)
/// and <c>qi_submit_sync(..., QI_OPT_WAIT_DRAIN)</c> appends the trailing wait with SW + PD and the
/// status address; QI_DONE = 2.
/// </para>
/// </summary>
public readonly record struct InvalidationWaitDescriptor(
    bool InterruptFlag,
    bool StatusWrite,
    bool Fence,
    bool PageRequestDrain,
    uint StatusData,
    ulong StatusAddress)
{
    /// <summary>32 bytes: a scalable-mode (256-bit) descriptor.</summary>
    public const int Size = InvalidationDescriptor.Size;
    /// <summary>Descriptor type 5, QW0 3:0 (Linux <c>QI_IWD_TYPE</c>).</summary>
    public const byte Type = 0x5;

    /// <summary>Bits 1:0 of QW1: the status write is a 4-byte write to a 4-byte aligned address.</summary>
    public const ulong StatusAddressAlignmentMask = 0x3;

    private const ulong Qw0Reserved = 0xFFFF_F100UL;

    /// <summary>Writes the 32 bytes little-endian: the status address with bits 1:0 cleared, QW2 and QW3 as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong qw0 = Type
            | (InterruptFlag ? 1UL << 4 : 0)
            | (StatusWrite ? 1UL << 5 : 0)
            | (Fence ? 1UL << 6 : 0)
            | (PageRequestDrain ? 1UL << 7 : 0)
            | ((ulong)StatusData << 32);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], StatusAddress & ~StatusAddressAlignmentMask);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], 0);
    }

    /// <summary>Reads exactly 32 bytes; fails on length, type, reserved bits (QW0 8 and 31:12, QW2, QW3) or a status address not 4-byte aligned.</summary>
    public static DecodeResult<InvalidationWaitDescriptor> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<InvalidationWaitDescriptor>.Fail("length", $"{bytes.Length} bytes, an invalidation wait descriptor is {Size}");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        if (InvalidationDescriptor.TypeError(qw0, Type, "an invalidation wait") is { } typeError)
            return DecodeResult<InvalidationWaitDescriptor>.Fail(typeError.Field, typeError.Message);
        if ((qw0 & Qw0Reserved) != 0)
            return DecodeResult<InvalidationWaitDescriptor>.Fail("reserved", $"QW0 reserved bits 8 / 31:12 are 0x{qw0 & Qw0Reserved:x16}, must be 0");
        if (InvalidationDescriptor.UpperHalfError(bytes) is { } upper)
            return DecodeResult<InvalidationWaitDescriptor>.Fail(upper.Field, upper.Message);
        if ((qw1 & StatusAddressAlignmentMask) != 0)
            return DecodeResult<InvalidationWaitDescriptor>.Fail("status_address", $"0x{qw1:x} is not 4-byte aligned (QW1[1:0] = {qw1 & StatusAddressAlignmentMask})");
        return new InvalidationWaitDescriptor(
            (qw0 & (1UL << 4)) != 0,
            (qw0 & (1UL << 5)) != 0,
            (qw0 & (1UL << 6)) != 0,
            (qw0 & (1UL << 7)) != 0,
            (uint)(qw0 >> 32),
            qw1);
    }
}
