using System.Buffers.Binary;
using Faultline.Iommu.Amd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Amd;

public sealed class CompletePprRequestCommandTests
{
    private static uint[] Words(CompletePprRequestCommand c)
    {
        var bytes = new byte[CompletePprRequestCommand.Size];
        c.Encode(bytes);
        return [.. Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i * 4)))];
    }

    private static byte[] Bytes(uint w0, uint w1, uint w2, uint w3)
    {
        var bytes = new byte[CompletePprRequestCommand.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, w0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), w1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), w2);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), w3);
        return bytes;
    }

    // drivers/iommu/amd/iommu.c build_complete_ppr + CMD_SET_TYPE, transcribed.
    private const uint CMD_COMPLETE_PPR = 0x07, CMD_INV_IOMMU_PAGES_GN_MASK = 0x04, PPR_STATUS_MASK = 0xf;
    private const int PPR_STATUS_SHIFT = 12;

    private static uint[] BuildCompletePpr(ushort devid, uint pasid, int status, int tag, bool gn)
    {
        var data = new uint[4];
        data[0] = devid;
        if (gn)
        {
            data[1] = pasid;
            data[2] = CMD_INV_IOMMU_PAGES_GN_MASK;
        }
        data[3] = (uint)tag & 0x1ff;
        data[3] |= ((uint)status & PPR_STATUS_MASK) << PPR_STATUS_SHIFT;
        data[1] |= CMD_COMPLETE_PPR << 28;
        return data;
    }

    // QEMU hw/i386/amd_iommu.c amdvi_complete_ppr: bits that log an illegal-command error, as (QW, start, length).
    private static readonly (int Qw, int Start, int Length)[] QemuChecked = [(0, 16, 16), (0, 52, 8), (1, 0, 2), (1, 3, 29), (1, 48, 16)];

    [Fact]
    public void AMD_3_complete_ppr_request_bits_match_build_complete_ppr()
    {
        var c = new CompletePprRequestCommand(new RequesterId(0x0210), new Pasid(0x12345), Gn: true, new PrgIndex(0x1AB), ResponseCode.ResponseFailure);

        uint[] expected = [0x0000_0210, 0x7001_2345, 0x0000_0004, 0x0000_F1AB];
        Assert.Equal(expected, Words(c));
        Assert.Equal(expected, BuildCompletePpr(0x0210, 0x12345, 0xF, 0x1AB, gn: true));
        Assert.Equal(c, CompletePprRequestCommand.Decode(Bytes(0x0210, 0x7001_2345, 4, 0xF1AB)).Value);

        var noGn = new CompletePprRequestCommand(new RequesterId(0xFFFF), default, false, new PrgIndex(0x1FF), ResponseCode.InvalidRequest);
        Assert.Equal(BuildCompletePpr(0xFFFF, 0xABCDE, 1, 0x3FF, gn: false), Words(noGn));
        Assert.Equal([0x0000_FFFFu, 0x7000_0000u, 0u, 0x0000_11FFu], Words(noGn));
    }

    [Theory]
    [InlineData(0x0)]
    [InlineData(0x1)]
    [InlineData(0xF)]
    [InlineData(0x2)]
    [InlineData(0x7)]
    [InlineData(0xE)]
    public void AMD_3_status_field_carries_defined_and_reserved_codes(int code)
    {
        var c = new CompletePprRequestCommand(new RequesterId(0x0210), new Pasid(5), true, new PrgIndex(3), (ResponseCode)code);
        uint w3 = Words(c)[3];
        Assert.Equal((uint)code, (w3 >> 12) & 0xF);
        Assert.Equal(BuildCompletePpr(0x0210, 5, code, 3, gn: true), Words(c));
        var decoded = CompletePprRequestCommand.Decode(Bytes(0x0210, 0x7000_0005, 4, w3));
        Assert.True(decoded.IsOk, decoded.Error?.ToString());
        Assert.Equal((ResponseCode)code, decoded.Value.Status);
        Assert.Equal(code is not (0 or 1 or 0xF), decoded.Value.Status.IsReserved());
    }

    [Fact]
    public void AMD_3_round_trip_over_field_combinations()
    {
        ushort[] devids = [0x0000, 0x0210, 0xFFFF];
        uint[] pasids = [0, 1, 0xFFFF, 0x12345, 0xFFFFF];
        ushort[] indexes = [0, 1, 0x1AB, 511];
        var bytes = new byte[CompletePprRequestCommand.Size];
        foreach (var devid in devids)
        foreach (var pasid in pasids)
        foreach (var index in indexes)
        for (int code = 0; code < 16; code++)
        foreach (bool gn in new[] { false, true })
        {
            var c = new CompletePprRequestCommand(new RequesterId(devid), new Pasid(pasid), gn, new PrgIndex(index), (ResponseCode)code);
            c.Encode(bytes);
            var decoded = CompletePprRequestCommand.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(c, decoded.Value);
            if (gn) Assert.Equal(BuildCompletePpr(devid, pasid, code, index, gn), Words(c));
        }
    }

    [Fact]
    public void H_AMD_5_linux_response_masks_the_tag_to_9_bits_and_sends_the_pasid_only_with_gn()
    {
        var entry = new PprLogEntry(new RequesterId(0x0210), new Pasid(0x42), 0x3AB, false, true, false, true, false, true, 1, 0x1000);
        var withGn = CompletePprRequestCommand.ForResponse(entry.DeviceId, entry.Pasid, gn: true, entry.PrgIndex, ResponseCode.Success);
        Assert.Equal(BuildCompletePpr(0x0210, 0x42, 0, entry.Tag, gn: true), Words(withGn));
        Assert.Equal(0x1AB, withGn.Index.Value);

        var withoutGn = CompletePprRequestCommand.ForResponse(entry.DeviceId, entry.Pasid, gn: false, entry.PrgIndex, ResponseCode.ResponseFailure);
        Assert.Equal(BuildCompletePpr(0x0210, 0x42, 0xF, entry.Tag, gn: false), Words(withoutGn));
        Assert.Equal(0u, withoutGn.Pasid.Value);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(32)]
    public void AMD_3_decode_of_wrong_length_names_length(int length)
    {
        var result = CompletePprRequestCommand.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void AMD_3_decode_of_another_opcode_names_opcode()
    {
        for (uint opcode = 0; opcode < 16; opcode++)
        {
            if (opcode == CompletePprRequestCommand.Opcode) continue;
            var result = CompletePprRequestCommand.Decode(Bytes(0x0210, opcode << 28, 0, 0));
            Assert.False(result.IsOk, $"opcode {opcode}");
            Assert.Equal("opcode", result.Error!.Value.Field);
        }
    }

    [Fact]
    public void AMD_3_decode_with_a_reserved_bit_set_names_reserved_covering_every_bit_qemu_checks()
    {
        // Defined bits, as (word, bit): devid w0 15:0, PASID w1 19:0, opcode w1 31:28, GN w2 2, tag w3 8:0, status w3 15:12.
        static bool Defined(int word, int bit) => (word, bit) switch
        {
            (0, < 16) => true,
            (1, < 20) or (1, >= 28) => true,
            (2, 2) => true,
            (3, < 9) or (3, >= 12 and < 16) => true,
            _ => false,
        };
        int reservedCount = 0;
        for (int word = 0; word < 4; word++)
        for (int bit = 0; bit < 32; bit++)
        {
            var words = new uint[] { 0x0210, 0x7000_0000, 0, 0 };
            words[word] |= 1u << bit;
            var result = CompletePprRequestCommand.Decode(Bytes(words[0], words[1], words[2], words[3]));
            if (Defined(word, bit))
            {
                if (word == 1 && bit >= 28) continue; // changes the opcode
                Assert.True(result.IsOk, $"word {word} bit {bit} is a field: {result.Error}");
                continue;
            }
            reservedCount++;
            Assert.False(result.IsOk, $"word {word} bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
        Assert.Equal(128 - 16 - 20 - 4 - 1 - 9 - 4, reservedCount);

        // Every bit QEMU checks is reserved here; the only reserved bits QEMU does not check are word 3 11:9.
        var qemu = new HashSet<int>(QemuChecked.SelectMany(r => Enumerable.Range(r.Qw * 64 + r.Start, r.Length)));
        var ours = new HashSet<int>(Enumerable.Range(0, 128).Where(b => !Defined(b / 32, b % 32)));
        Assert.Subset(ours, qemu);
        Assert.Equal(new[] { 96 + 9, 96 + 10, 96 + 11 }, ours.Except(qemu).Order().ToArray());
    }

    [Fact]
    public void AMD_3_decode_never_throws_and_valid_bytes_reencode_identically()
    {
        uint[] kept = [0xFFFF, 0xF00F_FFFF, 0x4, 0xF1FF];
        int valid = RecordChecks.DecodeNeverThrows<CompletePprRequestCommand>(CompletePprRequestCommand.Size, 0xC0FFEE,
            b => CompletePprRequestCommand.Decode(b), (d, b) => d.Encode(b), makeValid: b =>
            {
                for (int w = 0; w < 4; w++)
                    BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(w * 4), BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(w * 4)) & kept[w]);
                BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(4), (BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(4)) & 0xFFFFF) | 0x7000_0000);
            });
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
