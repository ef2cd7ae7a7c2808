using System.Buffers.Binary;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu;

public sealed class InvalidationDescriptorTests
{
    [Fact]
    public void R33_type_of_each_encoded_descriptor_is_its_type_constant()
    {
        var bytes = new byte[InvalidationDescriptor.Size];
        new InvalidationWaitDescriptor(true, true, true, true, 0xFFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFC).Encode(bytes);
        Assert.Equal(0x5, InvalidationDescriptor.TypeOf(bytes).Value);
        new PasidIotlbInvalidationDescriptor(PasidIotlbGranularity.PageSelectiveWithinPasid, 0xFFFF, new Pasid(0xFFFFF), ~0UL, 0x3F, true).Encode(bytes);
        Assert.Equal(0x6, InvalidationDescriptor.TypeOf(bytes).Value);
        new PasidDeviceTlbInvalidationDescriptor(new RequesterId(0xFFFF), new Pasid(0xFFFFF), new RequesterId(0xFFFF), 31, true, true, ~0UL).Encode(bytes);
        Assert.Equal(0x8, InvalidationDescriptor.TypeOf(bytes).Value);
        new PageGroupResponseDescriptor(new RequesterId(0xFFFF), true, new Pasid(0xFFFFF), ResponseCode.ResponseFailure, true, new PrgIndex(511)).Encode(bytes);
        Assert.Equal(0x9, InvalidationDescriptor.TypeOf(bytes).Value);
    }

    [Theory]
    [InlineData(0x0UL, 0x00)]
    [InlineData(0x5UL, 0x05)]
    [InlineData(0x5UL | (1UL << 9), 0x15)]
    [InlineData(0x8UL | (1UL << 10), 0x28)]
    [InlineData(0x9UL | (1UL << 11), 0x49)]
    [InlineData(0xFUL | (0x7UL << 9), 0x7F)]
    [InlineData(~(0xFUL | (0x7UL << 9)), 0x00)] // bits 8:4 and 63:12 are not type bits
    public void R33_type_of_reads_qw0_bits_3_0_and_11_9_as_qemu_vtd_inv_desc_type(ulong qw0, int type)
    {
        // QEMU VTD_INV_DESC_TYPE(val) = (((val) >> 5) & 0x70) | ((val) & 0xf)
        Assert.Equal(type, InvalidationDescriptor.TypeOf(qw0));
        Assert.Equal(type, InvalidationDescriptor.TypeOf(Qwords.Bytes(32, qw0)).Value);
        Assert.Equal(type, InvalidationDescriptor.TypeOf(Qwords.Bytes(16, qw0)).Value);
        Assert.Equal(type, InvalidationDescriptor.TypeOf(Qwords.Bytes(8, qw0)).Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    public void R33_type_of_fewer_than_eight_bytes_names_length(int length)
    {
        var result = InvalidationDescriptor.TypeOf(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void R33_type_of_never_throws_and_always_fits_seven_bits()
    {
        var random = new Random(0x7E);
        var bytes = new byte[InvalidationDescriptor.Size];
        for (int i = 0; i < 4000; i++)
        {
            random.NextBytes(bytes);
            byte type = InvalidationDescriptor.TypeOf(bytes).Value;
            ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal((byte)(qw0 & 0xF), (byte)(type & 0xF));
            Assert.Equal((byte)((qw0 >> 9) & 0x7), (byte)(type >> 4));
        }
    }
}
