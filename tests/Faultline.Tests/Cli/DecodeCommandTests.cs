using System.Text.Json;
using Faultline.Cli;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Cli;

public sealed class DecodeCommandTests
{
    private static (int Exit, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Program.Run(args, stdout, stderr);
        return (exit, stdout.ToString(), stderr.ToString());
    }

    private static string Hex(ulong qw0, ulong qw1, ulong qw2 = 0, ulong qw3 = 0) =>
        Convert.ToHexString([.. BitConverter.GetBytes(qw0), .. BitConverter.GetBytes(qw1), .. BitConverter.GetBytes(qw2), .. BitConverter.GetBytes(qw3)]);

    private static JsonElement DecodeOk(string record, string hex)
    {
        var (exit, stdout, stderr) = Run("decode", record, hex);
        Assert.True(exit == ExitCodes.Ok, $"exit {exit}: {stderr}");
        Assert.Equal("", stderr);
        return JsonDocument.Parse(stdout).RootElement.Clone();
    }

    [Fact]
    public void R30_decode_vtd_page_request_prints_the_spec_fields()
    {
        ulong qw0 = 0x01UL | (1UL << 8) | (0x0210UL << 16) | (0x12345UL << 32) | (1UL << 52);
        ulong qw1 = (1UL << 1) | (1UL << 2) | (0x1ABUL << 3) | (0x7_FFFD_EADBUL << 12);

        var json = DecodeOk("vtd-page-request", Hex(qw0, qw1));

        Assert.Equal("vtd-page-request", json.GetProperty("record").GetString());
        Assert.Equal(1, json.GetProperty("type").GetInt32());
        Assert.True(json.GetProperty("pasid_present").GetBoolean());
        Assert.False(json.GetProperty("private_data_present").GetBoolean());
        Assert.Equal("0x0210", json.GetProperty("rid").GetString());
        Assert.Equal("02:02.0", json.GetProperty("requester").GetString());
        Assert.Equal("0x12345", json.GetProperty("pasid").GetString());
        Assert.True(json.GetProperty("execute_requested").GetBoolean());
        Assert.False(json.GetProperty("privileged_mode_requested").GetBoolean());
        Assert.False(json.GetProperty("read_requested").GetBoolean());
        Assert.True(json.GetProperty("write_requested").GetBoolean());
        Assert.True(json.GetProperty("lpig").GetBoolean());
        Assert.Equal(0x1AB, json.GetProperty("prg_index").GetInt32());
        Assert.Equal("0x7fffdeadb000", json.GetProperty("page_address").GetString());
        Assert.False(json.GetProperty("stop_marker").GetBoolean());
    }

    [Fact]
    public void R30_decode_accepts_separators_and_flags_a_stop_marker()
    {
        var bytes = new byte[PageRequestDescriptor.Size];
        new PageRequestDescriptor(new RequesterId(0xFFFF), true, new Pasid(0xFFFFF), false, false, false, false, true, new PrgIndex(511), 0)
            .Encode(bytes);
        string spaced = "0x" + string.Join(' ', bytes.Select(b => b.ToString("x2")));

        var json = DecodeOk("vtd-page-request", spaced);

        Assert.True(json.GetProperty("stop_marker").GetBoolean());
        Assert.Equal("0xfffff", json.GetProperty("pasid").GetString());
        Assert.Equal(511, json.GetProperty("prg_index").GetInt32());
    }

    [Theory]
    [InlineData(0x0, "Success")]
    [InlineData(0x1, "InvalidRequest")]
    [InlineData(0xF, "ResponseFailure")]
    [InlineData(0x2, "Reserved2h")]
    public void R22_decode_vtd_page_group_response_prints_the_spec_fields(int code, string name)
    {
        ulong qw0 = 0x9UL | (1UL << 4) | ((ulong)code << 12) | (0x0210UL << 16) | (0x42UL << 32);
        ulong qw1 = (1UL << 2) | (0x1ABUL << 3);

        var json = DecodeOk("vtd-page-group-response", Hex(qw0, qw1));

        Assert.Equal("vtd-page-group-response", json.GetProperty("record").GetString());
        Assert.Equal(9, json.GetProperty("type").GetInt32());
        Assert.True(json.GetProperty("pasid_present").GetBoolean());
        Assert.Equal(code, json.GetProperty("response_code").GetInt32());
        Assert.Equal(name, json.GetProperty("response").GetString());
        Assert.Equal("0x0210", json.GetProperty("rid").GetString());
        Assert.Equal("0x42", json.GetProperty("pasid").GetString());
        Assert.True(json.GetProperty("lpig").GetBoolean());
        Assert.Equal(0x1AB, json.GetProperty("prg_index").GetInt32());
    }

    [Theory]
    [InlineData("vtd-page-request", 31, "length")]
    [InlineData("vtd-page-request", 33, "length")]
    [InlineData("vtd-page-group-response", 16, "length")]
    public void R30_decode_of_wrong_length_exits_2_naming_length(string record, int length, string field)
    {
        var (exit, stdout, stderr) = Run("decode", record, new string('0', length * 2));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"{field}:", stderr, StringComparison.Ordinal);
        Assert.Contains($"{length} bytes", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vtd-page-request", 0x00UL, 0UL, "type")]
    [InlineData("vtd-page-request", 0x01UL | (1UL << 60), 0UL, "reserved")]
    [InlineData("vtd-page-group-response", 0x5UL, 0UL, "type")]
    [InlineData("vtd-page-group-response", 0x9UL, 1UL, "reserved")]
    public void R30_decode_of_malformed_fields_exits_2_naming_the_field(string record, ulong qw0, ulong qw1, string field)
    {
        var (exit, stdout, stderr) = Run("decode", record, Hex(qw0, qw1));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"{record}: {field}:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R30_decode_of_bad_hex_exits_2()
    {
        var (exit, stdout, stderr) = Run("decode", "vtd-page-request", "01zz" + new string('0', 60));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains("bad hex", stderr, StringComparison.Ordinal);
        Assert.Contains("'z'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R30_decode_of_odd_hex_digits_exits_2()
    {
        var (exit, stdout, stderr) = Run("decode", "vtd-page-request", new string('0', 63));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains("odd number of hex digits", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R30_decode_of_unknown_record_exits_2_listing_known_ones()
    {
        var (exit, stdout, stderr) = Run("decode", "vtd-page-reqest", new string('0', 64));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains("unknown record 'vtd-page-reqest'", stderr, StringComparison.Ordinal);
        Assert.Contains("vtd-page-group-response", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R30_decode_with_a_missing_argument_exits_2()
    {
        var (exit, _, stderr) = Run("decode", "vtd-page-request");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.NotEqual("", stderr);
    }
}
