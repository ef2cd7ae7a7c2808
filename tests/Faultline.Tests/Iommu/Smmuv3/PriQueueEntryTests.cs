using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Smmuv3;

public sealed class PriQueueEntryTests
{
    // drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
    private const ulong PRIQ_0_PERM_PRIV = 1UL << 58;
    private const ulong PRIQ_0_PERM_EXEC = 1UL << 59;
    private const ulong PRIQ_0_PERM_READ = 1UL << 60;
    private const ulong PRIQ_0_PERM_WRITE = 1UL << 61;
    private const ulong PRIQ_0_PRG_LAST = 1UL << 62;
    private const ulong PRIQ_0_SSID_V = 1UL << 63;

    private static ulong[] Words(PriQueueEntry e) => Qwords.Of(PriQueueEntry.Size, e.Encode);

    private static byte[] Bytes(ulong dw0, ulong dw1) => Qwords.Bytes(PriQueueEntry.Size, dw0, dw1);

    [Fact]
    public void SMMUV3_2_pri_queue_entry_bits_match_linux_priq_macros()
    {
        var e = new PriQueueEntry(0x8001_0210, SubstreamValid: true, new Pasid(0x12345), Privileged: true, Execute: false,
            Read: true, Write: true, Last: true, new PrgIndex(0x1AB), 0x7FFF_DEAD_B000);

        // FIELD_PREP(PRIQ_0_SID) | FIELD_PREP(PRIQ_0_SSID) | PERM_PRIV | PERM_READ | PERM_WRITE | PRG_LAST | SSID_V
        ulong dw0 = 0x8001_0210UL | (0x12345UL << 32) | PRIQ_0_PERM_PRIV | PRIQ_0_PERM_READ | PRIQ_0_PERM_WRITE | PRIQ_0_PRG_LAST | PRIQ_0_SSID_V;
        // FIELD_PREP(PRIQ_1_PRG_IDX) | addr & PRIQ_1_ADDR_MASK
        ulong dw1 = 0x1ABUL | (0x7FFF_DEAD_B000UL & ~0xFFFUL);
        Assert.Equal(0xF401_2345_8001_0210UL, dw0);
        Assert.Equal(0x0000_7FFF_DEAD_B1ABUL, dw1);
        Assert.Equal([dw0, dw1], Words(e));
        Assert.Equal(e, PriQueueEntry.Decode(Bytes(dw0, dw1)).Value);

        // One bit at a time.
        Assert.Equal([PRIQ_0_PERM_EXEC, 0UL], Words(default(PriQueueEntry) with { Execute = true }));
        Assert.Equal([PRIQ_0_PERM_PRIV, 0UL], Words(default(PriQueueEntry) with { Privileged = true }));
        Assert.Equal([PRIQ_0_PERM_READ, 0UL], Words(default(PriQueueEntry) with { Read = true }));
        Assert.Equal([PRIQ_0_PERM_WRITE, 0UL], Words(default(PriQueueEntry) with { Write = true }));
        Assert.Equal([PRIQ_0_PRG_LAST, 0UL], Words(default(PriQueueEntry) with { Last = true }));
        Assert.Equal([PRIQ_0_SSID_V, 0UL], Words(default(PriQueueEntry) with { SubstreamValid = true }));
        Assert.Equal([0xFFFF_FFFFUL, 0UL], Words(default(PriQueueEntry) with { StreamId = uint.MaxValue }));
        Assert.Equal([0x000F_FFFF_0000_0000UL, 0UL], Words(default(PriQueueEntry) with { SubstreamId = new Pasid(Pasid.Mask) })); // GENMASK_ULL(51, 32)
        Assert.Equal([0UL, 0x1FFUL], Words(default(PriQueueEntry) with { Index = new PrgIndex(PrgIndex.Mask) })); // GENMASK_ULL(8, 0)
        Assert.Equal([0UL, 0xFFFF_FFFF_FFFF_F000UL], Words(default(PriQueueEntry) with { PageAddress = ulong.MaxValue })); // GENMASK_ULL(63, 12)
    }

    [Fact]
    public void SMMUV3_2_stop_marker_is_last_with_neither_read_nor_write()
    {
        // H-PCI-20: a Stop Marker arrives as PRG_LAST = 1, R = W = 0.
        var stop = PriQueueEntry.Decode(Bytes(0x10UL | (5UL << 32) | PRIQ_0_PRG_LAST | PRIQ_0_SSID_V, 7)).Value;
        Assert.True(stop.IsStopMarker);
        Assert.False((stop with { Read = true }).IsStopMarker);
        Assert.False((stop with { Write = true }).IsStopMarker);
        Assert.False((stop with { Last = false }).IsStopMarker);

        var fromMessage = PriQueueEntry.From(PageRequest.StopMarker(new RequesterId(0x0210), new Pasid(5), new PrgIndex(7)), 0x10);
        Assert.True(fromMessage.IsStopMarker);
        Assert.Equal(stop, fromMessage);
    }

    [Fact]
    public void SMMUV3_2_from_page_request_copies_payload_and_prefix()
    {
        var request = new PageRequest(new RequesterId(0x0210), Read: true, Write: false, Last: true, new PrgIndex(0x1AB), 0x7FFF_DEAD_B123,
            new PasidPrefix(new Pasid(0x12345), ExecuteRequested: true, PrivilegedMode: true));
        var e = PriQueueEntry.From(request, 0x0210);
        Assert.Equal(new PriQueueEntry(0x0210, true, new Pasid(0x12345), true, true, true, false, true, new PrgIndex(0x1AB), 0x7FFF_DEAD_B000), e);

        var noPrefix = PriQueueEntry.From(request with { Prefix = null }, 0x0210);
        Assert.False(noPrefix.SubstreamValid);
        Assert.Equal(default, noPrefix.SubstreamId);
        Assert.False(noPrefix.Privileged);
        Assert.False(noPrefix.Execute);
    }

    [Fact]
    public void SMMUV3_2_round_trip_over_field_combinations()
    {
        uint[] sids = [0, 1, 0x0210, 0x8001_0210, uint.MaxValue];
        uint[] ssids = [0, 1, 0x12345, Pasid.Mask];
        ushort[] indexes = [0, 1, 0x1AB, PrgIndex.Mask];
        ulong[] addresses = [0, 0x1000, 0x7FFF_DEAD_B000, 0xFFFF_FFFF_FFFF_F000];
        var bytes = new byte[PriQueueEntry.Size];
        foreach (uint sid in sids)
        foreach (uint ssid in ssids)
        foreach (ushort index in indexes)
        for (int flags = 0; flags < 64; flags++)
        {
            var e = new PriQueueEntry(sid, (flags & 1) != 0, new Pasid(ssid), (flags & 2) != 0, (flags & 4) != 0, (flags & 8) != 0,
                (flags & 16) != 0, (flags & 32) != 0, new PrgIndex(index), addresses[flags % addresses.Length]);
            e.Encode(bytes);
            var decoded = PriQueueEntry.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(e, decoded.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(32)]
    public void SMMUV3_2_decode_of_wrong_length_names_length(int length)
    {
        var result = PriQueueEntry.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
        Assert.Contains($"{length} bytes", result.Error!.Value.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SMMUV3_2_decode_ignores_bits_no_source_defines()
    {
        // DW0 57:52 and DW1 11:9 carry no PRIQ_* field; Linux and QEMU name no reserved bits there.
        foreach (int bit in Enumerable.Range(52, 6))
        {
            var result = PriQueueEntry.Decode(Bytes(1UL << bit, 0));
            Assert.True(result.IsOk, result.Error?.ToString());
            Assert.Equal(default(PriQueueEntry), result.Value);
        }
        foreach (int bit in Enumerable.Range(9, 3))
        {
            var result = PriQueueEntry.Decode(Bytes(0, 1UL << bit));
            Assert.True(result.IsOk, result.Error?.ToString());
            Assert.Equal(default(PriQueueEntry), result.Value);
        }
        Assert.Equal(~(0x3FUL << 52), PriQueueEntry.Dw0Fields);
        Assert.Equal(~(0x7UL << 9), PriQueueEntry.Dw1Fields);
    }

    [Fact]
    public void SMMUV3_2_decode_never_throws_and_decoded_entries_reencode_their_fields()
    {
        int valid = RecordChecks.DecodeNeverThrows(PriQueueEntry.Size, 0x5A1, b => PriQueueEntry.Decode(b), (e, b) => e.Encode(b),
            [PriQueueEntry.Dw0Fields, PriQueueEntry.Dw1Fields]);
        Assert.Equal(RecordChecks.Inputs, valid);
    }
}
