using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Smmuv3;

public sealed class PriResponseCommandTests
{
    // drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
    private const ulong CMDQ_OP_PRI_RESP = 0x41;
    private const ulong CMDQ_0_SSV = 1UL << 11;
    private const int CMDQ_PRI_0_SSID_SHIFT = 12;   // GENMASK_ULL(31, 12)
    private const int CMDQ_PRI_0_SID_SHIFT = 32;    // GENMASK_ULL(63, 32)
    private const int CMDQ_PRI_1_RESP_SHIFT = 12;   // GENMASK_ULL(13, 12)
    private const ulong PRI_RESP_DENY = 0, PRI_RESP_FAIL = 1, PRI_RESP_SUCC = 2;

    private static ulong[] Words(PriResponseCommand c) => Qwords.Of(PriResponseCommand.Size, c.Encode);

    private static byte[] Bytes(ulong dw0, ulong dw1) => Qwords.Bytes(PriResponseCommand.Size, dw0, dw1);

    [Fact]
    public void SMMUV3_3_pri_resp_bits_match_linux_cmdq_pri_macros()
    {
        var c = new PriResponseCommand(0x8001_0210, SubstreamValid: true, new Pasid(0x12345), new PrgIndex(0x1AB), PriResponse.Success);

        ulong dw0 = CMDQ_OP_PRI_RESP | CMDQ_0_SSV | (0x12345UL << CMDQ_PRI_0_SSID_SHIFT) | (0x8001_0210UL << CMDQ_PRI_0_SID_SHIFT);
        ulong dw1 = 0x1ABUL | (PRI_RESP_SUCC << CMDQ_PRI_1_RESP_SHIFT);
        Assert.Equal(0x8001_0210_1234_5841UL, dw0);
        Assert.Equal(0x21ABUL, dw1);
        Assert.Equal([dw0, dw1], Words(c));
        Assert.Equal(c, PriResponseCommand.Decode(Bytes(dw0, dw1)).Value);

        Assert.Equal([CMDQ_OP_PRI_RESP, PRI_RESP_DENY << 12], Words(default(PriResponseCommand) with { Response = PriResponse.Deny }));
        Assert.Equal([CMDQ_OP_PRI_RESP, PRI_RESP_FAIL << 12], Words(default(PriResponseCommand) with { Response = PriResponse.Fail }));
        Assert.Equal([CMDQ_OP_PRI_RESP | 0x0000_0000_FFFF_F000UL, 0UL], Words(default(PriResponseCommand) with { SubstreamId = new Pasid(Pasid.Mask) }));
        Assert.Equal([CMDQ_OP_PRI_RESP | 0xFFFF_FFFF_0000_0000UL, 0UL], Words(default(PriResponseCommand) with { StreamId = uint.MaxValue }));
        Assert.Equal([CMDQ_OP_PRI_RESP, 0x1FFUL], Words(default(PriResponseCommand) with { Index = new PrgIndex(PrgIndex.Mask) })); // CMDQ_PRI_1_GRPID
        Assert.Equal(0x41, Smmuv3Command.OpcodeOf(Qwords.Bytes(16, Words(c))).Value);
    }

    [Fact]
    public void R38_linux_answers_the_last_request_of_a_group_with_deny_and_ssv_copied()
    {
        // arm_smmu_handle_ppr: if (last) CMD_PRI_RESP { .substream_valid = ssv, .sid, .ssid (IOMMU_NO_PASID without ssv), .grpid, .resp = PRI_RESP_DENY }.
        var withPasid = PriQueueEntry.Decode(Qwords.Bytes(16, 0x10UL | (0x42UL << 32) | (1UL << 62) | (1UL << 63) | (1UL << 60), 0x7FFF_0000_0000UL | 0x1AB)).Value;
        var answer = PriResponseCommand.Answer(withPasid, ResponseCode.InvalidRequest);
        Assert.Equal([CMDQ_OP_PRI_RESP | CMDQ_0_SSV | (0x42UL << 12) | (0x10UL << 32), 0x1ABUL | (PRI_RESP_DENY << 12)], Words(answer));

        // Without SSV the PASID bits of the request are not copied.
        var noPasid = withPasid with { SubstreamValid = false };
        Assert.Equal([CMDQ_OP_PRI_RESP | (0x10UL << 32), 0x1ABUL], Words(PriResponseCommand.Answer(noPasid, ResponseCode.InvalidRequest)));
    }

    [Theory]
    [InlineData(PriResponse.Deny, ResponseCode.InvalidRequest)]
    [InlineData(PriResponse.Fail, ResponseCode.ResponseFailure)]
    [InlineData(PriResponse.Success, ResponseCode.Success)]
    public void SMMUV3_3_resp_values_map_to_and_from_pcie_response_codes(PriResponse response, ResponseCode code)
    {
        Assert.Equal(code, response.ToResponseCode());
        Assert.Equal(response, PriResponses.FromResponseCode(code));
        Assert.True(PriResponses.TryFromResponseCode(code, out var back));
        Assert.Equal(response, back);
        Assert.Equal(code, new PriResponseCommand(1, false, default, default, response).Code);
    }

    [Fact]
    public void SMMUV3_3_reserved_pcie_codes_have_no_resp_value()
    {
        for (int code = 2; code < 0xF; code++)
        {
            Assert.False(PriResponses.TryFromResponseCode((ResponseCode)code, out _));
            Assert.Throws<ArgumentOutOfRangeException>(() => PriResponses.FromResponseCode((ResponseCode)code));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ((PriResponse)3).ToResponseCode());
        Assert.False(((PriResponse)3).IsDefined());
    }

    [Fact]
    public void SMMUV3_3_round_trip_over_field_combinations()
    {
        uint[] sids = [0, 1, 0x0210, 0x8001_0210, uint.MaxValue];
        uint[] ssids = [0, 1, 0x12345, Pasid.Mask];
        ushort[] indexes = [0, 1, 0x1AB, PrgIndex.Mask];
        var bytes = new byte[PriResponseCommand.Size];
        foreach (uint sid in sids)
        foreach (uint ssid in ssids)
        foreach (ushort index in indexes)
        foreach (var response in new[] { PriResponse.Deny, PriResponse.Fail, PriResponse.Success })
        foreach (bool ssv in new[] { false, true })
        {
            var c = new PriResponseCommand(sid, ssv, new Pasid(ssid), new PrgIndex(index), response);
            c.Encode(bytes);
            Assert.Equal(PriResponseCommand.Opcode, Smmuv3Command.OpcodeOf(bytes).Value);
            var decoded = PriResponseCommand.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(c, decoded.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(32)]
    public void SMMUV3_3_decode_of_wrong_length_names_length(int length)
    {
        var result = PriResponseCommand.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void SMMUV3_3_decode_of_another_opcode_names_opcode()
    {
        foreach (ulong opcode in Enumerable.Range(0, 256).Where(o => o != 0x41).Select(o => (ulong)o))
        {
            var result = PriResponseCommand.Decode(Bytes(opcode, 0));
            Assert.False(result.IsOk, $"opcode 0x{opcode:x2} is not CMD_PRI_RESP");
            Assert.Equal("opcode", result.Error!.Value.Field);
        }
    }

    [Fact]
    public void SMMUV3_3_decode_of_resp_3_names_resp()
    {
        // arm_smmu_cmdq_build_cmd refuses any Resp but DENY / FAIL / SUCC (-EINVAL).
        var result = PriResponseCommand.Decode(Bytes(CMDQ_OP_PRI_RESP, 3UL << CMDQ_PRI_1_RESP_SHIFT));
        Assert.False(result.IsOk);
        Assert.Equal("resp", result.Error!.Value.Field);
        Assert.Contains("DW1[13:12] is 3", result.Error!.Value.Message, StringComparison.Ordinal);

        // Encoding an undefined value writes it, so a model can emit what a buggy driver would; it does not decode.
        var bytes = new byte[PriResponseCommand.Size];
        new PriResponseCommand(1, false, default, default, (PriResponse)3).Encode(bytes);
        Assert.Equal("resp", PriResponseCommand.Decode(bytes).Error!.Value.Field);
    }

    [Fact]
    public void SMMUV3_3_decode_ignores_bits_no_source_defines()
    {
        // DW0 10:8, DW1 11:9 and 63:14 carry no CMDQ_PRI_* field (QEMU's unused CMD_RESP would read DW1 12:11).
        foreach (int bit in new[] { 8, 9, 10 })
            Assert.True(PriResponseCommand.Decode(Bytes(CMDQ_OP_PRI_RESP | (1UL << bit), 0)).IsOk);
        foreach (int bit in new[] { 9, 10, 11 }.Concat(Enumerable.Range(14, 50)))
            Assert.Equal(default(PriResponseCommand), PriResponseCommand.Decode(Bytes(CMDQ_OP_PRI_RESP, 1UL << bit)).Value);
    }

    [Fact]
    public void SMMUV3_3_decode_never_throws_and_decoded_commands_reencode_their_fields()
    {
        int valid = RecordChecks.DecodeNeverThrows(PriResponseCommand.Size, 0x41, b => PriResponseCommand.Decode(b), (c, b) => c.Encode(b),
            [PriResponseCommand.Dw0Fields, PriResponseCommand.Dw1Fields],
            b =>
            {
                RecordChecks.SetDw(b, 0, (RecordChecks.Dw(b, 0) & ~0xFFUL) | CMDQ_OP_PRI_RESP);
                if (((RecordChecks.Dw(b, 1) >> 12) & 3) == 3) RecordChecks.SetDw(b, 1, RecordChecks.Dw(b, 1) & ~(1UL << 12));
            });
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
