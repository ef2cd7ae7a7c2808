using System.Buffers.Binary;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

public sealed class PageResponseRecordTests
{
    [Fact]
    public void R47_iommu_hwpt_page_response_is_cookie_at_0_and_code_at_4()
    {
        var bytes = new byte[PageResponseRecord.Size];
        new PageResponseRecord(0x11223344, IommufdPageResponseCode.Invalid).Encode(bytes);
        Assert.Equal(8, PageResponseRecord.Size);
        Assert.Equal("4433221101000000", Convert.ToHexString(bytes));
        Assert.Equal(new PageResponseRecord(0x11223344, IommufdPageResponseCode.Invalid), PageResponseRecord.Decode(bytes).Value);
    }

    [Theory]
    [InlineData(0u, true)]
    [InlineData(1u, true)]
    [InlineData(2u, false)] // IOMMUFD_PAGE_RESP_FAILURE, removed (BUG-10)
    [InlineData(3u, false)]
    [InlineData(0xFu, false)]
    [InlineData(0xFFFF_FFFFu, false)]
    public void BUG10_decode_exposes_every_code_and_says_whether_the_uapi_defines_it(uint code, bool defined)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 5);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), code);
        var result = PageResponseRecord.Decode(bytes);
        Assert.True(result.IsOk);
        Assert.Equal(code, (uint)result.Value.Code);
        Assert.Equal(5u, result.Value.Cookie);
        Assert.Equal(defined, result.Value.HasDefinedCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(16)]
    public void R47_decode_of_wrong_size_names_length(int size)
    {
        var result = PageResponseRecord.Decode(new byte[size]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void R47_decode_never_throws_and_round_trips_every_8_byte_input()
    {
        int valid = RecordChecks.DecodeNeverThrows<PageResponseRecord>(PageResponseRecord.Size, 0x8E5,
            b => PageResponseRecord.Decode(b), (d, b) => d.Encode(b));
        Assert.Equal(RecordChecks.Inputs, valid); // no input of the right size is rejected (R47 validates codes, not the codec)
    }
}
