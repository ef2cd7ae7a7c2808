using System.Buffers.Binary;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

public sealed class PageFaultRecordTests
{
    [Fact]
    public void R49_iommu_hwpt_pgfault_fields_sit_at_the_offsets_of_the_spec_table()
    {
        var record = new PageFaultRecord(PageFaultFlags.PasidValid | PageFaultFlags.LastPage, 0x11223344, 0x00012345, 0x1AB,
            PageFaultPermissions.Read | PageFaultPermissions.Priv, 0x8000_7FFF_DEAD_B000, 0x2000, 0xCAFEF00D);
        var bytes = new byte[PageFaultRecord.Size];
        record.Encode(bytes);

        Assert.Equal(40, PageFaultRecord.Size);
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(0)));
        Assert.Equal(0x11223344u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(0x12345u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(0x1ABu, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(9u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal(0x8000_7FFF_DEAD_B000UL, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(24)));
        Assert.Equal(0x2000u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(0xCAFEF00Du, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(36)));
        Assert.Equal("03000000 44332211 45230100 AB010000 09000000 00000000 00B0ADDEFF7F0080 00200000 0DF0FECA".Replace(" ", ""),
            Convert.ToHexString(bytes));
        Assert.Equal(record, PageFaultRecord.Decode(bytes).Value);
    }

    [Fact]
    public void R49_round_trip_over_field_combinations()
    {
        uint[] words = [0, 1, 0x7FFF_FFFF, 0xFFFF_FFFF];
        ulong[] addresses = [0, 0xdeadbeaf, 0xFFFF_FFFF_FFFF_F000];
        var bytes = new byte[PageFaultRecord.Size];
        foreach (uint w in words)
        foreach (ulong addr in addresses)
        for (uint flags = 0; flags < 8; flags++)
        for (uint perm = 0; perm < 16; perm++)
        {
            var record = new PageFaultRecord((PageFaultFlags)flags, w, w ^ 0x5A5A, ~w, (PageFaultPermissions)perm, addr, w >> 1, w | 1);
            record.Encode(bytes);
            var decoded = PageFaultRecord.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(record, decoded.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(36)] // the v6.11–v6.13 i386 layout
    [InlineData(39)]
    [InlineData(41)]
    [InlineData(80)]
    public void R49_decode_of_wrong_size_names_length(int size)
    {
        var result = PageFaultRecord.Decode(new byte[size]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void BUG4_decode_with_any_reserved_byte_set_names_reserved()
    {
        for (int offset = 20; offset < 24; offset++)
        {
            var bytes = new byte[PageFaultRecord.Size];
            bytes[offset] = 0x80;
            var result = PageFaultRecord.Decode(bytes);
            Assert.False(result.IsOk, $"byte {offset} is __reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
    }

    [Fact]
    public void T20_encode_zeroes_reserved_bytes_even_over_a_dirty_buffer()
    {
        var bytes = Enumerable.Repeat((byte)0xCC, PageFaultRecord.Size).ToArray();
        new PageFaultRecord(PageFaultFlags.LastPage, 1, 0, 2, PageFaultPermissions.Read, 0x1000, 0, 1).Encode(bytes);
        Assert.Equal([0, 0, 0, 0], bytes[20..24]);
        Assert.Equal([0, 0, 0, 0], bytes[32..36]); // length
    }

    [Fact]
    public void R49_decode_never_throws_and_valid_bytes_reencode_identically()
    {
        int valid = RecordChecks.DecodeNeverThrows<PageFaultRecord>(PageFaultRecord.Size, 0x10FD,
            b => PageFaultRecord.Decode(b), (d, b) => d.Encode(b), makeValid: b => b.AsSpan(20, 4).Clear());
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
