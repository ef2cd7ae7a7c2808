using Faultline.Simulation.Traces;

namespace Faultline.Tests.Traces;

/// <summary>What <c>check</c> makes of small hand-written captures: each rule it checks, and the prq.c line order.</summary>
public class TraceCheckerTests
{
    private static string Request(double t, int index, bool last, int seq, int rid = 0x10, int pasid = 1) =>
        $"  irq/40-dmar0-pr-100     [000] d.... {t:0.000000}: prq_report: dmar0/nic0 seq# {seq}: rid=0x{rid:x} addr=0x1000{index:x} r---{(last ? 'l' : '-')} pasid=0x{pasid:x} index=0x{index:x}";

    private static string Response(double t, int index, int code = 0, bool last = true, int rid = 0x10, int pasid = 1) =>
        $"    kworker/u4:1-200     [001] ..... {t:0.000000}: qi_submit: page_grp_resp dmar0: 0x{0x9UL | 0x10 | ((ulong)code << 12) | ((ulong)rid << 16) | ((ulong)pasid << 32):x} 0x{(last ? 4UL : 0) | ((ulong)index << 3):x} 0x0 0x0";

    private static CheckReport Check(params string[] lines) => TraceChecker.Check(new StringReader(string.Join("\n", lines)));

    [Fact]
    public void Answered_groups_break_nothing_and_their_latency_is_from_the_last_request()
    {
        var report = Check(Request(1.0, 3, false, 0), Request(1.000010, 3, true, 1), Response(1.000050, 3));
        Assert.False(report.HasViolations);
        var nic0 = Assert.Single(report.Devices);
        Assert.Equal(1, nic0.Groups);
        Assert.Equal(1, nic0.ResponsesSuccess);
        Assert.Equal(40_000, nic0.Latency.MaxNs);
    }

    [Fact]
    public void A_second_response_for_a_group_is_an_H_PCI_10_violation()
    {
        var report = Check(Request(1.0, 3, true, 0), Response(1.00001, 3), Response(1.00002, 3));
        Assert.Equal(1, report.ViolationCounts["H-PCI-10"]);
        Assert.Equal(1, report.Devices[0].Duplicates);
    }

    [Fact]
    public void A_group_never_answered_is_an_R8_violation_located_at_its_first_request()
    {
        var report = Check(Request(1.0, 3, false, 0), Request(1.1, 3, true, 1), Request(1.2, 4, true, 2), Response(1.3, 4));
        Assert.Equal(1, report.ViolationCounts["R8"]);
        var finding = Assert.Single(report.Findings, f => f.Violation);
        Assert.Equal(1, finding.Line);
        Assert.Equal("nic0", finding.Device);
    }

    [Fact]
    public void A_response_traced_just_before_its_own_request_matches_it_as_prq_c_orders_them()
    {
        // R10: with no handler the framework answers inside the report, before prq_report is traced.
        var report = Check(Response(1.0, 3, code: 1), Request(1.0, 3, true, 0));
        Assert.False(report.HasViolations);
        Assert.Equal(1, report.Devices[0].Groups);
        Assert.Equal(1, report.Devices[0].ResponsesInvalid);
    }

    [Fact]
    public void Answering_every_request_of_a_group_draws_one_unexpected_response_per_later_request()
    {
        // Linux's no-handler path (R10, POL-1): three requests, three responses; the function matches the first.
        var report = Check(
            Response(1.0, 5, 1, last: false), Request(1.0, 5, false, 0),
            Response(1.0, 5, 1, last: false), Request(1.0, 5, false, 1),
            Response(1.0, 5, 1, last: true), Request(1.0, 5, true, 2));
        Assert.Equal(2, report.ViolationCounts["H-PCI-10"]);
        Assert.Equal(1, report.Devices[0].NonLastResponses);
        Assert.Contains(report.Findings, f => f.Rule == "R10" && !f.Violation);
    }

    [Fact]
    public void A_response_to_a_request_the_capture_never_showed_is_a_warning_not_a_violation()
    {
        var report = Check(Request(1.0, 1, true, 0), Response(1.1, 1), Response(2.0, 9, code: 1));
        Assert.False(report.HasViolations);
        Assert.Equal(1, report.Devices[0].UnreportedAnswered);
    }

    [Fact]
    public void Gaps_in_the_sequence_numbers_are_reported()
    {
        var report = Check(Request(1.0, 1, true, 0), Request(1.1, 2, true, 5), Response(1.2, 1), Response(1.3, 2));
        Assert.Equal(1, report.Iommus.Single().SequenceGaps);
    }

    [Fact]
    public void After_a_VT_d_overflow_a_group_without_its_last_request_is_taken_as_auto_answered()
    {
        var report = Check(Request(1.0, 1, false, 0), "[    1.100000] DMAR: IOMMU: dmar0: PRQ overflow detected", "[    1.100001] DMAR: IOMMU: dmar0: PRQ overflow cleared");
        Assert.False(report.HasViolations);
        Assert.Contains(report.Findings, f => f.Rule == "H-VTD-5");
    }

    [Fact]
    public void A_PRI_reset_voids_the_functions_outstanding_groups()
    {
        var report = Check(Request(1.0, 1, false, 0), "[    2.000000] faultline: nic0: PRI reset after the domain change (POL-9): 1 credits back");
        Assert.False(report.HasViolations);
    }

    [Fact]
    public void An_smmuv3_PRI_line_for_a_last_request_is_answered_by_the_driver()
    {
        var report = Check(
            "[    5.000001] arm-smmu-v3 smmu0: \tsid 0x00000200.0x00001: [3] unprivileged R access at iova 0x0000000010002000",
            "[    5.000002] arm-smmu-v3 smmu0: \tsid 0x00000200.0x00001: [3L] unprivileged R access at iova 0x0000000010003000");
        Assert.False(report.HasViolations);
        Assert.Equal(1, report.Devices.Single().ResponsesInvalid);
    }

    [Fact]
    public void A_drain_out_of_R33s_order_is_a_violation()
    {
        const string fence = "0x45", drainWait = "0xa5"; // inv_wait: FN; SW + PD
        string Qi(double t, string type, string qw0) => $"kworker/u4:1-200 [001] ..... {t:0.000000}: qi_submit: {type} dmar0: {qw0} 0x0 0x0 0x0";
        var inOrder = Check(Qi(1, "inv_wait", fence), Qi(1, "p_iotlb_inv", "0x100000006"), Qi(1, "p_dev_tlb_inv", "0x100100008"), Qi(1, "inv_wait", drainWait));
        Assert.False(inOrder.HasViolations);
        Assert.Equal(1, inOrder.Iommus.Single().Drains);
        var swapped = Check(Qi(1, "inv_wait", fence), Qi(1, "p_dev_tlb_inv", "0x100100008"), Qi(1, "p_iotlb_inv", "0x100000006"), Qi(1, "inv_wait", drainWait));
        Assert.True(swapped.ViolationCounts["R33"] >= 1);
    }
}
