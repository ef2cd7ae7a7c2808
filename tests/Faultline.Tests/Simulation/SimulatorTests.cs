using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

public class SimulatorTests
{
    [Fact]
    public void Default_run_holds_every_invariant_and_shows_invalid_requests_and_multi_page_groups()
    {
        var report = Simulator.Run(ScenarioReader.Default());

        Assert.True(report.Quiesced);
        Assert.Empty(report.Invariants);
        Assert.Empty(report.InvariantCounts);
        Assert.True(report.Devices.Count >= 2, "at least two PRI functions");
        Assert.All(report.Devices, d => Assert.True(d.Pasids.Count >= 2, $"{d.Name} has several PASIDs"));
        Assert.Contains(report.Devices, d => d.ResponsesInvalid > 0); // writes into the read-only mapping
        Assert.All(report.Devices, d => Assert.True(d.PageRequests > d.Groups, $"{d.Name} sends multi-page groups"));
        Assert.All(report.Devices, d => Assert.Equal(d.AccessesStarted, d.AccessesCompleted + d.AccessesFailed.Values.Sum()));
        // Every stall is a one-fault group (R36): the framework's groups are the functions' and the stalls.
        Assert.Equal(report.Framework.Groups, report.Devices.Sum(d => d.Groups) + report.Iommus.Sum(i => i.Stall?.Stalls ?? 0));
        Assert.True(report.Masters.Count >= 1, "a stall master behind an SMMUv3");
        Assert.All(report.Masters, m => Assert.Equal(m.Accesses, m.Completed + m.Aborted + m.TerminatedRazWi));
        Assert.Contains(report.Iommus, i => i.Stall is { Stalls: > 0 } st && st.ResumedRetry > 0);
        Assert.Equal(report.Framework.Groups, report.Framework.ResponsesSuccess + report.Framework.ResponsesInvalid + report.Framework.ResponsesFailure);
        Assert.True(report.FaultLatency.P50Ns > 0 && report.FaultLatency.P50Ns <= report.FaultLatency.P99Ns && report.FaultLatency.P99Ns <= report.FaultLatency.MaxNs);
    }

    [Fact]
    public void Same_scenario_and_seed_give_byte_identical_json_and_summary()
    {
        var a = Simulator.Run(ScenarioReader.Default());
        var b = Simulator.Run(ScenarioReader.Default());
        Assert.Equal(JsonReportWriter.Serialize(a), JsonReportWriter.Serialize(b));
        Assert.Equal(Summary(a), Summary(b));
    }

    [Fact]
    public void Another_seed_gives_another_run()
    {
        var a = Simulator.Run(ScenarioReader.Default(), seed: 1);
        var b = Simulator.Run(ScenarioReader.Default(), seed: 2);
        Assert.NotEqual(JsonReportWriter.Serialize(a), JsonReportWriter.Serialize(b));
        Assert.Equal(2UL, b.Seed);
    }

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void Default_run_is_clean_under_both_policies(string policy)
    {
        var report = Simulator.Run(ScenarioReader.Default(), policy: policy);
        Assert.Equal(policy, report.Policy);
        Assert.Empty(report.InvariantCounts);
    }

    [Fact]
    public void H_VTD_5_without_auto_response_a_full_queue_leaves_functions_waiting_and_the_checker_names_it()
    {
        var report = Scenarios.Run(Scenarios.Burst("none"));

        var iommu = Assert.Single(report.Iommus);
        Assert.True(iommu.DiscardedFull + iommu.DiscardedWhileOverflowed > 0, "the burst overflows the ring");
        Assert.Equal(0, iommu.AutoResponses);
        Assert.True(report.InvariantCounts.TryGetValue("R8", out long hung) && hung > 0, "groups that lost their last request are never answered");
        Assert.Contains(report.Invariants, v => v.Rule == "R8" && v.Message.Contains("still outstanding", StringComparison.Ordinal));
    }

    [Fact]
    public void H_VTD_5_with_success_auto_response_every_group_is_answered()
    {
        var report = Scenarios.Run(Scenarios.Burst("success"));

        var iommu = Assert.Single(report.Iommus);
        Assert.True(iommu.AutoResponses > 0);
        Assert.True(iommu.OverflowsCleared > 0, "R32: the driver clears PRO once the ring is empty");
        Assert.Empty(report.InvariantCounts);
        Assert.All(report.Devices, d => Assert.Equal(d.AccessesStarted, d.AccessesCompleted + d.AccessesFailed.Values.Sum()));
    }

    [Fact]
    public void H_VTD_14_without_page_drain_support_iopf_is_refused_and_the_summary_says_so()
    {
        var report = Scenarios.Run(Scenarios.Single(iommuExtra: ", page_drain_supported: false"));

        Assert.Contains(report.Notes, n => n.Contains("IOPF refused", StringComparison.Ordinal) && n.Contains("H-VTD-14", StringComparison.Ordinal));
        Assert.Equal(0, Assert.Single(report.Devices).PageRequests);
        Assert.Empty(report.InvariantCounts);
    }

    [Fact]
    public void R34_a_function_that_does_not_require_the_pasid_in_responses_gets_no_pri()
    {
        var report = Scenarios.Run(Scenarios.Single(deviceExtra: ", prg_response_pasid_required: false"));
        Assert.Contains(report.Notes, n => n.Contains("PrgResponsePasidNotRequired", StringComparison.Ordinal));
    }

    private static string Summary(RunReport report)
    {
        var w = new StringWriter();
        SummaryWriter.Write(report, w);
        return w.ToString();
    }

    [Fact]
    public void A_device_without_ats_sends_no_translation_requests_and_completes_its_accesses()
    {
        var report = Scenarios.Run(Scenarios.Single(deviceExtra: ", ats: false"));
        var d = Assert.Single(report.Devices);
        Assert.Equal(0, d.TranslationRequests);
        Assert.Equal(0, d.AtcHits);
        Assert.True(d.PageRequests >= d.AccessesStarted, "every page of every access is a page request");
        Assert.Equal(d.AccessesStarted, d.AccessesCompleted + d.AccessesFailed.Values.Sum());
        Assert.True(d.AccessesCompleted > 0);
        Assert.Empty(report.InvariantCounts);
    }
}
