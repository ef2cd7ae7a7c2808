using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu;

public sealed class PasidDeviceTlbInvalidationDescriptorTests
{
    private static ulong[] Words(PasidDeviceTlbInvalidationDescriptor d) => Qwords.Of(PasidDeviceTlbInvalidationDescriptor.Size, d.Encode);

    private static byte[] Bytes(ulong qw0, ulong qw1, ulong qw2 = 0, ulong qw3 = 0) => Qwords.Bytes(PasidDeviceTlbInvalidationDescriptor.Size, qw0, qw1, qw2, qw3);

    [Fact]
    public void R33_pasid_devtlb_descriptor_bits_match_linux_qi_dev_eiotlb_macros()
    {
        // intel_iommu_drain_pasid_prq: qi_desc_dev_iotlb_pasid(sid, info->pfsid, pasid, info->ats_qdep, 0, MAX_AGAW_PFN_WIDTH, &desc[2]).
        // qw0 = QI_DEV_EIOTLB_PASID(pasid) | QI_DEV_EIOTLB_SID(sid) | QI_DEV_EIOTLB_QDEP(qdep) | QI_DEIOTLB_TYPE | QI_DEV_IOTLB_PFSID(pfsid);
        // qdep 32 & 0x1f = 0; PFSID 0xabcd: (0xd << 12) | (0xabc << 52).
        var drain = PasidDeviceTlbInvalidationDescriptor.ForRange(new RequesterId(0x0210), new RequesterId(0xABCD), new Pasid(0x12345),
            maxInvalidationsPending: 32, address: 0, sizeOrder: PasidDeviceTlbInvalidationDescriptor.MaxSizeOrder);
        ulong qw0 = (0x12345UL << 32) | (0x0210UL << 16) | (0UL << 4) | 0x8 | (0xDUL << 12) | (0xABCUL << 52);
        Assert.Equal(0xABC1_2345_0210_D008UL, qw0);
        // size_order 52: GENMASK_ULL(63, 12) with bit 63 (1 << (12 + 52 - 1)) cleared, then QI_DEV_EIOTLB_SIZE (bit 11).
        ulong qw1 = 0x7FFF_FFFF_FFFF_F000UL | (1UL << 11);
        Assert.Equal(0x7FFF_FFFF_FFFF_F800UL, qw1);
        Assert.Equal([qw0, qw1, 0UL, 0UL], Words(drain));
        var decoded = PasidDeviceTlbInvalidationDescriptor.Decode(Bytes(qw0, qw1)).Value;
        Assert.Equal(drain, decoded);
        Assert.Equal(new RequesterId(0xABCD), decoded.PhysicalFunctionSourceId);
        Assert.Equal(52, decoded.SizeOrder);

        // One page, queue depth 5, every SID bit, PFSID 0x0001, global bit (QEMU VTD_INV_DESC_PASID_DEVICE_IOTLB_GLOBAL = bit 0).
        var one = new PasidDeviceTlbInvalidationDescriptor(new RequesterId(0xFFFF), new Pasid(0), new RequesterId(0x0001), 5,
            Global: true, SizeBit: false, 0x7FFF_DEAD_B000);
        Assert.Equal([0x0000_0000_FFFF_1058UL, 0x7FFF_DEAD_B001UL, 0UL, 0UL], Words(one));
        Assert.Equal(0, one.SizeOrder);
    }

    [Theory]
    [InlineData(0, 0x7FFF_DEAD_B000UL, 0x7FFF_DEAD_B000UL)]
    [InlineData(1, 0x2000UL, 0x2000UL | 0x800)]
    [InlineData(4, 0x10000UL, 0x17000UL | 0x800)]
    [InlineData(9, 0x20_0000UL, 0x20_0000UL | 0xFF000 | 0x800)]
    public void R33_size_order_uses_the_ats_range_encoding_of_qi_desc_dev_iotlb_pasid(int sizeOrder, ulong address, ulong qw1)
    {
        var d = PasidDeviceTlbInvalidationDescriptor.ForRange(new RequesterId(0x0100), new RequesterId(0x0100), new Pasid(1), 0, address, sizeOrder);
        Assert.Equal(qw1, Words(d)[1]);
        Assert.Equal(sizeOrder > 0, d.SizeBit);
        Assert.Equal(sizeOrder, d.SizeOrder);
        Assert.Equal(sizeOrder, PasidDeviceTlbInvalidationDescriptor.Decode(Qwords.Bytes(32, Words(d))).Value.SizeOrder);
    }

    [Fact]
    public void R33_pfsid_bits_decode_as_a_field_where_qemu_marks_them_reserved()
    {
        // QEMU VTD_INV_DESC_PASID_DEVICE_IOTLB_RSVD_VAL0 = 0xfff000000000f000 covers Linux's QI_DEV_IOTLB_PFSID bits 15:12 and 63:52.
        ulong qemuReserved = 0xFFF0_0000_0000_F000UL;
        var decoded = PasidDeviceTlbInvalidationDescriptor.Decode(Bytes(0x8 | qemuReserved, 0));
        Assert.True(decoded.IsOk, decoded.Error?.ToString());
        Assert.Equal(new RequesterId(0xFFFF), decoded.Value.PhysicalFunctionSourceId);
    }

    [Fact]
    public void R33_round_trip_over_field_combinations()
    {
        ushort[] ids = [0x0000, 0x0001, 0x0210, 0xABCD, 0xFFFF];
        uint[] pasids = [0, 1, 0x12345, 0xFFFFF];
        ulong[] addresses = [0, 0x1000, 0x7FFF_DEAD_B000, 0xFFFF_FFFF_FFFF_F000];
        byte[] depths = [0, 1, 5, 31];
        var bytes = new byte[PasidDeviceTlbInvalidationDescriptor.Size];
        foreach (ushort sid in ids)
        foreach (ushort pfsid in ids)
        foreach (uint pasid in pasids)
        foreach (ulong address in addresses)
        foreach (byte mip in depths)
        for (int flags = 0; flags < 4; flags++)
        {
            var d = new PasidDeviceTlbInvalidationDescriptor(new RequesterId(sid), new Pasid(pasid), new RequesterId(pfsid), mip,
                (flags & 1) != 0, (flags & 2) != 0, address);
            d.Encode(bytes);
            Assert.Equal(PasidDeviceTlbInvalidationDescriptor.Type, InvalidationDescriptor.TypeOf(bytes).Value);
            var decoded = PasidDeviceTlbInvalidationDescriptor.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(d, decoded.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void R33_decode_of_wrong_length_names_length(int length)
    {
        var result = PasidDeviceTlbInvalidationDescriptor.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void R33_decode_of_wrong_type_or_type_high_names_type()
    {
        RecordChecks.WrongInvalidationTypesNameType(PasidDeviceTlbInvalidationDescriptor.Size, PasidDeviceTlbInvalidationDescriptor.Type, b => PasidDeviceTlbInvalidationDescriptor.Decode(b));
    }

    [Fact]
    public void R33_decode_with_a_reserved_bit_set_names_reserved()
    {
        // QEMU VTD_INV_DESC_PASID_DEVICE_IOTLB_RSVD_VAL1 = 0x7fe; QW2/QW3 all reserved.
        for (int bit = 1; bit <= 10; bit++)
        {
            var result = PasidDeviceTlbInvalidationDescriptor.Decode(Bytes(0x8, 1UL << bit));
            Assert.False(result.IsOk, $"QW1 bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
        for (int bit = 0; bit < 64; bit++)
        {
            foreach (var bytes in new[] { Bytes(0x8, 0, 1UL << bit, 0), Bytes(0x8, 0, 0, 1UL << bit) })
            {
                var result = PasidDeviceTlbInvalidationDescriptor.Decode(bytes);
                Assert.False(result.IsOk, $"QW2/QW3 bit {bit} is reserved");
                Assert.Equal("reserved", result.Error!.Value.Field);
            }
        }
    }

    [Fact]
    public void R33_decode_never_throws_and_valid_bytes_reencode_identically()
    {
        int valid = RecordChecks.DecodeNeverThrows<PasidDeviceTlbInvalidationDescriptor>(PasidDeviceTlbInvalidationDescriptor.Size, 0x1D8,
            b => PasidDeviceTlbInvalidationDescriptor.Decode(b), (d, b) => d.Encode(b), makeValid: b =>
            {
                RecordChecks.SetDw(b, 0, (RecordChecks.Dw(b, 0) & (~0xE0FUL)) | PasidDeviceTlbInvalidationDescriptor.Type);
                RecordChecks.SetDw(b, 1, RecordChecks.Dw(b, 1) & (0x801UL | ~0xFFFUL));
                b.AsSpan(16).Clear();
            });
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
