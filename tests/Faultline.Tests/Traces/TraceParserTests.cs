using Faultline.Pcie;
using Faultline.Simulation.Traces;

namespace Faultline.Tests.Traces;

/// <summary>The layouts <c>check</c> reads (tracefs, <c>trace-cmd report</c>, dmesg) and the kernel's event texts.</summary>
public class TraceParserTests
{
    private const string Prq = "dmar0/0000:00:02.0 seq# 7: rid=0x10 addr=0x7f12a rw--l pasid=0x2 index=0x1f";

    [Theory]
    [InlineData("  irq/45-dmar0-pr-123     [001] d.... 12.345678: prq_report: " + Prq)] // tracefs
    [InlineData("  irq/45-dmar0-pr-123     (    123) [001] d.h1. 12.345678: prq_report: " + Prq)] // record-tgid
    [InlineData("irq/45-dmar0-pr-123   [001]    12.345678: prq_report:        " + Prq)] // trace-cmd report
    [InlineData("  irq/45-dmar0-pr-123     [001] d.... 12.345678: prq_report: " + Prq + "\r")] // CRLF
    [InlineData("       my task-x-9-123     [001] ..... 12.345678: prq_report: " + Prq)] // spaces and dashes in the comm
    public void A_prq_report_line_reads_the_same_in_every_layout(string line)
    {
        var parsed = TraceLineParser.Parse(line, 1);
        Assert.Equal(TraceLineKind.Event, parsed.Kind);
        Assert.Equal(12_345_678_000, parsed.TimeNs);
        Assert.Equal(1, parsed.Cpu);
        var e = CaptureDecoder.Decode(parsed, out bool malformed);
        Assert.False(malformed);
        Assert.Equal(CaptureEventKind.PageRequest, e!.Value.Kind);
        Assert.Equal("dmar0", e.Value.Iommu);
        Assert.Equal("0000:00:02.0", e.Value.Device);
        Assert.Equal((ushort)0x10, e.Value.Requester);
        Assert.Equal(0x7f12a000UL, e.Value.Address);
        Assert.Equal(2u, e.Value.Pasid);
        Assert.Equal((ushort)0x1f, e.Value.Index);
        Assert.True(e.Value.Read && e.Value.Write && e.Value.Last && !e.Value.Execute && !e.Value.Privileged);
        Assert.Equal(7, e.Value.Sequence);
    }

    [Theory]
    [InlineData("version = 6")]
    [InlineData("cpus=2")]
    [InlineData("CPU 1 is empty")]
    [InlineData("# tracer: nop")]
    [InlineData("")]
    [InlineData("   \r")]
    public void Headers_and_blank_lines_are_ignored(string line) => Assert.Equal(TraceLineKind.Ignored, TraceLineParser.Parse(line, 1).Kind);

    [Theory]
    [InlineData("[   12.345678] DMAR: IOMMU: dmar0: PRQ overflow detected", CaptureEventKind.Overflow, "dmar0")]
    [InlineData("  irq/45-dmar0-pr-123     [000] d.... 12.345678: console: DMAR: IOMMU: dmar0: PRQ overflow cleared", CaptureEventKind.OverflowCleared, "dmar0")]
    [InlineData("  kworker/0:1-9   [000] ..... 12.345678: console: [   12.345678] arm-smmu-v3 arm-smmu-v3.0.auto: PRIQ overflow detected -- requests lost", CaptureEventKind.Overflow, "arm-smmu-v3.0.auto")]
    [InlineData("[   12.345678] AMD-Vi: IOMMU PPR log restarting", CaptureEventKind.OverflowCleared, "")]
    public void Kernel_log_lines_of_the_fault_path_are_recognised(string line, CaptureEventKind kind, string iommu)
    {
        var e = CaptureDecoder.Decode(TraceLineParser.Parse(line, 1), out _);
        Assert.Equal(kind, e!.Value.Kind);
        Assert.Equal(iommu, e.Value.Iommu);
        Assert.Equal(12_345_678_000, e.Value.TimeNs);
    }

    [Fact]
    public void An_smmuv3_unexpected_PRI_line_is_a_request_the_driver_denies_if_last()
    {
        var e = CaptureDecoder.Decode(TraceLineParser.Parse(
            "[    5.000001] arm-smmu-v3 arm-smmu-v3.0.auto: \tsid 0x00000200.0x00003: [17L] unprivileged RW access at iova 0x0000000010002000", 1), out _)!.Value;
        Assert.Equal(CaptureEventKind.PageRequest, e.Kind);
        Assert.Equal("sid 0x200", e.Device);
        Assert.Equal(3u, e.Pasid);
        Assert.Equal((ushort)17, e.Index);
        Assert.True(e.Last && e.Read && e.Write && !e.Privileged && e.DeniedByDriver);
        Assert.Equal(0x10002000UL, e.Address);
    }

    [Fact]
    public void A_page_group_response_descriptor_decodes_to_its_requester_index_and_code()
    {
        // QW0: type 9, PASID present, code 1 (Invalid Request), RID 0x10, PASID 2; QW1: LPIG, index 0x1f.
        ulong qw0 = 0x9 | 0x10 | (1UL << 12) | (0x10UL << 16) | (2UL << 32), qw1 = 4 | (0x1fUL << 3);
        var e = CaptureDecoder.Decode(TraceLineParser.Parse($"kworker/u4:1-201 [001] ..... 1.000000: qi_submit: page_grp_resp dmar0: 0x{qw0:x} 0x{qw1:x} 0x0 0x0", 1), out _)!.Value;
        Assert.Equal(CaptureEventKind.Response, e.Kind);
        Assert.Equal((ushort)0x10, e.Requester);
        Assert.Equal((ushort)0x1f, e.Index);
        Assert.Equal(ResponseCode.InvalidRequest, e.Code);
        Assert.True(e.Last && e.HasPasid);
    }

    [Theory]
    [InlineData("  irq/45-dmar0-pr-123     [001] d.... 12.345678: prq_report: dmar0/x seq# 7: rid=0x10 addr=0x7f")] // cut short
    [InlineData("  irq/45-dmar0-pr-123     [001] d.... 12.345678: qi_submit: page_grp_resp dmar0: 0x9 0x4")]
    [InlineData("  irq/45-dmar0-pr-123     [001] d.... 12.345678: qi_submit: inv_wait dmar0: 0x9 0x4 0x0 0x0")] // name and type disagree
    public void A_known_event_with_a_broken_text_is_malformed(string line)
    {
        Assert.Null(CaptureDecoder.Decode(TraceLineParser.Parse(line, 1), out bool malformed));
        Assert.True(malformed);
    }

    [Theory]
    [InlineData("  irq/45-dmar0-pr-123     [001] d.... 12.3456")]
    [InlineData("garbage")]
    [InlineData("[ 12.34 DMAR: no bracket")]
    [InlineData("task-12 [0x1] 1.0: prq_report: x")]
    public void Lines_of_no_known_layout_are_malformed(string line) => Assert.Equal(TraceLineKind.Malformed, TraceLineParser.Parse(line, 1).Kind);

    [Fact]
    public void Lines_of_two_cpus_out_of_time_order_come_out_in_order()
    {
        string text = string.Join("\n",
            "a-1 [000] 3.000000: x: 1",
            "b-2 [001] 1.000000: x: 2",
            "b-2 [001] 2.000000: x: 3",
            "a-1 [000] 4.000000: x: 4");
        var reader = new TraceReader(new StringReader(text));
        Assert.Equal(["2", "3", "1", "4"], reader.Read().Select(l => l.Text));
        Assert.Equal(2, reader.Reordered);
        Assert.Equal(0, reader.LateLines);
    }

    [Fact]
    public void A_line_beyond_the_reorder_window_is_passed_on_late_and_counted()
    {
        var lines = Enumerable.Range(0, 10).Select(i => $"a-1 [000] {i + 10}.000000: x: {i}").Append("b-2 [001] 1.000000: x: late");
        var reader = new TraceReader(new StringReader(string.Join("\n", lines)), window: 4);
        var read = reader.Read().ToList();
        Assert.Equal(11, read.Count);
        Assert.Equal(1, reader.LateLines);
    }
}
