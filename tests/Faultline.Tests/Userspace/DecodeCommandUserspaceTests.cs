using System.Text.Json;
using Faultline.Cli;

namespace Faultline.Tests.Userspace;

public sealed class DecodeCommandUserspaceTests
{
    // flags 7, dev_id 0x99, pasid 0x800, grpid 2, perm R|W, reserved 0, addr 0xdeadbeaf, length 0, cookie 1
    private const string Fault = "07000000 99000000 00080000 02000000 03000000 00000000 afbeadde00000000 00000000 01000000";

    [Fact]
    public void R49_decode_iommufd_fault_prints_the_uapi_fields()
    {
        var json = CommandLine.DecodeOk("iommufd-fault", Fault);
        Assert.Equal("iommufd-fault", json.GetProperty("record").GetString());
        Assert.Equal(7u, json.GetProperty("flags").GetUInt32());
        Assert.True(json.GetProperty("pasid_valid").GetBoolean());
        Assert.True(json.GetProperty("last_page").GetBoolean());
        Assert.True(json.GetProperty("needs_pasid").GetBoolean());
        Assert.Equal(0x99u, json.GetProperty("dev_id").GetUInt32());
        Assert.Equal(0x800u, json.GetProperty("pasid").GetUInt32());
        Assert.Equal(2u, json.GetProperty("grpid").GetUInt32());
        Assert.Equal(3u, json.GetProperty("perm").GetUInt32());
        Assert.True(json.GetProperty("read").GetBoolean());
        Assert.True(json.GetProperty("write").GetBoolean());
        Assert.False(json.GetProperty("exec").GetBoolean());
        Assert.False(json.GetProperty("priv").GetBoolean());
        Assert.Equal(0u, json.GetProperty("__reserved").GetUInt32());
        Assert.Equal("0xdeadbeaf", json.GetProperty("addr").GetString());
        Assert.Equal(0u, json.GetProperty("length").GetUInt32());
        Assert.Equal(1u, json.GetProperty("cookie").GetUInt32());
    }

    [Theory]
    [InlineData(0u, "SUCCESS", true)]
    [InlineData(1u, "INVALID", true)]
    [InlineData(2u, null, false)]
    public void R47_decode_iommufd_response_prints_cookie_and_code(uint code, string? name, bool accepted)
    {
        var json = CommandLine.DecodeOk("iommufd-response", $"2a000000 0{code}000000");
        Assert.Equal("iommufd-response", json.GetProperty("record").GetString());
        Assert.Equal(42u, json.GetProperty("cookie").GetUInt32());
        Assert.Equal(code, json.GetProperty("code").GetUInt32());
        Assert.Equal(name, json.GetProperty("response").GetString());
        Assert.Equal(accepted, json.GetProperty("accepted_code").GetBoolean());
    }

    [Fact]
    public void BUG4_decode_of_a_record_with_reserved_bytes_set_exits_2_naming_reserved()
    {
        string leaked = Fault.Replace("03000000 00000000", "03000000 00c0ffee", StringComparison.Ordinal);
        var (exit, _, stderr) = CommandLine.Invoke("decode", "iommufd-fault", leaked);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.StartsWith("faultline decode iommufd-fault: reserved: ", stderr);
    }

    [Fact]
    public void R49_unknown_record_message_lists_the_iommufd_records()
    {
        var (_, _, stderr) = CommandLine.Invoke("decode", "iommufd", "00");
        Assert.Contains("iommufd-fault", stderr);
        Assert.Contains("iommufd-response", stderr);
    }
}
