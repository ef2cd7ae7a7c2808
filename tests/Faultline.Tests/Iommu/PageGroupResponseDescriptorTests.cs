using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu;

public sealed class PageGroupResponseDescriptorTests
{
    private static ulong[] Words(PageGroupResponseDescriptor d) => Qwords.Of(PageGroupResponseDescriptor.Size, d.Encode);

    private static byte[] Bytes(ulong qw0, ulong qw1, ulong qw2 = 0, ulong qw3 = 0) => Qwords.Bytes(PageGroupResponseDescriptor.Size, qw0, qw1, qw2, qw3);

    [Fact]
    public void R22_page_group_response_descriptor_bits_match_the_spec_table()
    {
        var d = new PageGroupResponseDescriptor(new RequesterId(0x0210), PasidPresent: true, new Pasid(0x12345),
            ResponseCode.ResponseFailure, LastPageInGroup: true, new PrgIndex(0x1AB),
            PrivateDataPresent: true, 0x1122_3344_5566_7788, 0x99AA_BBCC_DDEE_FF00);

        ulong qw0 = (0x9UL << 0) | (1UL << 4) | (1UL << 5) | (0xFUL << 12) | (0x0210UL << 16) | (0x12345UL << 32);
        ulong qw1 = (1UL << 2) | (0x1ABUL << 3);
        Assert.Equal([qw0, qw1, 0x1122_3344_5566_7788UL, 0x99AA_BBCC_DDEE_FF00UL], Words(d));
        Assert.Equal(d, PageGroupResponseDescriptor.Decode(Bytes(qw0, qw1, 0x1122_3344_5566_7788, 0x99AA_BBCC_DDEE_FF00)).Value);

        var minimal = new PageGroupResponseDescriptor(new RequesterId(0x0001), false, default, ResponseCode.Success, false, default);
        Assert.Equal([0x9UL | (0x0001UL << 16), 0UL, 0UL, 0UL], Words(minimal));
    }

    [Theory]
    [InlineData(0x0)]
    [InlineData(0x1)]
    [InlineData(0xF)]
    [InlineData(0x2)]
    [InlineData(0x7)]
    [InlineData(0xE)]
    public void R22_response_code_field_carries_defined_and_reserved_codes(int code)
    {
        var d = new PageGroupResponseDescriptor(new RequesterId(0x0210), true, new Pasid(5), (ResponseCode)code, true, new PrgIndex(3));
        ulong qw0 = Words(d)[0];
        Assert.Equal((ulong)code, (qw0 >> 12) & 0xF);
        Assert.Equal(0UL, qw0 & (0x3FUL << 6)); // bits 11:6 untouched by the code
        var decoded = PageGroupResponseDescriptor.Decode(Bytes(qw0, Words(d)[1]));
        Assert.True(decoded.IsOk, decoded.Error?.ToString());
        Assert.Equal((ResponseCode)code, decoded.Value.Code);
        Assert.Equal(code is not (0 or 1 or 0xF), decoded.Value.Code.IsReserved());
    }

    [Fact]
    public void R22_round_trip_over_field_combinations()
    {
        ushort[] rids = [0x0000, 0x0210, 0xFFFF];
        uint[] pasids = [0, 1, 0x12345, 0xFFFFF];
        ushort[] indexes = [0, 1, 0x1AB, 511];
        var bytes = new byte[PageGroupResponseDescriptor.Size];
        foreach (var rid in rids)
        foreach (var pasid in pasids)
        foreach (var index in indexes)
        for (int code = 0; code < 16; code++)
        for (int flags = 0; flags < 8; flags++)
        {
            var d = new PageGroupResponseDescriptor(new RequesterId(rid), (flags & 1) != 0, new Pasid(pasid), (ResponseCode)code,
                (flags & 2) != 0, new PrgIndex(index), (flags & 4) != 0, 0x8000_0000_0000_0000 | pasid, (ulong)index << 40);
            d.Encode(bytes);
            var decoded = PageGroupResponseDescriptor.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(d, decoded.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(31)]
    [InlineData(33)]
    public void R22_decode_of_wrong_length_names_length(int length)
    {
        var result = PageGroupResponseDescriptor.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void R22_decode_of_wrong_type_or_type_high_names_type()
    {
        RecordChecks.WrongInvalidationTypesNameType(PageGroupResponseDescriptor.Size, PageGroupResponseDescriptor.Type, b => PageGroupResponseDescriptor.Decode(b));
    }

    [Fact]
    public void R22_decode_with_a_reserved_bit_set_names_reserved()
    {
        var qw0Bits = new[] { 6, 7, 8 }.Concat(Enumerable.Range(52, 12));
        var qw1Bits = new[] { 0, 1 }.Concat(Enumerable.Range(12, 52));
        foreach (int bit in qw0Bits)
        {
            var result = PageGroupResponseDescriptor.Decode(Bytes(0x9 | (1UL << bit), 0));
            Assert.False(result.IsOk, $"QW0 bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
        foreach (int bit in qw1Bits)
        {
            var result = PageGroupResponseDescriptor.Decode(Bytes(0x9, 1UL << bit));
            Assert.False(result.IsOk, $"QW1 bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
    }

    [Fact]
    public void R22_decode_never_throws_and_valid_bytes_reencode_identically()
    {
        int valid = RecordChecks.DecodeNeverThrows<PageGroupResponseDescriptor>(PageGroupResponseDescriptor.Size, 0xC0DE,
            b => PageGroupResponseDescriptor.Decode(b), (d, b) => d.Encode(b), makeValid: b =>
            {
                RecordChecks.SetDw(b, 0, (RecordChecks.Dw(b, 0) & ((1UL << 4) | (1UL << 5) | (0xFUL << 12) | (0xFFFFUL << 16) | (0xFFFFFUL << 32))) | PageGroupResponseDescriptor.Type);
                RecordChecks.SetDw(b, 1, RecordChecks.Dw(b, 1) & ((1UL << 2) | (0x1FFUL << 3)));
                b.AsSpan(16).Clear();
            });
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
