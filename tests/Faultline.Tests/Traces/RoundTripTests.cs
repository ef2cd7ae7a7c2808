using Faultline.Simulation;
using Faultline.Simulation.Traces;
using Faultline.Tests.Golden;

namespace Faultline.Tests.Traces;

/// <summary>
/// Issue 12 item 4: every example scenario under both policies → its ftrace → <c>check</c> finds exactly the
/// protocol violations the run's invariants report (R8: groups a function still has outstanding; H-PCI-10: responses
/// the function has no group for), and its counts match the run's report. Writing the trace changes nothing of the run.
/// </summary>
public class RoundTripTests
{
    /// <summary>The rules a capture can show, of those the run checks.</summary>
    private static readonly string[] TraceRules = ["R8", "H-PCI-10"];

    public static TheoryData<string, string> Runs() => GoldenDigestTests.Runs();

    private static (RunReport Run, string Trace) RunWithTrace(string scenario, string policy)
    {
        var output = new StringWriter();
        var run = Simulator.Run(ScenarioReader.Load(Path.Combine(GoldenDigests.ScenarioFolder, scenario)), 1, policy, null, new FtraceWriter(output));
        return (run, output.ToString());
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Check_of_the_runs_ftrace_finds_the_runs_violations_and_counts(string scenario, string policy)
    {
        var (run, trace) = RunWithTrace(scenario, policy);
        var check = TraceChecker.Check(new StringReader(trace));

        Assert.Equal(0, check.Malformed);
        var devices = run.Devices.Select(d => d.Name).Concat(run.Masters.Select(m => m.Name)).ToHashSet();
        var expected = run.Invariants.Where(v => TraceRules.Contains(v.Rule) && devices.Contains(v.Subject)).Select(v => (v.Rule, v.Subject)).Distinct().Order();
        var found = check.Findings.Where(f => f.Violation).Select(f => (f.Rule, f.Device)).Distinct().Order();
        Assert.Equal(expected, found);
        Assert.Equal(run.InvariantCounts.GetValueOrDefault("H-PCI-10"), check.ViolationCounts.GetValueOrDefault("H-PCI-10"));

        foreach (var d in run.Devices)
            if (check.Devices.FirstOrDefault(c => c.Name == d.Name) is { } seen)
                Assert.True(d.UnexpectedResponses == seen.UnexpectedResponses, $"{d.Name}: UPRGI {seen.UnexpectedResponses} in the trace, {d.UnexpectedResponses} in the run");
        foreach (var unit in run.Iommus.Where(u => u.Kind != "smmuv2")) // SMMUv2's driver prints no fault line upstream
        {
            var seen = check.Iommus.FirstOrDefault(i => i.Name == unit.Name);
            Assert.Equal(unit.Reported, seen?.PageRequests ?? 0);
            if (unit.Stall is { Stalls: > 0 }) continue; // resumes of stalls are no PRG responses
            Assert.True(unit.PrgResponsesSent == (seen?.Responses ?? 0) + unit.AutoResponses,
                $"{unit.Name}: {unit.PrgResponsesSent} PRG responses in the run, {seen?.Responses ?? 0} in the trace and {unit.AutoResponses} from the hardware");
        }
    }

    [Fact]
    public void Check_reads_the_trace_cmd_report_layout_as_it_reads_tracefs()
    {
        var (_, trace) = RunWithTrace("prq-overflow.yaml", "linux");
        var tracefs = TraceChecker.Check(new StringReader(trace));
        // trace-cmd report: a header of its own, no flags column, CRLF for good measure.
        var report = "version = 6\r\ncpus=2\r\nCPU 1 is empty\r\n" + string.Join("\r\n", trace.Split('\n').Where(l => !l.StartsWith('#')).Select(l =>
            System.Text.RegularExpressions.Regex.Replace(l, @"(\[\d{3}\]) \S{5} ", "$1 ")));
        var fromReport = TraceChecker.Check(new StringReader(report));
        Assert.Equal(0, fromReport.Malformed);
        Assert.Equal(tracefs.ViolationCounts, fromReport.ViolationCounts);
        Assert.Equal(tracefs.Devices.Select(d => (d.Name, d.PageRequests, d.UnexpectedResponses)), fromReport.Devices.Select(d => (d.Name, d.PageRequests, d.UnexpectedResponses)));
    }

    [Theory]
    [InlineData("teardown-under-load.yaml")]
    public void Check_sees_every_teardown_drain_in_R33s_order(string scenario)
    {
        foreach (string policy in GoldenDigests.Policies)
        {
            var (run, trace) = RunWithTrace(scenario, policy);
            var check = TraceChecker.Check(new StringReader(trace));
            Assert.Equal(run.Teardowns.Count, check.Iommus.Sum(i => i.Drains));
            Assert.Equal(0, check.Iommus.Sum(i => i.DrainsOutOfOrder));
        }
    }

    [Fact]
    public void Writing_the_ftrace_leaves_the_report_as_it_was()
    {
        foreach (string scenario in GoldenDigests.Scenarios())
        {
            var (run, _) = RunWithTrace(scenario, "linux");
            Assert.Equal(GoldenDigests.Load()[GoldenDigests.Key(scenario, "linux", 1)], GoldenDigests.Digest(JsonReportWriter.Serialize(run)));
        }
    }

    [Theory]
    [InlineData("default.yaml")]
    [InlineData("teardown-under-load.yaml")]
    [InlineData("same-workload-every-iommu.yaml")]
    public void Replay_of_a_simulated_capture_reproduces_the_runs_responses(string scenario)
    {
        foreach (string policy in GoldenDigests.Policies)
        {
            var (_, trace) = RunWithTrace(scenario, policy);
            var plan = ReplayPlan.FromCapture(new StringReader(trace));
            var report = ReplayReport.Run(plan, Faultline.Faults.FaultPolicy.ByName(policy)!);
            Assert.True(report.Reproduced, $"{scenario} {policy}: " + string.Join("; ", report.Differences.Take(5)));

            // The derived scenario reads back, and replaying on it gives the same answers.
            var again = ReplayReport.Run(plan.With(ScenarioReader.Parse(plan.ToYaml(), "derived.yaml")), Faultline.Faults.FaultPolicy.ByName(policy)!);
            Assert.True(again.Reproduced);
        }
    }
}
