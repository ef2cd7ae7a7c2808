using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// R4 during R25: remove_device while a teardown's flush waits answers and frees the groups the flush waited for,
/// so the teardown must move on then (found by the random-scenario property; it stayed in its flush stage for ever).
/// </summary>
public sealed class RemoveDuringTeardownTests
{
    private const string ExitThenRemove = """
        name: amd-exit-then-remove
        seed: 4826921491978295824
        host: { response_deadline: 235577ns }
        iommus:
          - { name: amd0, type: amd }
        processes:
          - name: p1
            vmas:
              - { start: 0x10000000, pages: 11, perm: r }
        devices:
          - { name: d1, rid: "00:02.0", iommu: amd0, capacity: 8, bind: [p1] }
        workloads:
          - { device: d1, process: p1, accesses: 9, min_pages: 8, write_fraction: 1, interval: 30ns, concurrency: 9, start: 177165ns }
        events:
          - { at: 203580ns, exit: { process: p1, stop: marker } }
          - { at: 207422ns, remove_device: { device: d1 } }
        """;

    [Theory]
    [InlineData("hardened")]
    [InlineData("linux")]
    public void R4_R25_a_removal_during_a_teardowns_flush_lets_the_teardown_finish(string policy)
    {
        var r = Scenarios.Run(ExitThenRemove, policy: policy);
        Assert.True(Assert.Single(r.Teardowns).Completed);
        Assert.DoesNotContain("R25", r.InvariantCounts.Keys);
        if (policy == "hardened") Assert.Empty(r.InvariantCounts);
    }
}
