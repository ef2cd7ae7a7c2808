using System.Text.Json;
using Faultline.Cli;

namespace Faultline.Tests.Iommu.Amd;

public sealed class DecodeCommandAmdTests
{
    private static string Hex32(params uint[] words) =>
        Convert.ToHexString([.. words.SelectMany(BitConverter.GetBytes)]);

    [Fact]
    public void AMD_2_decode_amd_ppr_entry_prints_the_linux_fields()
    {
        var json = CommandLine.DecodeOk("amd-ppr-entry", CommandLine.Hex(0x1166_2BAB_BCDE_0210, 0x8000_7FFF_DEAD_B000));

        Assert.Equal("amd-ppr-entry", json.GetProperty("record").GetString());
        Assert.Equal(1, json.GetProperty("type").GetInt32());
        Assert.True(json.GetProperty("page_service_request").GetBoolean());
        Assert.Equal("0x0210", json.GetProperty("device_id").GetString());
        Assert.Equal("02:02.0", json.GetProperty("device").GetString());
        Assert.Equal("0xabcde", json.GetProperty("pasid").GetString());
        Assert.Equal("0x3ab", json.GetProperty("tag").GetString());
        Assert.Equal(0x1AB, json.GetProperty("prg_index").GetInt32());
        Assert.True(json.GetProperty("last").GetBoolean());
        Assert.True(json.GetProperty("execute").GetBoolean());
        Assert.True(json.GetProperty("read").GetBoolean());
        Assert.True(json.GetProperty("write").GetBoolean());
        Assert.True(json.GetProperty("us").GetBoolean());
        Assert.False(json.GetProperty("privileged").GetBoolean());
        Assert.False(json.GetProperty("rvsd").GetBoolean());
        Assert.True(json.GetProperty("gn").GetBoolean());
        Assert.Equal("0x80007fffdeadb000", json.GetProperty("page_address").GetString());
    }

    [Fact]
    public void R35_decode_amd_ppr_entry_of_another_type_succeeds_and_says_so()
    {
        var json = CommandLine.DecodeOk("amd-ppr-entry", CommandLine.Hex(0x2000_0000_0000_0210, 0));
        Assert.Equal(2, json.GetProperty("type").GetInt32());
        Assert.False(json.GetProperty("page_service_request").GetBoolean());
    }

    [Theory]
    [InlineData(0x0, "Success")]
    [InlineData(0x1, "InvalidRequest")]
    [InlineData(0xF, "ResponseFailure")]
    [InlineData(0x2, "Reserved2h")]
    public void AMD_3_decode_amd_complete_ppr_prints_the_build_complete_ppr_fields(int status, string name)
    {
        var json = CommandLine.DecodeOk("amd-complete-ppr", Hex32(0x0210, 0x7001_2345, 0x4, (uint)(status << 12) | 0x1AB));

        Assert.Equal("amd-complete-ppr", json.GetProperty("record").GetString());
        Assert.Equal(7, json.GetProperty("opcode").GetInt32());
        Assert.Equal("0x0210", json.GetProperty("device_id").GetString());
        Assert.Equal("02:02.0", json.GetProperty("device").GetString());
        Assert.Equal("0x12345", json.GetProperty("pasid").GetString());
        Assert.True(json.GetProperty("gn").GetBoolean());
        Assert.Equal(0x1AB, json.GetProperty("prg_index").GetInt32());
        Assert.Equal(status, json.GetProperty("status").GetInt32());
        Assert.Equal(name, json.GetProperty("response").GetString());
    }

    [Theory]
    [InlineData("amd-ppr-entry", "0102", "length")]
    [InlineData("amd-ppr-entry", "100200000000000000000000000000", "length")]
    [InlineData("amd-ppr-entry", "1002000000400110" + "0000000000000000", "reserved")] // QW0 bit 46 and 48
    [InlineData("amd-ppr-entry", "0000000000000010" + "0110000000000000", "reserved")] // QW1 bit 0
    [InlineData("amd-complete-ppr", "10020000", "length")]
    [InlineData("amd-complete-ppr", "10020000" + "00000080" + "00000000" + "00000000", "opcode")]
    [InlineData("amd-complete-ppr", "10020100" + "00000070" + "00000000" + "00000000", "reserved")] // word 0 bit 16
    [InlineData("amd-complete-ppr", "10020000" + "00001070" + "00000000" + "00000000", "reserved")] // word 1 bit 20
    [InlineData("amd-complete-ppr", "10020000" + "00000070" + "01000000" + "00000000", "reserved")] // word 2 bit 0
    [InlineData("amd-complete-ppr", "10020000" + "00000070" + "00000000" + "00020000", "reserved")] // word 3 bit 9
    [InlineData("amd-complete-ppr", "10020000" + "00000070" + "00000000" + "00000100", "reserved")] // word 3 bit 16
    public void AMD_decode_of_malformed_records_exits_2_naming_the_field(string record, string hex, string field)
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", record, hex);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith($"faultline decode {record}: {field}: ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void AMD_unknown_record_message_lists_the_amd_records()
    {
        var (exit, _, stderr) = CommandLine.Invoke("decode", "amd-nothing", "00");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Contains("amd-complete-ppr", stderr, StringComparison.Ordinal);
        Assert.Contains("amd-ppr-entry", stderr, StringComparison.Ordinal);
    }
}
