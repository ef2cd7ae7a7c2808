using System.Text.Json;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// A driver thread runs one batch at a time: a wake-up a batch asks for itself (AMD's poll for an entry written
/// after its interrupt, H-AMD-3, R35) waits for that batch's model time to end (issue 10 item 1: the poll used to
/// start inside it, and the trace showed overlapping batches in same-workload-every-iommu.yaml).
/// </summary>
public sealed class DriverThreadBatchTests
{
    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void H_AMD_3_R35_no_two_batches_of_one_driver_thread_overlap(string policy)
    {
        using var trace = new TraceRecorder();
        Simulator.Run(ScenarioReader.Load(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "same-workload-every-iommu.yaml")), policy: policy, trace: trace);
        var batches = JsonDocument.Parse(trace.ToArray()).RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("name").GetString() == "batch")
            .GroupBy(e => (e.GetProperty("pid").GetRawText(), e.GetProperty("tid").GetRawText()));
        int checkedBatches = 0;
        foreach (var thread in batches)
        {
            var spans = thread.Select(e => (Start: e.GetProperty("ts").GetDouble(), End: e.GetProperty("ts").GetDouble() + e.GetProperty("dur").GetDouble()))
                .OrderBy(s => s.Start).ToList();
            for (int i = 1; i < spans.Count; i++)
                Assert.True(spans[i].Start >= spans[i - 1].End - 1e-9, $"batch at {spans[i].Start} us starts before the one at {spans[i - 1].Start} us ends ({spans[i - 1].End} us)");
            checkedBatches += spans.Count;
        }
        Assert.True(checkedBatches > 100);
    }
}
