using Faultline.Iommu.Smmuv3;

namespace Faultline.Tests.Iommu.Smmuv3;

/// <summary>CMD_SYNC (H-SMMU-8) and <c>faultline decode smmuv3-cmd</c>, which picks the command by its opcode.</summary>
public sealed class SyncCommandTests
{
    [Fact]
    public void H_SMMU_8_cmd_sync_vector_from_the_linux_masks()
    {
        // CMDQ_SYNC_0_CS = IRQ (13:12), MSH inner shareable 3 (23:22), MSIATTR 0xF (27:24), MSIDATA (63:32); MSIADDR (51:2)
        ulong dw0 = 0x46UL | (1UL << 12) | (3UL << 22) | (0xFUL << 24) | (0xCAFE_F00DUL << 32);
        ulong dw1 = 0x000F_0000_FEE0_0004UL;
        var bytes = Qwords.Bytes(16, dw0, dw1);

        var sync = SyncCommand.Decode(bytes).Value;

        Assert.Equal(new SyncCommand(SyncCompletion.Irq, 3, 0xF, 0xCAFE_F00D, 0x000F_0000_FEE0_0004UL), sync);
        var again = new byte[SyncCommand.Size];
        sync.Encode(again);
        Assert.Equal(bytes, again);
    }

    [Fact]
    public void H_SMMU_8_cmd_sync_decode_never_throws_and_names_bad_fields()
    {
        int decoded = RecordChecks.DecodeNeverThrows(SyncCommand.Size, 0x46, b => SyncCommand.Decode(b), (c, b) => c.Encode(b),
            [SyncCommand.Dw0Fields, SyncCommand.Dw1Fields],
            b => RecordChecks.SetDw(b, 0, (RecordChecks.Dw(b, 0) & ~(0xFFUL | (1UL << 13))) | 0x46));
        Assert.True(decoded >= RecordChecks.Inputs / 2);
        Assert.Equal("cs", SyncCommand.Decode(Qwords.Bytes(16, 0x46UL | (3UL << 12), 0)).Error!.Value.Field);
        Assert.Equal("opcode", SyncCommand.Decode(Qwords.Bytes(16, 0x44UL, 0)).Error!.Value.Field);
    }

    [Theory]
    [InlineData(0x41UL, "smmuv3-pri-resp")]
    [InlineData(0x44UL | (1UL << 12), "smmuv3-resume")]
    [InlineData(0x45UL, "smmuv3-stall-term")]
    [InlineData(0x46UL, "smmuv3-sync")]
    public void Decode_smmuv3_cmd_dispatches_on_the_opcode(ulong dw0, string record)
    {
        var json = CommandLine.DecodeOk("smmuv3-cmd", CommandLine.Hex(dw0, 0));
        Assert.Equal(record, json.GetProperty("record").GetString());
    }

    [Fact]
    public void Decode_smmuv3_cmd_names_an_opcode_it_does_not_model()
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", "smmuv3-cmd", CommandLine.Hex(0x01UL, 0)); // CMD_PREFETCH_CONFIG
        Assert.Equal(Faultline.Cli.ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains("smmuv3-cmd: opcode: 0x01 is not a command Faultline models", stderr, StringComparison.Ordinal);
    }
}
