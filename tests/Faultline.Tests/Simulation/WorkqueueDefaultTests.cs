using Faultline.Host;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// R1: <c>iopf_queue_alloc</c>'s workqueue is unbound with max_active 0 (WQ_DFL_ACTIVE, 256 items in flight), so
/// without a <c>host.workers</c> CPU limit a burst of groups is served at once rather than two at a time.
/// </summary>
public sealed class WorkqueueDefaultTests
{
    private static string Burst(string host) => $$"""
        name: burst
        host: { {{host}} }
        iommus: [{ name: dmar0, type: vtd }]
        processes:
          - { name: p, vmas: [{ start: 0x10000000, pages: 4096, perm: rw, backing: file }] }
        devices:
          - { name: d0, rid: "00:02.0", iommu: dmar0, capacity: 256, pages_per_group: 1, bind: [p] }
        workloads:
          - { device: d0, process: p, accesses: 64, min_pages: 1, max_pages: 1, interval: 10ns, concurrency: 64 }
        """;

    [Fact]
    public void R1_the_default_workqueue_runs_up_to_256_items_at_once_and_host_workers_limits_it()
    {
        Assert.Equal(256, new HostSpec().Workers);
        Assert.Equal(HostSpec.WorkqueueMaxActive, ScenarioReader.Parse(Burst("major_fault: 20us"), "t.yaml").Host.Workers);

        var unlimited = Scenarios.Run(Burst("major_fault: 20us"));
        var twoCpus = Scenarios.Run(Burst("major_fault: 20us, workers: 2"));

        Assert.Empty(unlimited.InvariantCounts);
        Assert.Equal(64, unlimited.FaultLatency.Samples);
        Assert.InRange(unlimited.FaultLatency.MaxNs, 20_000, 60_000); // every major fault at once, behind the PRQ and driver batches
        Assert.True(twoCpus.FaultLatency.MaxNs > 20 * 20_000, $"two CPUs serve 64 major faults in turn: max {twoCpus.FaultLatency.MaxNs} ns");
    }
}
