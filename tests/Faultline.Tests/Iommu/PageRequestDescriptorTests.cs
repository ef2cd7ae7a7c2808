using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu;

public sealed class PageRequestDescriptorTests
{
    private static readonly PageRequestDescriptor Empty =
        new(default, false, default, false, false, false, false, false, default, 0);

    private static ulong[] Words(PageRequestDescriptor d) => Qwords.Of(PageRequestDescriptor.Size, d.Encode);

    private static byte[] Bytes(ulong qw0, ulong qw1, ulong qw2 = 0, ulong qw3 = 0) => Qwords.Bytes(PageRequestDescriptor.Size, qw0, qw1, qw2, qw3);

    [Fact]
    public void R30_page_request_descriptor_bits_match_the_spec_table()
    {
        var d = new PageRequestDescriptor(new RequesterId(0x0210), PasidPresent: true, new Pasid(0x12345),
            ExecuteRequested: true, PrivilegedModeRequested: true, ReadRequested: true, WriteRequested: true,
            LastPageInGroup: true, new PrgIndex(0x1AB), PageAddress: 0x0000_7FFF_DEAD_B000,
            PrivateDataPresent: true, 0x1122_3344_5566_7788, 0x99AA_BBCC_DDEE_FF00);

        ulong qw0 = (0x01UL << 0) | (1UL << 8) | (1UL << 9) | (0x0210UL << 16) | (0x12345UL << 32) | (1UL << 52) | (1UL << 53);
        ulong qw1 = (1UL << 0) | (1UL << 1) | (1UL << 2) | (0x1ABUL << 3) | (0x7_FFFD_EADBUL << 12);
        Assert.Equal([qw0, qw1, 0x1122_3344_5566_7788UL, 0x99AA_BBCC_DDEE_FF00UL], Words(d));
        Assert.Equal(d, PageRequestDescriptor.Decode(Bytes(qw0, qw1, 0x1122_3344_5566_7788, 0x99AA_BBCC_DDEE_FF00)).Value);
    }

    [Fact]
    public void R30_each_field_alone_sets_only_its_own_bits()
    {
        var cases = new (string Field, PageRequestDescriptor Descriptor, int Word, ulong Bits)[]
        {
            ("pasid present", Empty with { PasidPresent = true }, 0, 1UL << 8),
            ("private data present", Empty with { PrivateDataPresent = true }, 0, 1UL << 9),
            ("rid", Empty with { Requester = new RequesterId(0xFFFF) }, 0, 0xFFFFUL << 16),
            ("pasid", Empty with { Pasid = new Pasid(0xFFFFF) }, 0, 0xFFFFFUL << 32),
            ("execute", Empty with { ExecuteRequested = true }, 0, 1UL << 52),
            ("privileged", Empty with { PrivilegedModeRequested = true }, 0, 1UL << 53),
            ("read", Empty with { ReadRequested = true }, 1, 1UL << 0),
            ("write", Empty with { WriteRequested = true }, 1, 1UL << 1),
            ("lpig", Empty with { LastPageInGroup = true }, 1, 1UL << 2),
            ("prg index", Empty with { Index = new PrgIndex(511) }, 1, 0x1FFUL << 3),
            ("page address", Empty with { PageAddress = 0xFFFF_FFFF_FFFF_F000 }, 1, ~0xFFFUL),
        };
        foreach (var (field, descriptor, word, bits) in cases)
        {
            var expected = new ulong[] { 0x01, 0, 0, 0 };
            expected[word] |= bits;
            Assert.True(expected.SequenceEqual(Words(descriptor)), $"{field}: expected {string.Join(' ', expected.Select(w => w.ToString("x16")))}, got {string.Join(' ', Words(descriptor).Select(w => w.ToString("x16")))}");
        }
    }

    [Fact]
    public void R30_round_trip_over_field_combinations()
    {
        ushort[] rids = [0x0000, 0x0210, 0xFFFF];
        uint[] pasids = [0, 1, 0x12345, 0xFFFFF];
        ushort[] indexes = [0, 1, 0x1AB, 511];
        ulong[] addresses = [0, 0x1000, 0x0000_7FFF_FFFF_F000, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_F000];
        var bytes = new byte[PageRequestDescriptor.Size];
        int checkedCount = 0;
        foreach (var rid in rids)
        foreach (var pasid in pasids)
        foreach (var index in indexes)
        foreach (var address in addresses)
        for (int flags = 0; flags < 128; flags++)
        {
            var d = new PageRequestDescriptor(new RequesterId(rid), (flags & 1) != 0, new Pasid(pasid),
                (flags & 2) != 0, (flags & 4) != 0, (flags & 8) != 0, (flags & 16) != 0, (flags & 32) != 0,
                new PrgIndex(index), address, (flags & 64) != 0, address ^ pasid, ~(ulong)rid);
            d.Encode(bytes);
            var decoded = PageRequestDescriptor.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(d, decoded.Value);
            checkedCount++;
        }
        Assert.Equal(3 * 4 * 4 * 5 * 128, checkedCount);
    }

    [Fact]
    public void R30_from_page_request_copies_the_payload_and_prefix()
    {
        var request = new PageRequest(new RequesterId(0x0210), Read: false, Write: true, Last: true, new PrgIndex(0x1AB),
            0x0000_1234_5678_9ABC, new PasidPrefix(new Pasid(0xFFFFF), ExecuteRequested: true, PrivilegedMode: false));
        var d = PageRequestDescriptor.From(request);
        Assert.Equal(new PageRequestDescriptor(new RequesterId(0x0210), true, new Pasid(0xFFFFF), true, false, false, true, true,
            new PrgIndex(0x1AB), 0x0000_1234_5678_9000), d);

        var noPasid = PageRequestDescriptor.From(request with { Prefix = null });
        Assert.False(noPasid.PasidPresent);
        Assert.False(noPasid.ExecuteRequested);
        Assert.Equal(0u, noPasid.Pasid.Value);
        Assert.Equal(request.Payload, Words(d)[1]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(64)]
    public void R30_decode_of_wrong_length_names_length(int length)
    {
        var result = PageRequestDescriptor.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x02)]
    [InlineData(0x09)]
    [InlineData(0x81)]
    [InlineData(0xFF)]
    public void R30_decode_of_wrong_type_names_type(int type)
    {
        var result = PageRequestDescriptor.Decode(Bytes((ulong)type, 0));
        Assert.False(result.IsOk);
        Assert.Equal("type", result.Error!.Value.Field);
    }

    [Fact]
    public void R30_decode_with_a_reserved_bit_set_names_reserved()
    {
        int[] reserved = [10, 11, 12, 13, 14, 15, .. Enumerable.Range(54, 10)];
        foreach (int bit in reserved)
        {
            var result = PageRequestDescriptor.Decode(Bytes(0x01 | (1UL << bit), 0));
            Assert.False(result.IsOk, $"QW0 bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
    }

    [Fact]
    public void R30_decode_never_throws_and_valid_bytes_reencode_identically()
    {
        ulong reserved = (0x3FUL << 10) | (0x3FFUL << 54);
        int valid = RecordChecks.DecodeNeverThrows<PageRequestDescriptor>(PageRequestDescriptor.Size, 0x5EED,
            b => PageRequestDescriptor.Decode(b), (d, b) => d.Encode(b),
            makeValid: b => RecordChecks.SetDw(b, 0, (RecordChecks.Dw(b, 0) & ~reserved & ~0xFFUL) | PageRequestDescriptor.Type));
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
