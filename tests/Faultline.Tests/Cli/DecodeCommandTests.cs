using System.Text.Json;
using Faultline.Cli;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Cli;

public sealed class DecodeCommandTests
{
    private static string Hex(ulong qw0, ulong qw1, ulong qw2 = 0, ulong qw3 = 0) => CommandLine.Hex(qw0, qw1, qw2, qw3);

    [Fact]
    public void R30_decode_vtd_page_request_prints_the_spec_fields()
    {
        ulong qw0 = 0x01UL | (1UL << 8) | (0x0210UL << 16) | (0x12345UL << 32) | (1UL << 52);
        ulong qw1 = (1UL << 1) | (1UL << 2) | (0x1ABUL << 3) | (0x7_FFFD_EADBUL << 12);

        var json = CommandLine.DecodeOk("vtd-page-request", Hex(qw0, qw1));

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

        var json = CommandLine.DecodeOk("vtd-page-request", spaced);

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

        var json = CommandLine.DecodeOk("vtd-page-group-response", Hex(qw0, qw1));

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

    [Fact]
    public void R33_decode_vtd_invalidation_wait_prints_the_linux_fields()
    {
        // qi_submit_sync with QI_OPT_WAIT_DRAIN: STATUS_DATA(QI_DONE) | STATUS_WRITE | TYPE | PRQ_DRAIN, status address in QW1.
        ulong qw0 = 0x5UL | (1UL << 5) | (1UL << 7) | (2UL << 32);

        var json = CommandLine.DecodeOk("vtd-invalidation-wait", Hex(qw0, 0x1_2345_6788));

        Assert.Equal("vtd-invalidation-wait", json.GetProperty("record").GetString());
        Assert.Equal(5, json.GetProperty("type").GetInt32());
        Assert.False(json.GetProperty("interrupt_flag").GetBoolean());
        Assert.True(json.GetProperty("status_write").GetBoolean());
        Assert.False(json.GetProperty("fence").GetBoolean());
        Assert.True(json.GetProperty("page_request_drain").GetBoolean());
        Assert.Equal(2u, json.GetProperty("status_data").GetUInt32());
        Assert.Equal("0x123456788", json.GetProperty("status_address").GetString());
    }

    [Fact]
    public void R33_decode_vtd_pasid_iotlb_invalidation_prints_the_linux_fields()
    {
        ulong qw0 = 0x6UL | (3UL << 4) | (0xBEEFUL << 16) | (0x12345UL << 32);
        ulong qw1 = 0x7FFF_DEAD_8000UL | (1UL << 6) | 3;

        var json = CommandLine.DecodeOk("vtd-pasid-iotlb-invalidation", Hex(qw0, qw1));

        Assert.Equal("vtd-pasid-iotlb-invalidation", json.GetProperty("record").GetString());
        Assert.Equal(6, json.GetProperty("type").GetInt32());
        Assert.Equal(3, json.GetProperty("granularity").GetInt32());
        Assert.Equal("page-selective-within-pasid", json.GetProperty("granularity_name").GetString());
        Assert.Equal(0xBEEF, json.GetProperty("domain_id").GetInt32());
        Assert.Equal("0x12345", json.GetProperty("pasid").GetString());
        Assert.Equal("0x7fffdead8000", json.GetProperty("address").GetString());
        Assert.Equal(3, json.GetProperty("address_mask").GetInt32());
        Assert.True(json.GetProperty("invalidation_hint").GetBoolean());
    }

    [Fact]
    public void R33_decode_vtd_pasid_devtlb_invalidation_prints_the_linux_fields()
    {
        // The drain's device-TLB invalidation: every address (size order 52), PFSID 0xabcd split over 15:12 and 63:52.
        ulong qw0 = 0x8UL | (5UL << 4) | (0xDUL << 12) | (0x0210UL << 16) | (0x12345UL << 32) | (0xABCUL << 52);
        ulong qw1 = 0x7FFF_FFFF_FFFF_F800UL;

        var json = CommandLine.DecodeOk("vtd-pasid-devtlb-invalidation", Hex(qw0, qw1));

        Assert.Equal("vtd-pasid-devtlb-invalidation", json.GetProperty("record").GetString());
        Assert.Equal(8, json.GetProperty("type").GetInt32());
        Assert.Equal("0x0210", json.GetProperty("sid").GetString());
        Assert.Equal("02:02.0", json.GetProperty("source").GetString());
        Assert.Equal("0x12345", json.GetProperty("pasid").GetString());
        Assert.Equal("0xabcd", json.GetProperty("pfsid").GetString());
        Assert.Equal(5, json.GetProperty("max_invs_pending").GetInt32());
        Assert.False(json.GetProperty("global").GetBoolean());
        Assert.True(json.GetProperty("size").GetBoolean());
        Assert.Equal("0x7ffffffffffff000", json.GetProperty("address").GetString());
        Assert.Equal(52, json.GetProperty("size_order").GetInt32());
    }

    [Theory]
    [InlineData("vtd-invalidation-wait", 0x6UL, 0UL, "type")]
    [InlineData("vtd-invalidation-wait", 0x5UL | (1UL << 9), 0UL, "type")]
    [InlineData("vtd-invalidation-wait", 0x5UL | (1UL << 8), 0UL, "reserved")]
    [InlineData("vtd-invalidation-wait", 0x5UL | (1UL << 5), 0x1002UL, "status_address")]
    [InlineData("vtd-pasid-iotlb-invalidation", 0x5UL, 0UL, "type")]
    [InlineData("vtd-pasid-iotlb-invalidation", 0x26UL | (1UL << 60), 0UL, "reserved")]
    [InlineData("vtd-pasid-iotlb-invalidation", 0x16UL, 0UL, "granularity")]
    [InlineData("vtd-pasid-devtlb-invalidation", 0x9UL, 0UL, "type")]
    [InlineData("vtd-pasid-devtlb-invalidation", 0x8UL, 0x2UL, "reserved")]
    public void R33_decode_of_malformed_invalidation_descriptors_exits_2_naming_the_field(string record, ulong qw0, ulong qw1, string field)
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", record, Hex(qw0, qw1));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"{record}: {field}:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R33_unknown_record_message_lists_the_invalidation_descriptors()
    {
        var (_, _, stderr) = CommandLine.Invoke("decode", "vtd-wait", new string('0', 64));
        Assert.Contains("vtd-invalidation-wait", stderr, StringComparison.Ordinal);
        Assert.Contains("vtd-pasid-iotlb-invalidation", stderr, StringComparison.Ordinal);
        Assert.Contains("vtd-pasid-devtlb-invalidation", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vtd-page-request", 0x00UL, 0UL, "type")]
    [InlineData("vtd-page-request", 0x01UL | (1UL << 60), 0UL, "reserved")]
    [InlineData("vtd-page-group-response", 0x5UL, 0UL, "type")]
    [InlineData("vtd-page-group-response", 0x9UL, 1UL, "reserved")]
    public void R30_decode_of_malformed_fields_exits_2_naming_the_field(string record, ulong qw0, ulong qw1, string field)
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", record, Hex(qw0, qw1));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains($"{record}: {field}:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R30_decode_of_bad_hex_exits_2()
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", "vtd-page-request", "01zz" + new string('0', 60));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains("bad hex", stderr, StringComparison.Ordinal);
        Assert.Contains("'z'", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R30_decode_of_odd_hex_digits_exits_2()
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", "vtd-page-request", new string('0', 63));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains("odd number of hex digits", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R30_decode_of_unknown_record_exits_2_listing_known_ones()
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", "vtd-page-reqest", new string('0', 64));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.Contains("unknown record 'vtd-page-reqest'", stderr, StringComparison.Ordinal);
        Assert.Contains("vtd-page-group-response", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void R30_decode_with_a_missing_argument_exits_2()
    {
        var (exit, _, stderr) = CommandLine.Invoke("decode", "vtd-page-request");
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.NotEqual("", stderr);
    }

    /// <summary>DESIGN rule 3 for every record `faultline decode` knows: a wrong length is bad input, named.</summary>
    [Theory]
    [InlineData("vtd-page-request", 31)]
    [InlineData("vtd-page-request", 33)]
    [InlineData("vtd-page-group-response", 16)]
    [InlineData("vtd-invalidation-wait", 16)]
    [InlineData("vtd-pasid-iotlb-invalidation", 31)]
    [InlineData("vtd-pasid-devtlb-invalidation", 33)]
    [InlineData("smmuv3-pri-entry", 15)]
    [InlineData("smmuv3-pri-resp", 32)]
    [InlineData("smmuv3-event", 16)]
    [InlineData("smmuv3-resume", 17)]
    [InlineData("smmuv3-stall-term", 8)]
    [InlineData("iommufd-fault", 36)]
    [InlineData("iommufd-fault", 41)]
    [InlineData("iommufd-response", 7)]
    [InlineData("iommufd-response", 16)]
    public void Decode_of_a_record_of_the_wrong_length_exits_2_naming_length(string record, int length)
    {
        var (exit, stdout, stderr) = CommandLine.Invoke("decode", record, new string('0', length * 2));
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.Equal("", stdout);
        Assert.StartsWith($"faultline decode {record}: length: ", stderr, StringComparison.Ordinal);
        Assert.Contains($"{length} bytes", stderr, StringComparison.Ordinal);
    }
}
