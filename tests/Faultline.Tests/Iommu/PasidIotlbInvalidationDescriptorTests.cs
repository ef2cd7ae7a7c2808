using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu;

public sealed class PasidIotlbInvalidationDescriptorTests
{
    private static ulong[] Words(PasidIotlbInvalidationDescriptor d) => Qwords.Of(PasidIotlbInvalidationDescriptor.Size, d.Encode);

    private static byte[] Bytes(ulong qw0, ulong qw1, ulong qw2 = 0, ulong qw3 = 0) => Qwords.Bytes(PasidIotlbInvalidationDescriptor.Size, qw0, qw1, qw2, qw3);

    [Fact]
    public void R33_pasid_iotlb_descriptor_bits_match_linux_qi_eiotlb_macros()
    {
        // qi_desc_piotlb_all(did, pasid): QI_EIOTLB_PASID(pasid) | QI_EIOTLB_DID(did) | QI_EIOTLB_GRAN(QI_GRAN_NONG_PASID) | QI_EIOTLB_TYPE, qw1 = 0.
        var all = PasidIotlbInvalidationDescriptor.AllInPasid(0x0042, new Pasid(0x12345));
        ulong allQw0 = (0x12345UL << 32) | (0x0042UL << 16) | (2UL << 4) | 0x6;
        Assert.Equal(0x0001_2345_0042_0026UL, allQw0);
        Assert.Equal([allQw0, 0UL, 0UL, 0UL], Words(all));
        Assert.Equal(all, PasidIotlbInvalidationDescriptor.Decode(Bytes(allQw0, 0)).Value);

        // qi_desc_piotlb(did, pasid, addr, size_order, ih): GRAN(QI_GRAN_PSI_PASID); qw1 = QI_EIOTLB_ADDR(addr) | QI_EIOTLB_IH(ih) | QI_EIOTLB_AM(size_order).
        var page = PasidIotlbInvalidationDescriptor.PageSelective(0xBEEF, new Pasid(0xFFFFF), 0x7FFF_DEAD_8000, sizeOrder: 3, invalidationHint: true);
        ulong pageQw0 = (0xFFFFFUL << 32) | (0xBEEFUL << 16) | (3UL << 4) | 0x6;
        ulong pageQw1 = 0x7FFF_DEAD_8000UL | (1UL << 6) | 3;
        Assert.Equal(0x000F_FFFF_BEEF_0036UL, pageQw0);
        Assert.Equal(0x7FFF_DEAD_8043UL, pageQw1);
        Assert.Equal([pageQw0, pageQw1, 0UL, 0UL], Words(page));
        var decoded = PasidIotlbInvalidationDescriptor.Decode(Bytes(pageQw0, pageQw1)).Value;
        Assert.Equal(page, decoded);
        Assert.Equal(PasidIotlbGranularity.PageSelectiveWithinPasid, decoded.Granularity);
        Assert.Equal(3, decoded.AddressMask);
        Assert.True(decoded.InvalidationHint);
    }

    [Fact]
    public void R33_round_trip_over_field_combinations()
    {
        ushort[] domains = [0, 1, 0x0042, 0xFFFF];
        uint[] pasids = [0, 1, 0x12345, 0xFFFFF];
        ulong[] addresses = [0, 0x1000, 0x7FFF_DEAD_B000, 0xFFFF_FFFF_FFFF_F000];
        byte[] masks = [0, 1, 9, 0x3F];
        var bytes = new byte[PasidIotlbInvalidationDescriptor.Size];
        foreach (var granularity in new[] { PasidIotlbGranularity.PasidSelective, PasidIotlbGranularity.PageSelectiveWithinPasid })
        foreach (ushort did in domains)
        foreach (uint pasid in pasids)
        foreach (ulong address in addresses)
        foreach (byte am in masks)
        foreach (bool ih in new[] { false, true })
        {
            var d = new PasidIotlbInvalidationDescriptor(granularity, did, new Pasid(pasid), address, am, ih);
            d.Encode(bytes);
            Assert.Equal(PasidIotlbInvalidationDescriptor.Type, InvalidationDescriptor.TypeOf(bytes).Value);
            var decoded = PasidIotlbInvalidationDescriptor.Decode(bytes);
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
        var result = PasidIotlbInvalidationDescriptor.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void R33_decode_of_wrong_type_or_type_high_names_type()
    {
        RecordChecks.WrongInvalidationTypesNameType(PasidIotlbInvalidationDescriptor.Size, PasidIotlbInvalidationDescriptor.Type, b => PasidIotlbInvalidationDescriptor.Decode(b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void R33_decode_of_an_undefined_granularity_names_granularity(int granularity)
    {
        var result = PasidIotlbInvalidationDescriptor.Decode(Bytes(0x6 | ((ulong)granularity << 4) | (0x42UL << 16), 0));
        Assert.False(result.IsOk);
        Assert.Equal("granularity", result.Error!.Value.Field);
    }

    [Fact]
    public void R33_decode_with_a_reserved_bit_set_names_reserved()
    {
        // QEMU VTD_INV_DESC_PIOTLB_RSVD_VAL0 = 0xfff000000000f1c0, _RSVD_VAL1 = 0xf80; QW2/QW3 all reserved.
        ulong qw0 = 0x6 | (3UL << 4);
        var qw0Bits = new[] { 6, 7, 8, 12, 13, 14, 15 }.Concat(Enumerable.Range(52, 12));
        foreach (int bit in qw0Bits)
        {
            var result = PasidIotlbInvalidationDescriptor.Decode(Bytes(qw0 | (1UL << bit), 0));
            Assert.False(result.IsOk, $"QW0 bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
        for (int bit = 7; bit <= 11; bit++)
        {
            var result = PasidIotlbInvalidationDescriptor.Decode(Bytes(qw0, 1UL << bit));
            Assert.False(result.IsOk, $"QW1 bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
        for (int bit = 0; bit < 64; bit++)
        {
            foreach (var bytes in new[] { Bytes(qw0, 0, 1UL << bit, 0), Bytes(qw0, 0, 0, 1UL << bit) })
            {
                var result = PasidIotlbInvalidationDescriptor.Decode(bytes);
                Assert.False(result.IsOk, $"QW2/QW3 bit {bit} is reserved");
                Assert.Equal("reserved", result.Error!.Value.Field);
            }
        }
    }

    [Fact]
    public void R33_decode_never_throws_and_valid_bytes_reencode_identically()
    {
        int valid = RecordChecks.DecodeNeverThrows<PasidIotlbInvalidationDescriptor>(PasidIotlbInvalidationDescriptor.Size, 0x1D6,
            b => PasidIotlbInvalidationDescriptor.Decode(b), (d, b) => d.Encode(b), makeValid: b =>
            {
                RecordChecks.SetDw(b, 0, (RecordChecks.Dw(b, 0) & ((0x1UL << 4) | (0xFFFFUL << 16) | (0xFFFFFUL << 32))) | PasidIotlbInvalidationDescriptor.Type | (2UL << 4));
                RecordChecks.SetDw(b, 1, RecordChecks.Dw(b, 1) & (0x7FUL | ~0xFFFUL));
                b.AsSpan(16).Clear();
            });
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
