using System.Buffers.Binary;
using Faultline.Iommu.Amd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Amd;

public sealed class PprLogEntryTests
{
    private static readonly PprLogEntry Empty = new(default, default, 0, false, false, false, false, false, false, 0, 0);

    private static ulong[] Words(PprLogEntry e) => Qwords.Of(PprLogEntry.Size, e.Encode);

    private static byte[] Bytes(ulong qw0, ulong qw1) => Qwords.Bytes(PprLogEntry.Size, qw0, qw1);

    // drivers/iommu/amd/amd_iommu_types.h, transcribed.
    private static ulong PPR_REQ_TYPE(ulong x) => (x >> 60) & 0xf;
    private static ulong PPR_FLAGS(ulong x) => (x >> 48) & 0xfff;
    private static ulong PPR_DEVID(ulong x) => x & 0xffff;
    private static ulong PPR_TAG(ulong x) => (x >> 32) & 0x3ff;
    private static ulong PPR_PASID1(ulong x) => (x >> 16) & 0xffff;
    private static ulong PPR_PASID2(ulong x) => (x >> 42) & 0xf;
    private static ulong PPR_PASID(ulong x) => (PPR_PASID2(x) << 16) | PPR_PASID1(x);
    private const ulong PPR_FLAG_EXEC = 0x002, PPR_FLAG_READ = 0x004, PPR_FLAG_WRITE = 0x020,
        PPR_FLAG_US = 0x040, PPR_FLAG_RVSD = 0x080, PPR_FLAG_GN = 0x100;

    [Fact]
    public void AMD_2_ppr_log_entry_bits_match_linux_ppr_macros()
    {
        var e = new PprLogEntry(new RequesterId(0x0210), new Pasid(0xABCDE), Tag: 0x3AB,
            ExecuteRequested: true, ReadRequested: true, WriteRequested: true, User: true, Rvsd: false, Gn: true,
            RequestType: 1, PageAddress: 0x8000_7FFF_DEAD_B000);

        // type 1 << 60 | flags 0x166 << 48 | PASID[19:16] 0xA << 42 | tag 0x3AB << 32 | PASID[15:0] 0xBCDE << 16 | devid 0x0210
        ulong qw0 = 0x1166_2BAB_BCDE_0210;
        ulong qw1 = 0x8000_7FFF_DEAD_B000;
        Assert.Equal([qw0, qw1], Words(e));
        Assert.Equal(e, PprLogEntry.Decode(Bytes(qw0, qw1)).Value);

        Assert.Equal(0x1UL, PPR_REQ_TYPE(qw0));
        Assert.Equal(PPR_FLAG_EXEC | PPR_FLAG_READ | PPR_FLAG_WRITE | PPR_FLAG_US | PPR_FLAG_GN, PPR_FLAGS(qw0));
        Assert.Equal(0x0210UL, PPR_DEVID(qw0));
        Assert.Equal(0x3ABUL, PPR_TAG(qw0));
        Assert.Equal(0xABCDEUL, PPR_PASID(qw0));
        Assert.Equal(0x1AB, e.PrgIndex.Value);       // iommu_v2: tag & 0x1ff
        Assert.True(e.Last);                          // iommu_v2: (tag >> 9) & 1
        Assert.False(e.PrivilegedModeRequested);      // ppr.c: PRIV iff !(flags & PPR_FLAG_US)
        Assert.True(e.IsPageServiceRequest);          // PPR_REQ_FAULT
    }

    [Fact]
    public void AMD_2_each_field_alone_sets_only_its_own_bits_and_the_macros_read_it_back()
    {
        var cases = new (string Field, PprLogEntry Entry, int Word, ulong Bits)[]
        {
            ("devid", Empty with { DeviceId = new RequesterId(0xFFFF) }, 0, 0xFFFFUL),
            ("pasid[15:0]", Empty with { Pasid = new Pasid(0x0FFFF) }, 0, 0xFFFFUL << 16),
            ("pasid[19:16]", Empty with { Pasid = new Pasid(0xF0000) }, 0, 0xFUL << 42),
            ("tag[8:0]", Empty with { Tag = 0x1FF }, 0, 0x1FFUL << 32),
            ("tag[9] last", Empty with { Tag = 0x200 }, 0, 1UL << 41),
            ("exec", Empty with { ExecuteRequested = true }, 0, PPR_FLAG_EXEC << 48),
            ("read", Empty with { ReadRequested = true }, 0, PPR_FLAG_READ << 48),
            ("write", Empty with { WriteRequested = true }, 0, PPR_FLAG_WRITE << 48),
            ("us", Empty with { User = true }, 0, PPR_FLAG_US << 48),
            ("rvsd", Empty with { Rvsd = true }, 0, PPR_FLAG_RVSD << 48),
            ("gn", Empty with { Gn = true }, 0, PPR_FLAG_GN << 48),
            ("type", Empty with { RequestType = 0xF }, 0, 0xFUL << 60),
            ("page address", Empty with { PageAddress = 0xFFFF_FFFF_FFFF_F000 }, 1, ~0xFFFUL),
        };
        foreach (var (field, entry, word, bits) in cases)
        {
            var expected = new ulong[2];
            expected[word] = bits;
            var words = Words(entry);
            Assert.True(expected.SequenceEqual(words), $"{field}: expected {expected[0]:x16} {expected[1]:x16}, got {words[0]:x16} {words[1]:x16}");
        }
        Assert.Equal(new[] { 49, 50, 53, 54, 55, 56 }, new[] { PPR_FLAG_EXEC, PPR_FLAG_READ, PPR_FLAG_WRITE, PPR_FLAG_US, PPR_FLAG_RVSD, PPR_FLAG_GN }
            .Select(f => 48 + System.Numerics.BitOperations.TrailingZeroCount(f)));
    }

    [Fact]
    public void AMD_2_round_trip_over_field_combinations()
    {
        ushort[] devids = [0x0000, 0x0210, 0xFFFF];
        uint[] pasids = [0, 1, 0xFFFF, 0x10000, 0x12345, 0xFFFFF];
        ushort[] tags = [0, 1, 0x1AB, 0x1FF, 0x200, 0x3FF];
        ulong[] addresses = [0, 0x1000, 0x0000_7FFF_FFFF_F000, 0x8000_0000_0000_0000, 0xFFFF_FFFF_FFFF_F000];
        byte[] types = [0, 1, 2, 0xF];
        var bytes = new byte[PprLogEntry.Size];
        int checkedCount = 0;
        foreach (var devid in devids)
        foreach (var pasid in pasids)
        foreach (var tag in tags)
        foreach (var address in addresses)
        foreach (var type in types)
        for (int flags = 0; flags < 64; flags += (type == 1 ? 1 : 7))
        {
            var e = new PprLogEntry(new RequesterId(devid), new Pasid(pasid), tag, (flags & 1) != 0, (flags & 2) != 0,
                (flags & 4) != 0, (flags & 8) != 0, (flags & 16) != 0, (flags & 32) != 0, type, address);
            e.Encode(bytes);
            var decoded = PprLogEntry.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(e, decoded.Value);
            ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
            Assert.Equal(pasid, (uint)PPR_PASID(qw0));
            Assert.Equal(tag, (ushort)PPR_TAG(qw0));
            checkedCount++;
        }
        Assert.True(checkedCount > 10_000);
    }

    [Fact]
    public void AMD_2_from_page_request_maps_prefix_tag_and_inverts_privileged_into_us()
    {
        var request = new PageRequest(new RequesterId(0x0210), Read: true, Write: false, Last: true, new PrgIndex(0x1AB),
            0x8000_1234_5678_9ABC, new PasidPrefix(new Pasid(0xFFFFF), ExecuteRequested: true, PrivilegedMode: true));
        var e = PprLogEntry.From(request);
        Assert.Equal(new PprLogEntry(new RequesterId(0x0210), new Pasid(0xFFFFF), 0x3AB, true, true, false,
            User: false, Rvsd: false, Gn: true, PprLogEntry.PageServiceRequestType, 0x8000_1234_5678_9000), e);
        Assert.Equal(new PrgIndex(0x1AB), e.PrgIndex);
        Assert.True(e.Last);
        Assert.True(e.PrivilegedModeRequested);
        Assert.Equal(request.PageAddress & PageRequest.PageMask, Words(e)[1]);

        var user = PprLogEntry.From(request with { Last = false, Prefix = new PasidPrefix(new Pasid(5), false, false) });
        Assert.True(user.User);
        Assert.False(user.Last);
        Assert.Equal(0x1AB, user.Tag);

        var noPasid = PprLogEntry.From(request with { Prefix = null });
        Assert.False(noPasid.Gn);
        Assert.Equal(0u, noPasid.Pasid.Value);
        Assert.False(noPasid.ExecuteRequested);
        Assert.True(noPasid.User);
    }

    [Fact]
    public void R35_an_entry_of_another_type_decodes_and_is_not_a_page_service_request()
    {
        for (ulong type = 0; type < 16; type++)
        {
            var result = PprLogEntry.Decode(Bytes((type << 60) | (PPR_FLAG_GN << 48) | 0x0210, 0x1000));
            Assert.True(result.IsOk, result.Error?.ToString());
            Assert.Equal((byte)type, result.Value.RequestType);
            Assert.Equal(type == 1, result.Value.IsPageServiceRequest);
        }
        var zeroed = PprLogEntry.Decode(new byte[PprLogEntry.Size]); // a slot Linux zeroed (errata 733, H-AMD-3)
        Assert.True(zeroed.IsOk);
        Assert.False(zeroed.Value.IsPageServiceRequest);
    }

    [Fact]
    public void H_AMD_4_gn_clear_and_rvsd_decode_so_the_driver_can_answer_failure()
    {
        var noGn = PprLogEntry.Decode(Bytes((1UL << 60) | (PPR_FLAG_READ << 48) | (0x12UL << 32), 0x5000)).Value;
        Assert.False(noGn.Gn);
        Assert.Equal(0x12, noGn.PrgIndex.Value);
        var rvsd = PprLogEntry.Decode(Bytes((1UL << 60) | ((PPR_FLAG_RVSD | PPR_FLAG_GN) << 48) | (0x7UL << 16), 0x5000)).Value;
        Assert.True(rvsd.Rvsd);
        Assert.Equal(7u, rvsd.Pasid.Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(32)]
    public void AMD_2_decode_of_wrong_length_names_length(int length)
    {
        var result = PprLogEntry.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void AMD_2_decode_with_a_bit_no_source_defines_names_reserved()
    {
        int[] qw0Reserved = [46, 47, 48, 51, 52, 57, 58, 59];
        foreach (int bit in qw0Reserved)
        {
            var result = PprLogEntry.Decode(Bytes((1UL << 60) | (1UL << bit), 0));
            Assert.False(result.IsOk, $"QW0 bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
        for (int bit = 0; bit < 12; bit++)
        {
            var result = PprLogEntry.Decode(Bytes(1UL << 60, 1UL << bit));
            Assert.False(result.IsOk, $"QW1 bit {bit} is below the page address");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
        // Every other bit is a field: set alone it decodes.
        for (int bit = 0; bit < 64; bit++)
        {
            if (qw0Reserved.Contains(bit)) continue;
            Assert.True(PprLogEntry.Decode(Bytes(1UL << bit, 0)).IsOk, $"QW0 bit {bit} is a field");
            if (bit >= 12) Assert.True(PprLogEntry.Decode(Bytes(0, 1UL << bit)).IsOk, $"QW1 bit {bit} is address");
        }
    }

    [Fact]
    public void AMD_2_decode_never_throws_and_valid_bytes_reencode_identically()
    {
        ulong qw0Reserved = (0x3UL << 46) | (1UL << 48) | (0x3UL << 51) | (0x7UL << 57);
        int valid = RecordChecks.DecodeNeverThrows<PprLogEntry>(PprLogEntry.Size, 0xA3D,
            b => PprLogEntry.Decode(b), (d, b) => d.Encode(b), makeValid: b =>
            {
                RecordChecks.SetDw(b, 0, RecordChecks.Dw(b, 0) & ~qw0Reserved);
                RecordChecks.SetDw(b, 1, RecordChecks.Dw(b, 1) & ~0xFFFUL);
            });
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
