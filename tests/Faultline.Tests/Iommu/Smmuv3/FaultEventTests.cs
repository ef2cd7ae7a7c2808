using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Smmuv3;

public sealed class FaultEventTests
{
    // drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
    private const ulong EVTQ_0_SSV = 1UL << 11;
    private const ulong EVTQ_1_STALL = 1UL << 31;
    private const ulong EVTQ_1_PnU = 1UL << 33;
    private const ulong EVTQ_1_InD = 1UL << 34;
    private const ulong EVTQ_1_RnW = 1UL << 35;
    private const ulong EVTQ_1_S2 = 1UL << 39;
    private const ulong EVTQ_3_IPA = 0x000F_FFFF_FFFF_F000UL; // GENMASK_ULL(51, 12)

    private static ulong[] Words(FaultEvent e) => Qwords.Of(FaultEvent.Size, e.Encode);

    private static byte[] Bytes(ulong dw0, ulong dw1, ulong dw2 = 0, ulong dw3 = 0) => Qwords.Bytes(FaultEvent.Size, dw0, dw1, dw2, dw3);

    [Fact]
    public void SMMUV3_4_event_bits_match_linux_evtq_macros()
    {
        var e = new FaultEvent(FaultEvent.TranslationFault, 0x8001_0210, SubstreamValid: true, new Pasid(0x12345), StallTag: 0xBEEF,
            Stall: true, PnU: true, InD: false, RnW: true, S2: false, Class: 1, InputAddress: 0xFFFF_8000_1234_5678, Ipa: 0x1_2345_6000);

        ulong dw0 = 0x10UL | EVTQ_0_SSV | (0x12345UL << 12) | (0x8001_0210UL << 32); // EVTQ_0_ID, EVTQ_0_SSID 31:12, EVTQ_0_SID 63:32
        ulong dw1 = 0xBEEFUL | EVTQ_1_STALL | EVTQ_1_PnU | EVTQ_1_RnW | (1UL << 40);  // EVTQ_1_STAG 15:0, EVTQ_1_CLASS 41:40
        Assert.Equal(0x8001_0210_1234_5810UL, dw0);
        Assert.Equal(0x0000_010A_8000_BEEFUL, dw1);
        Assert.Equal([dw0, dw1, 0xFFFF_8000_1234_5678UL, 0x1_2345_6000UL], Words(e));
        Assert.Equal(e, FaultEvent.Decode(Bytes(dw0, dw1, 0xFFFF_8000_1234_5678, 0x1_2345_6000)).Value);

        Assert.Equal([0UL, EVTQ_1_InD, 0UL, 0UL], Words(default(FaultEvent) with { InD = true }));
        Assert.Equal([0UL, EVTQ_1_S2, 0UL, 0UL], Words(default(FaultEvent) with { S2 = true }));
        Assert.Equal([0UL, 0x3UL << 40, 0UL, 0UL], Words(default(FaultEvent) with { Class = 3 }));
        Assert.Equal([0UL, 0UL, 0UL, EVTQ_3_IPA], Words(default(FaultEvent) with { Ipa = ulong.MaxValue }));
        Assert.Equal([0xFFUL, 0UL, 0UL, 0UL], Words(default(FaultEvent) with { EventId = 0xFF }));
    }

    [Fact]
    public void SMMUV3_4_qemu_event_words_decode_to_the_same_fields()
    {
        // QEMU smmuv3_record_event for F_TRANSLATION..F_PERMISSION, in 32-bit words (hw/arm/smmuv3-internal.h EVT_SET_*).
        var words = new uint[8];
        words[0] = 0x13u | (1u << 11) | (0xABCDEu << 12); // EVT_SET_TYPE 0,8; EVT_SET_SSV 11,1; EVT_SET_SSID 12,20
        words[1] = 0xCAFE_F00D;                           // EVT_SET_SID
        words[2] = 0x1234u | (1u << 31);                  // EVT_SET_STAG 0,16; EVT_SET_STALL 31,1
        words[3] = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 7) | (2u << 8); // PNU 1, IND 2, RNW 3, S2 7, CLASS 8,2
        words[4] = 0x8765_4321; words[5] = 0x0000_FFFF;  // EVT_SET_ADDR
        words[6] = 0x2345_6000; words[7] = 0x0000_0001;  // EVT_SET_ADDR2
        var bytes = words.SelectMany(BitConverter.GetBytes).ToArray();

        var e = FaultEvent.Decode(bytes).Value;

        Assert.Equal(new FaultEvent(FaultEvent.PermissionFault, 0xCAFE_F00D, true, new Pasid(0xABCDE), 0x1234, true, true, true, true, true, 2,
            0x0000_FFFF_8765_4321, 0x1_2345_6000), e);
        var again = new byte[FaultEvent.Size];
        e.Encode(again);
        Assert.Equal(bytes, again);
    }

    [Fact]
    public void SMMUV3_4_ipa_is_bits_51_to_12_of_dw3()
    {
        // QEMU's EVT_SET_ADDR2 writes the whole address; Linux reads EVTQ_3_IPA = GENMASK_ULL(51, 12).
        var e = FaultEvent.Decode(Bytes(0x10, 0, 0, 0xFFFF_FFFF_FFFF_FFFF)).Value;
        Assert.Equal(EVTQ_3_IPA, e.Ipa);
    }

    [Fact]
    public void H_SMMU_5_recoverable_faults_are_event_ids_0x10_to_0x13()
    {
        for (int id = 0; id < 256; id++)
        {
            var e = FaultEvent.Decode(Bytes((ulong)id, 0)).Value;
            Assert.Equal((byte)id, e.EventId);
            Assert.Equal(id is >= 0x10 and <= 0x13, e.IsRecoverableFault);
            Assert.Equal(e.IsRecoverableFault, e.EventName is not null);
        }
        Assert.Equal("F_TRANSLATION", (default(FaultEvent) with { EventId = 0x10 }).EventName);
        Assert.Equal("F_ADDR_SIZE", (default(FaultEvent) with { EventId = 0x11 }).EventName);
        Assert.Equal("F_ACCESS", (default(FaultEvent) with { EventId = 0x12 }).EventName);
        Assert.Equal("F_PERMISSION", (default(FaultEvent) with { EventId = 0x13 }).EventName);
    }

    [Fact]
    public void SMMUV3_4_round_trip_over_field_combinations()
    {
        byte[] ids = [0x01, 0x10, 0x11, 0x12, 0x13, 0x20, 0xFF];
        uint[] ssids = [0, 1, 0x12345, Pasid.Mask];
        ushort[] stags = [0, 1, 0xBEEF, 0xFFFF];
        ulong[] addresses = [0, 0x1234, 0xFFFF_8000_1234_5678, ulong.MaxValue];
        var bytes = new byte[FaultEvent.Size];
        int n = 0;
        foreach (byte id in ids)
        foreach (uint ssid in ssids)
        foreach (ushort stag in stags)
        for (int flags = 0; flags < 64; flags++)
        {
            n++;
            var e = new FaultEvent(id, (uint)(n * 0x9E37_79B9), (flags & 1) != 0, new Pasid(ssid), stag, (flags & 2) != 0, (flags & 4) != 0,
                (flags & 8) != 0, (flags & 16) != 0, (flags & 32) != 0, (byte)(n & 3), addresses[n % 4], addresses[(n / 4) % 4] & EVTQ_3_IPA);
            e.Encode(bytes);
            var decoded = FaultEvent.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(e, decoded.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void SMMUV3_4_decode_of_wrong_length_names_length(int length)
    {
        var result = FaultEvent.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void SMMUV3_4_decode_ignores_bits_laid_out_per_event()
    {
        // DW0 10:8, DW1 30:16 / 32 / 38:36 / 63:42 (e.g. EVTQ_1_TT_READ, bit 44), DW3 11:0 / 63:52: no source reserves them for every id.
        ulong dw1Others = ~FaultEvent.Dw1Fields;
        Assert.Equal(0UL, dw1Others & (0xFFFFUL | (1UL << 31) | (0x7UL << 33) | (1UL << 39) | (0x3UL << 40)));
        Assert.NotEqual(0UL, dw1Others & (1UL << 44));
        var result = FaultEvent.Decode(Bytes(0x10 | (0x7UL << 8), dw1Others, 0, ~EVTQ_3_IPA));
        Assert.True(result.IsOk, result.Error?.ToString());
        Assert.Equal(default(FaultEvent) with { EventId = 0x10 }, result.Value);
    }

    [Fact]
    public void SMMUV3_4_decode_never_throws_and_decoded_events_reencode_their_fields()
    {
        int valid = RecordChecks.DecodeNeverThrows(FaultEvent.Size, 0xE7, b => FaultEvent.Decode(b), (e, b) => e.Encode(b),
            [FaultEvent.Dw0Fields, FaultEvent.Dw1Fields, ulong.MaxValue, EVTQ_3_IPA]);
        Assert.Equal(RecordChecks.Inputs, valid);
    }
}
