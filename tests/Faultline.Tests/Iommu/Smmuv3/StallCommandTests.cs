using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Smmuv3;

public sealed class StallCommandTests
{
    // drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h
    private const ulong CMDQ_OP_RESUME = 0x44;
    private const ulong CMDQ_RESUME_0_RESP_TERM = 0, CMDQ_RESUME_0_RESP_RETRY = 1, CMDQ_RESUME_0_RESP_ABORT = 2;
    private const int CMDQ_RESUME_0_RESP_SHIFT = 12; // GENMASK_ULL(13, 12)
    private const int CMDQ_RESUME_0_SID_SHIFT = 32;  // GENMASK_ULL(63, 32)
    // QEMU hw/arm/smmuv3-internal.h: SMMU_CMD_RESUME = 0x44, SMMU_CMD_STALL_TERM (0x45), SMMU_CMD_SYNC (0x46).
    private const ulong SMMU_CMD_STALL_TERM = 0x45;

    private static ulong[] Words(ResumeCommand c) => Qwords.Of(ResumeCommand.Size, c.Encode);

    private static ulong[] Words(StallTerminateCommand c) => Qwords.Of(StallTerminateCommand.Size, c.Encode);

    private static byte[] Bytes(ulong dw0, ulong dw1) => Qwords.Bytes(Smmuv3Command.Size, dw0, dw1);

    [Fact]
    public void H_SMMU_6_resume_bits_match_linux_cmdq_resume_macros()
    {
        var c = new ResumeCommand(0x8001_0210, ResumeAction.Abort, 0xBEEF);

        ulong dw0 = CMDQ_OP_RESUME | (CMDQ_RESUME_0_RESP_ABORT << CMDQ_RESUME_0_RESP_SHIFT) | (0x8001_0210UL << CMDQ_RESUME_0_SID_SHIFT);
        ulong dw1 = 0xBEEF; // CMDQ_RESUME_1_STAG = GENMASK_ULL(15, 0)
        Assert.Equal(0x8001_0210_0000_2044UL, dw0);
        Assert.Equal([dw0, dw1], Words(c));
        Assert.Equal(c, ResumeCommand.Decode(Bytes(dw0, dw1)).Value);

        Assert.Equal([CMDQ_OP_RESUME | (CMDQ_RESUME_0_RESP_TERM << 12), 0UL], Words(new ResumeCommand(0, ResumeAction.Terminate, 0)));
        Assert.Equal([CMDQ_OP_RESUME | (CMDQ_RESUME_0_RESP_RETRY << 12), 0xFFFFUL], Words(new ResumeCommand(0, ResumeAction.Retry, 0xFFFF)));
        Assert.Equal([CMDQ_OP_RESUME | 0xFFFF_FFFF_0000_0000UL, 0UL], Words(new ResumeCommand(uint.MaxValue, ResumeAction.Terminate, 0)));
    }

    [Theory]
    [InlineData(ResumeAction.Terminate, 0, 0)]
    [InlineData(ResumeAction.Retry, 1, 0)]
    [InlineData(ResumeAction.Abort, 0, 1)]
    public void H_SMMU_6_resume_action_is_qemus_ac_and_ab_bits(ResumeAction action, int ac, int ab)
    {
        // QEMU: CMD_RESUME_AC(x) = extract32(word[0], 12, 1), CMD_RESUME_AB(x) = extract32(word[0], 13, 1).
        ulong dw0 = Words(new ResumeCommand(7, action, 1))[0];
        Assert.Equal((ulong)ac, (dw0 >> 12) & 1);
        Assert.Equal((ulong)ab, (dw0 >> 13) & 1);
        Assert.Equal(7UL, dw0 >> 32); // CMD_SID(x) = word[1]
    }

    [Fact]
    public void H_SMMU_6_resume_round_trip_over_field_combinations()
    {
        uint[] sids = [0, 1, 0x0210, 0x8001_0210, uint.MaxValue];
        ushort[] stags = [0, 1, 0xBEEF, 0xFFFF];
        var bytes = new byte[ResumeCommand.Size];
        foreach (uint sid in sids)
        foreach (ushort stag in stags)
        foreach (var action in new[] { ResumeAction.Terminate, ResumeAction.Retry, ResumeAction.Abort })
        {
            var c = new ResumeCommand(sid, action, stag);
            c.Encode(bytes);
            Assert.Equal(ResumeCommand.Opcode, Smmuv3Command.OpcodeOf(bytes).Value);
            var decoded = ResumeCommand.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(c, decoded.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(17)]
    public void H_SMMU_6_decode_of_wrong_length_names_length(int length)
    {
        Assert.Equal("length", ResumeCommand.Decode(new byte[length]).Error!.Value.Field);
        Assert.Equal("length", StallTerminateCommand.Decode(new byte[length]).Error!.Value.Field);
        Assert.Equal("length", Smmuv3Command.OpcodeOf(new byte[Math.Min(length, 7)]).Error!.Value.Field);
    }

    [Fact]
    public void H_SMMU_6_decode_of_another_opcode_names_opcode()
    {
        for (ulong opcode = 0; opcode < 256; opcode++)
        {
            var resume = ResumeCommand.Decode(Bytes(opcode, 0));
            Assert.Equal(opcode == 0x44, resume.IsOk);
            if (!resume.IsOk) Assert.Equal("opcode", resume.Error!.Value.Field);
            var term = StallTerminateCommand.Decode(Bytes(opcode, 0));
            Assert.Equal(opcode == 0x45, term.IsOk);
            if (!term.IsOk) Assert.Equal("opcode", term.Error!.Value.Field);
        }
    }

    [Fact]
    public void H_SMMU_6_decode_of_action_3_names_action()
    {
        var result = ResumeCommand.Decode(Bytes(CMDQ_OP_RESUME | (3UL << 12), 0));
        Assert.False(result.IsOk);
        Assert.Equal("action", result.Error!.Value.Field);
        Assert.Contains("DW0[13:12] is 3", result.Error!.Value.Message, StringComparison.Ordinal);
        Assert.False(((ResumeAction)3).IsDefined());
    }

    [Fact]
    public void H_SMMU_6_stall_term_bits_match_qemu_cmd_stall_term()
    {
        var c = new StallTerminateCommand(0x8001_0210);
        ulong dw0 = SMMU_CMD_STALL_TERM | (0x8001_0210UL << 32); // CMD_TYPE 7:0, CMD_SID word[1]
        Assert.Equal(0x8001_0210_0000_0045UL, dw0);
        Assert.Equal([dw0, 0UL], Words(c));
        Assert.Equal(c, StallTerminateCommand.Decode(Bytes(dw0, 0)).Value);
        Assert.Equal(Smmuv3Command.ResumeOpcode + 1, StallTerminateCommand.Opcode);
        Assert.Equal(StallTerminateCommand.Opcode + 1, Smmuv3Command.SyncOpcode); // Linux CMDQ_OP_CMD_SYNC 0x46

        foreach (uint sid in new uint[] { 0, 1, 0x0210, uint.MaxValue })
        {
            var bytes = new byte[StallTerminateCommand.Size];
            new StallTerminateCommand(sid).Encode(bytes);
            Assert.Equal(new StallTerminateCommand(sid), StallTerminateCommand.Decode(bytes).Value);
        }
    }

    [Fact]
    public void H_SMMU_6_decode_ignores_bits_no_source_defines()
    {
        Assert.Equal(new ResumeCommand(0, ResumeAction.Retry, 0),
            ResumeCommand.Decode(Bytes(CMDQ_OP_RESUME | (1UL << 12) | 0xFFFF_C000UL | (0x7UL << 8), 0xFFFF_FFFF_FFFF_0000UL)).Value);
        Assert.Equal(new StallTerminateCommand(0), StallTerminateCommand.Decode(Bytes(SMMU_CMD_STALL_TERM | 0xFFFF_FF00UL, ulong.MaxValue)).Value);
    }

    [Fact]
    public void H_SMMU_6_decode_never_throws_and_decoded_commands_reencode_their_fields()
    {
        int resumes = RecordChecks.DecodeNeverThrows(ResumeCommand.Size, 0x44, b => ResumeCommand.Decode(b), (c, b) => c.Encode(b),
            [ResumeCommand.Dw0Fields, ResumeCommand.Dw1Fields],
            b =>
            {
                ulong dw0 = (RecordChecks.Dw(b, 0) & ~0xFFUL) | CMDQ_OP_RESUME;
                if (((dw0 >> 12) & 3) == 3) dw0 &= ~(1UL << 13);
                RecordChecks.SetDw(b, 0, dw0);
            });
        Assert.True(resumes >= RecordChecks.Inputs / 2);

        int terms = RecordChecks.DecodeNeverThrows(StallTerminateCommand.Size, 0x45, b => StallTerminateCommand.Decode(b), (c, b) => c.Encode(b),
            [StallTerminateCommand.Dw0Fields, StallTerminateCommand.Dw1Fields],
            b => RecordChecks.SetDw(b, 0, (RecordChecks.Dw(b, 0) & ~0xFFUL) | SMMU_CMD_STALL_TERM));
        Assert.True(terms >= RecordChecks.Inputs / 2);
    }
}
