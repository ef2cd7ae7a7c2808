using System.Text.Json;
using Faultline.Cli;

namespace Faultline.Tests.Iommu.Smmuv3;

public sealed class DecodeCommandSmmuv3Tests
{
    private static void AssertFails(string record, string hex, string field)
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", record, hex);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"{record}: {field}:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void SMMUV3_2_decode_smmuv3_pri_entry_prints_the_linux_fields()
    {
        // PRIQ_0_SID | PRIQ_0_SSID | PERM_PRIV | PERM_WRITE | PRG_LAST | SSID_V; PRIQ_1_PRG_IDX | ADDR
        ulong dw0 = 0x0000_0210UL | (0x12345UL << 32) | (1UL << 58) | (1UL << 61) | (1UL << 62) | (1UL << 63);
        ulong dw1 = 0x1ABUL | 0x7FFF_DEAD_B000UL;

        var json = CommandLine.DecodeOk("smmuv3-pri-entry", CommandLine.Hex(dw0, dw1));

        Assert.Equal("smmuv3-pri-entry", json.GetProperty("record").GetString());
        Assert.Equal("0x00000210", json.GetProperty("sid").GetString());
        Assert.True(json.GetProperty("ssv").GetBoolean());
        Assert.Equal("0x12345", json.GetProperty("ssid").GetString());
        Assert.True(json.GetProperty("priv").GetBoolean());
        Assert.False(json.GetProperty("exec").GetBoolean());
        Assert.False(json.GetProperty("read").GetBoolean());
        Assert.True(json.GetProperty("write").GetBoolean());
        Assert.True(json.GetProperty("last").GetBoolean());
        Assert.Equal(0x1AB, json.GetProperty("prg_index").GetInt32());
        Assert.Equal("0x7fffdeadb000", json.GetProperty("page_address").GetString());
        Assert.False(json.GetProperty("stop_marker").GetBoolean());

        var stop = CommandLine.DecodeOk("smmuv3-pri-entry", CommandLine.Hex(0x10UL | (1UL << 62), 0));
        Assert.True(stop.GetProperty("stop_marker").GetBoolean());
    }

    [Theory]
    [InlineData(0, "Deny", "InvalidRequest")]
    [InlineData(1, "Fail", "ResponseFailure")]
    [InlineData(2, "Success", "Success")]
    public void SMMUV3_3_decode_smmuv3_pri_resp_prints_the_linux_fields(int resp, string name, string code)
    {
        ulong dw0 = 0x41UL | (1UL << 11) | (0x42UL << 12) | (0x0210UL << 32);
        ulong dw1 = 0x1ABUL | ((ulong)resp << 12);

        var json = CommandLine.DecodeOk("smmuv3-pri-resp", CommandLine.Hex(dw0, dw1));

        Assert.Equal("smmuv3-pri-resp", json.GetProperty("record").GetString());
        Assert.Equal("0x41", json.GetProperty("opcode").GetString());
        Assert.Equal("0x00000210", json.GetProperty("sid").GetString());
        Assert.True(json.GetProperty("ssv").GetBoolean());
        Assert.Equal("0x42", json.GetProperty("ssid").GetString());
        Assert.Equal(0x1AB, json.GetProperty("prg_index").GetInt32());
        Assert.Equal(resp, json.GetProperty("resp").GetInt32());
        Assert.Equal(name, json.GetProperty("response").GetString());
        Assert.Equal(code, json.GetProperty("response_code").GetString());
    }

    [Fact]
    public void SMMUV3_4_decode_smmuv3_event_prints_the_linux_fields()
    {
        ulong dw0 = 0x10UL | (1UL << 11) | (0x12345UL << 12) | (0x0210UL << 32);
        ulong dw1 = 0xBEEFUL | (1UL << 31) | (1UL << 33) | (1UL << 35) | (2UL << 40);

        var json = CommandLine.DecodeOk("smmuv3-event", CommandLine.Hex(dw0, dw1, 0xFFFF_8000_1234_5678, 0x1_2345_6000));

        Assert.Equal("smmuv3-event", json.GetProperty("record").GetString());
        Assert.Equal("0x10", json.GetProperty("event_id").GetString());
        Assert.Equal("F_TRANSLATION", json.GetProperty("event").GetString());
        Assert.True(json.GetProperty("recoverable_fault").GetBoolean());
        Assert.Equal("0x00000210", json.GetProperty("sid").GetString());
        Assert.True(json.GetProperty("ssv").GetBoolean());
        Assert.Equal("0x12345", json.GetProperty("ssid").GetString());
        Assert.Equal("0xbeef", json.GetProperty("stag").GetString());
        Assert.True(json.GetProperty("stall").GetBoolean());
        Assert.True(json.GetProperty("pnu").GetBoolean());
        Assert.False(json.GetProperty("ind").GetBoolean());
        Assert.True(json.GetProperty("rnw").GetBoolean());
        Assert.False(json.GetProperty("s2").GetBoolean());
        Assert.Equal(2, json.GetProperty("class").GetInt32());
        Assert.Equal("0xffff800012345678", json.GetProperty("input_address").GetString());
        Assert.Equal("0x123456000", json.GetProperty("ipa").GetString());

        var other = CommandLine.DecodeOk("smmuv3-event", CommandLine.Hex(0x04, 0, 0, 0)); // C_BAD_STE: decodes, not a recoverable fault
        Assert.Equal(JsonValueKind.Null, other.GetProperty("event").ValueKind);
        Assert.False(other.GetProperty("recoverable_fault").GetBoolean());
    }

    [Theory]
    [InlineData(0, "Terminate")]
    [InlineData(1, "Retry")]
    [InlineData(2, "Abort")]
    public void H_SMMU_6_decode_smmuv3_resume_prints_the_linux_fields(int action, string name)
    {
        var json = CommandLine.DecodeOk("smmuv3-resume", CommandLine.Hex(0x44UL | ((ulong)action << 12) | (0x0210UL << 32), 0xBEEF));

        Assert.Equal("smmuv3-resume", json.GetProperty("record").GetString());
        Assert.Equal("0x44", json.GetProperty("opcode").GetString());
        Assert.Equal("0x00000210", json.GetProperty("sid").GetString());
        Assert.Equal(action, json.GetProperty("action").GetInt32());
        Assert.Equal(name, json.GetProperty("action_name").GetString());
        Assert.Equal("0xbeef", json.GetProperty("stag").GetString());
    }

    [Fact]
    public void H_SMMU_6_decode_smmuv3_stall_term_prints_the_stream()
    {
        var json = CommandLine.DecodeOk("smmuv3-stall-term", CommandLine.Hex(0x45UL | (0x8001_0210UL << 32), 0));

        Assert.Equal("smmuv3-stall-term", json.GetProperty("record").GetString());
        Assert.Equal("0x45", json.GetProperty("opcode").GetString());
        Assert.Equal("0x80010210", json.GetProperty("sid").GetString());
    }

    [Theory]
    [InlineData("smmuv3-pri-resp", 0x44UL, 0UL, "opcode")]
    [InlineData("smmuv3-pri-resp", 0x41UL, 3UL << 12, "resp")]
    [InlineData("smmuv3-resume", 0x41UL, 0UL, "opcode")]
    [InlineData("smmuv3-resume", 0x44UL | (3UL << 12), 0UL, "action")]
    [InlineData("smmuv3-stall-term", 0x46UL, 0UL, "opcode")]
    public void SMMUV3_3_decode_of_malformed_commands_exits_2_naming_the_field(string record, ulong dw0, ulong dw1, string field)
    {
        AssertFails(record, CommandLine.Hex(dw0, dw1), field);
    }

    [Fact]
    public void SMMUV3_1_unknown_record_message_lists_the_smmuv3_records()
    {
        var (exit, _, stderr) = CommandLine.Invoke("decode", "smmuv3-evt", new string('0', 64));
        Assert.Equal(ExitCodes.BadInput, exit);
        foreach (var record in new[] { "smmuv3-pri-entry", "smmuv3-pri-resp", "smmuv3-event", "smmuv3-resume", "smmuv3-stall-term" })
            Assert.Contains(record, stderr, StringComparison.Ordinal);
    }
}
