using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu;

/// <summary>The two descriptors R33 uses to drain the RID (PASID 0): types 2 and 3.</summary>
public sealed class RidInvalidationDescriptorTests
{
    private const int Size = InvalidationDescriptor.Size;

    [Fact]
    public void R33_domain_selective_iotlb_invalidation_matches_linux_qi_iotlb_macros()
    {
        // qi_desc_iotlb(iommu, did = 0x42, 0, 0, DMA_TLB_DSI_FLUSH): QI_IOTLB_DID(0x42) | QI_IOTLB_GRAN(2 << 60) | QI_IOTLB_TYPE.
        ulong qw0 = (0x42UL << 16) | ((2UL << 60) >> 56) | 0x2;
        Assert.Equal([qw0, 0UL, 0UL, 0UL], Qwords.Of(Size, IotlbInvalidationDescriptor.DomainSelective(0x42).Encode));

        var full = new IotlbInvalidationDescriptor(IotlbGranularity.PageSelectiveWithinDomain, DrainReads: true, DrainWrites: true, 0xBEEF,
            0x7_FFFF_F000, AddressMask: 0x3F, InvalidationHint: true);
        ulong fullQw0 = 0x2 | (3UL << 4) | (1UL << 6) | (1UL << 7) | (0xBEEFUL << 16);
        ulong fullQw1 = 0x3FUL | (1UL << 6) | 0x7_FFFF_F000UL;
        Assert.Equal([fullQw0, fullQw1, 0UL, 0UL], Qwords.Of(Size, full.Encode));
        Assert.Equal(full, IotlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, fullQw0, fullQw1)).Value);
    }

    [Fact]
    public void R33_non_pasid_device_tlb_invalidation_matches_linux_qi_dev_iotlb_macros()
    {
        // qi_desc_dev_iotlb(sid = 0x0210, pfsid = 0x0210, qdep = 5, addr = 0, mask = 52).
        var d = DeviceTlbInvalidationDescriptor.ForRange(new RequesterId(0x0210), new RequesterId(0x0210), 5, 0, DeviceTlbRange.MaxSizeOrder);
        ulong qw0 = 0x3 | ((0x0210UL & 0xF) << 12) | (5UL << 16) | (0x0210UL << 32) | (((0x0210UL >> 4) & 0xFFF) << 52);
        ulong qw1 = (((1UL << (12 + 52 - 1)) - 1) & ~0xFFFUL) | 1; // addr |= (1 << (VTD_PAGE_SHIFT + mask - 1)) - 1; | QI_DEV_IOTLB_SIZE
        Assert.Equal([qw0, qw1, 0UL, 0UL], Qwords.Of(Size, d.Encode));
        Assert.Equal(DeviceTlbRange.MaxSizeOrder, d.SizeOrder);
        Assert.Equal(d, DeviceTlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, qw0, qw1)).Value);
    }

    [Theory]
    [InlineData(0, 0x5000UL, 0x1000UL)]
    [InlineData(1, 0x4000UL, 0x2000UL)]
    [InlineData(4, 0x30000UL, 0x10000UL)]
    public void H_VTD_13_a_device_tlb_invalidation_covers_its_encoded_range(int order, ulong start, ulong length)
    {
        var d = DeviceTlbInvalidationDescriptor.ForRange(new RequesterId(1), new RequesterId(1), 0, start, order);
        Assert.Equal(order, d.SizeOrder);
        Assert.Equal((start, length), DeviceTlbRange.Range(d.Address, d.SizeBit));
    }

    [Fact]
    public void Decode_errors_name_the_field()
    {
        Assert.Equal("length", IotlbInvalidationDescriptor.Decode(new byte[31]).Error!.Value.Field);
        Assert.Equal("type", IotlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, 0x3)).Error!.Value.Field);
        Assert.Equal("granularity", IotlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, 0x2)).Error!.Value.Field);
        Assert.Equal("reserved", IotlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, 0x22 | (1UL << 40))).Error!.Value.Field);
        Assert.Equal("reserved", IotlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, 0x22, 1UL << 8)).Error!.Value.Field);
        Assert.Equal("type", DeviceTlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, 0x8)).Error!.Value.Field);
        Assert.Equal("reserved", DeviceTlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, 0x3 | (1UL << 4))).Error!.Value.Field);
        Assert.Equal("reserved", DeviceTlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, 0x3, 1UL << 5)).Error!.Value.Field);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void R33_a_reserved_bit_in_qw2_or_qw3_is_refused_as_by_the_pasid_based_forms(int qword)
    {
        for (int bit = 0; bit < 64; bit++)
        {
            var words = new ulong[4];
            words[qword] = 1UL << bit;
            words[0] = 0x420022; // a valid domain-selective IOTLB invalidation
            var iotlb = IotlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, words));
            Assert.Equal(("reserved", true), (iotlb.Error!.Value.Field, iotlb.Error.Value.Message.StartsWith("QW2 = ", StringComparison.Ordinal)));
            words[0] = 0x3; // a valid device-TLB invalidation
            var devtlb = DeviceTlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, words));
            Assert.Equal("reserved", devtlb.Error!.Value.Field);
            words[0] = 0x26; // the PASID-based IOTLB form refuses the same upper half, with the same words
            Assert.Equal(devtlb.Error, PasidIotlbInvalidationDescriptor.Decode(Qwords.Bytes(Size, words)).Error);
        }
        var (code, _, stderr) = CommandLine.Invoke("decode", "vtd-devtlb-invalidation", Convert.ToHexString(Qwords.Bytes(Size, 0x3, 0, 0, 1UL << 63)));
        Assert.Equal(2, code);
        Assert.Equal("faultline decode vtd-devtlb-invalidation: reserved: QW2 = 0x0000000000000000, QW3 = 0x8000000000000000 are reserved, must be 0\n", stderr.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Decoding_never_throws_and_what_decodes_encodes_back_to_the_same_bytes()
    {
        var random = new Faultline.Simulation.SimRandom(17);
        var bytes = new byte[Size];
        var again = new byte[Size];
        for (int i = 0; i < 4000; i++)
        {
            for (int w = 0; w < 2; w++)
            {
                ulong value = random.NextUInt64();
                BitConverter.TryWriteBytes(bytes.AsSpan(w * 8), (value & ~0xFUL) | (i % 2 == 0 ? 0x2UL : 0x3UL));
            }
            Array.Clear(bytes, 16, 16); // reserved: only a zero upper half decodes
            var iotlb = IotlbInvalidationDescriptor.Decode(bytes);
            if (iotlb.IsOk) { iotlb.Value.Encode(again); Assert.Equal(bytes, again); }
            var devtlb = DeviceTlbInvalidationDescriptor.Decode(bytes);
            if (devtlb.IsOk) { devtlb.Value.Encode(again); Assert.Equal(bytes, again); }
        }
    }

    [Fact]
    public void Faultline_decode_prints_both_rid_descriptors()
    {
        var (code, stdout, _) = CommandLine.Invoke("decode", "vtd-iotlb-invalidation", Convert.ToHexString(Qwords.Bytes(Size, 0x420022)));
        Assert.Equal(0, code);
        Assert.Contains("\"granularity_name\": \"DomainSelective\"", stdout, StringComparison.Ordinal);
        var (bad, _, stderr) = CommandLine.Invoke("decode", "vtd-devtlb-invalidation", "03");
        Assert.Equal(2, bad);
        Assert.Contains("length", stderr, StringComparison.Ordinal);
    }
}
