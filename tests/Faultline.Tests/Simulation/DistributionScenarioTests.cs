using Faultline.Simulation;
using Faultline.Simulation.Distributions;

namespace Faultline.Tests.Simulation;

/// <summary>
/// Issue 11 items 1 and 3 in scenario files: the distribution form of every key, its errors at their place, the
/// one-number form unchanged, the warm-up, and what the new statistics add up to.
/// </summary>
public sealed class DistributionScenarioTests
{
    private static string Text(string host = "", string timing = "", string workload = "", string top = "") => $$"""
        name: dist
        {{top}}
        timing: { link: 250ns{{timing}} }
        host:
          workers: 2
          minor_fault: 2us{{host}}
        iommus:
          - { name: dmar0, prq_order: 2 }
        processes:
          - name: p
            vmas:
              - { start: 0x10000000, pages: 512, perm: rw, resident: 0.2 }
        devices:
          - { name: d0, rid: "00:02.0", iommu: dmar0, capacity: 32, pages_per_group: 4, bind: [p] }
        workloads:
          - { device: d0, process: p, accesses: 300, concurrency: 4{{workload}} }
        """;

    private static ScenarioException Refused(string text, string file = "bad.yaml") =>
        Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, file));

    [Fact]
    public void The_mapping_form_reads_every_family()
    {
        var s = ScenarioReader.Parse(Text(
            host: "\n  present_fault: { dist: uniform, min: 100ns, max: 300ns }\n  major_fault: { dist: erlang, mean: 40us, k: 3 }\n  handler_overhead: { dist: exponential, mean: 1us }",
            timing: ", interrupt: { dist: lognormal, mean: 3us, cv: 0.5 }, report: { dist: normal, mean: 150ns, cv: 0.1 }",
            workload: ", interval: { dist: constant, mean: 4us }, pages: { dist: uniform, min: 1, max: 3 }, start_offset: { dist: uniform, min: 0ns, max: 10us }, batch: 2"), "d.yaml");
        Assert.Equal(DistributionKind.Lognormal, s.Timing.Drawn[Hop.Interrupt].Kind);
        Assert.Equal(3000, s.Timing.InterruptNs); // the mean stands in for the constant
        Assert.Equal(0.5, s.Timing.Drawn[Hop.Interrupt].Cv);
        Assert.Equal(DistributionKind.Normal, s.Timing.Drawn[Hop.Report].Kind);
        Assert.Equal(200, s.Host.Costs.PresentNanoseconds);
        Assert.Equal(3, s.Service.MajorFault!.Shape);
        Assert.Null(s.Service.MinorFault); // a constant stays the constant
        Assert.Equal(1000, s.Service.HandlerOverhead!.Mean);
        var w = s.Workloads[0];
        Assert.Equal(DistributionKind.Constant, w.Interval!.Kind); // periodic arrivals
        Assert.Equal(4000, w.IntervalNs);
        Assert.Equal(2, w.Batch!.Mean);
        Assert.Equal(3, w.Pages!.Max);
        Assert.Equal(10_000, w.StartOffset!.Max);
    }

    [Theory]
    [InlineData("{ dist: gamma, mean: 3us }", "workloads[0].interval.dist", "'gamma' is not one of")]
    [InlineData("{ mean: 3us }", "workloads[0].interval.dist", "is required")]
    [InlineData("{ dist: lognormal, mean: 3us }", "workloads[0].interval.cv", "is required")]
    [InlineData("{ dist: lognormal, mean: 0us, cv: 1 }", "workloads[0].interval.mean", "above 0")]
    [InlineData("{ dist: exponential, mean: 3us, cv: 1 }", "workloads[0].interval.cv", "does not apply to a exponential")]
    [InlineData("{ dist: uniform, min: 3us, max: 1us }", "workloads[0].interval.max", "below min")]
    [InlineData("{ dist: erlang, mean: 3us, k: 0 }", "workloads[0].interval.k", "outside")]
    [InlineData("{ dist: normal, mean: soon, cv: 1 }", "workloads[0].interval.mean", "expected a duration")]
    [InlineData("{ dist: exponential, mean: 1us, shape: 2 }", "workloads[0].interval.shape", "unknown key")]
    public void Bad_distributions_are_refused_at_their_key(string spec, string key, string problem)
    {
        var text = Text(workload: $", interval: {spec}");
        var e = Refused(text);
        Assert.Equal(key, e.Key);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        Assert.Equal(Array.FindIndex(text.Split('\n'), l => l.Contains("interval:", StringComparison.Ordinal)) + 1, e.Line);
    }

    [Theory]
    [InlineData(", think: 5us, interval: 2us", "workloads[0].interval", "does not go with think")]
    [InlineData(", pages: 3, max_pages: 4", "workloads[0].max_pages", "does not go with pages")]
    [InlineData(", burst: { on: 10us }", "workloads[0].burst.off", "is required")]
    public void Keys_that_contradict_each_other_are_refused(string workload, string key, string problem)
    {
        var e = Refused(Text(workload: workload));
        Assert.Equal(key, e.Key);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_csv_file_is_read_beside_the_scenario_and_its_bad_line_named()
    {
        var dir = Directory.CreateTempSubdirectory("faultline-dist-");
        try
        {
            string scenario = Path.Combine(dir.FullName, "s.yaml");
            File.WriteAllText(Path.Combine(dir.FullName, "gaps.csv"), "gap_ns,comment\n1us,a\n# skipped\n3us,b\n");
            var s = ScenarioReader.Parse(Text(workload: ", interval: { dist: empirical, file: gaps.csv }"), scenario);
            Assert.Equal([1000L, 3000L], s.Workloads[0].Interval!.Values!);
            Assert.Equal(2000, s.Workloads[0].IntervalNs);

            File.WriteAllText(Path.Combine(dir.FullName, "trace.csv"), "0\n5us\n2us\n");
            var e = Refused(Text(workload: ", trace: trace.csv"), scenario);
            Assert.Equal("workloads[0].trace", e.Key);
            Assert.Contains("must not decrease", e.Problem, StringComparison.Ordinal);

            File.WriteAllText(Path.Combine(dir.FullName, "gaps.csv"), "gap\n1us\nlater\n");
            e = Refused(Text(workload: ", interval: { dist: empirical, file: gaps.csv }"), scenario);
            Assert.Equal("workloads[0].interval.file", e.Key);
            Assert.Contains("gaps.csv:3: expected a duration", e.Problem, StringComparison.Ordinal);

            e = Refused(Text(workload: ", interval: { dist: empirical, file: missing.csv }"), scenario);
            Assert.Contains("cannot read 'missing.csv'", e.Problem, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void The_constant_form_and_a_constant_distribution_run_the_same_bytes()
    {
        var plain = Simulator.Run(ScenarioReader.Parse(Text(workload: ", interval: 4us"), "a.yaml"));
        var mapped = Simulator.Run(ScenarioReader.Parse(Text(host: "", timing: "", workload: ", interval: { dist: exponential, mean: 4us }")
            .Replace("minor_fault: 2us", "minor_fault: { dist: constant, mean: 2us }", StringComparison.Ordinal)
            .Replace("link: 250ns", "link: { dist: constant, mean: 250ns }", StringComparison.Ordinal), "a.yaml"));
        Assert.Equal(JsonReportWriter.Serialize(plain), JsonReportWriter.Serialize(mapped));
    }

    [Fact]
    public void The_warm_up_leaves_early_samples_out_of_the_statistics_but_not_the_counters()
    {
        var whole = Simulator.Run(ScenarioReader.Parse(Text(), "w.yaml"));
        var warm = Simulator.Run(ScenarioReader.Parse(Text(top: "warmup: 200us"), "w.yaml"));
        Assert.Equal(200_000, warm.WarmupNs);
        Assert.Equal(whole.Devices[0].PageRequests, warm.Devices[0].PageRequests);
        Assert.Equal(whole.EndTimeNs, warm.EndTimeNs);
        Assert.InRange(warm.FaultLatency.Samples, 1, whole.FaultLatency.Samples - 1);
        Assert.InRange(warm.AccessLatency.Samples, 1, whole.AccessLatency.Samples - 1);
    }

    [Fact]
    public void Handler_and_auto_answered_latencies_and_the_stages_add_up()
    {
        var r = Simulator.Run(ScenarioReader.Parse(Text(timing: ", interrupt: { dist: exponential, mean: 2us }", workload: ", interval: { dist: lognormal, mean: 3us, cv: 1 }"), "s.yaml"));
        Assert.Empty(r.Invariants);
        Assert.Equal(r.FaultLatency.Samples, r.FaultLatencyHandler.Samples + r.FaultLatencyAuto.Samples);
        var st = r.FaultStages;
        Assert.Equal(r.FaultLatencyHandler.Samples, st.Service.Samples);
        Assert.Equal(r.FaultLatencyHandler.MeanNs, st.Link.MeanNs + st.HostQueue.MeanNs + st.Service.MeanNs + st.ResponsePath.MeanNs, 1);
        Assert.Equal(250, st.Link.MeanNs); // one-page-wide groups: all requests leave together, one link time
        // The host queue's parts: to the driver's report (the interrupt, 2 us on average, is in it), the rest of that
        // batch, the wait for a worker.
        Assert.Equal(st.HostQueue.MeanNs, st.IommuQueue.MeanNs + st.Driver.MeanNs + st.FaultQueue.MeanNs, 1);
        Assert.Equal(st.HostQueue.Samples, st.Driver.Samples);
        Assert.True(st.IommuQueue.MeanNs >= 1_000, $"iommu queue {st.IommuQueue.MeanNs} ns holds the interrupt");
        Assert.True(st.Driver.MaxNs > 0, "a batch of several entries keeps its later groups from the workers");
        Assert.Contains(r.Queues, q => q.Kind == "credits_in_use" && q.PeakOccupancy == r.Devices[0].CreditsHighWater);
        Assert.True(r.Devices[0].ThroughputPerMs > 0);
    }

    [Fact]
    public void The_distributions_example_keeps_every_invariant_and_a_jittered_link_in_order()
    {
        var r = Simulator.Run(ScenarioReader.Load(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "distributions.yaml")));
        Assert.Empty(r.Invariants);
        Assert.True(r.Quiesced);
        Assert.True(r.FaultStages.HostQueue.StddevNs > 0);
        Assert.Equal(0, r.Devices.Sum(d => d.UnexpectedResponses));
    }

    [Fact]
    public void A_closed_loop_runs_every_access()
    {
        var closed = Simulator.Run(ScenarioReader.Parse(Text(workload: ", think: { dist: exponential, mean: 2us }"), "c.yaml"));
        Assert.Equal(300, closed.Devices[0].AccessesStarted);
        Assert.Empty(closed.Invariants);
    }
}
