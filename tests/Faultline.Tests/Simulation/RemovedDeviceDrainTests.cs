using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// R33 for a function removed from its IOPF queue (R4) before its process exits: upstream's
/// <c>intel_iommu_drain_pasid_prq</c> returns at once for it, so its requests can outlive the PASID in the PRQ;
/// hardened still waits for the ring and drains the hardware (issue 10's second random-scenario reproducer).
/// </summary>
public sealed class RemovedDeviceDrainTests
{
    private const string RemoveThenExit = """
        name: vtd-remove-then-exit
        iommus: [{ name: dmar0 }]
        processes:
          - name: p
            vmas: [{ start: 0x10000000, pages: 64, perm: rwx, backing: file }]
        devices:
          - { name: d0, rid: "00:02.0", iommu: dmar0, capacity: 1, bind: [p] }
        workloads:
          - { device: d0, process: p, accesses: 25 }
        events:
          - { at: 93.7us, remove_device: { device: d0 } }
          - { at: 140us, exit: { process: p, stop: marker } }
        """;

    [Theory]
    [InlineData(1ul)]
    [InlineData(2ul)]
    [InlineData(3ul)]
    public void R33_hardened_drains_the_prq_of_a_removed_function_before_its_pasid_goes(ulong seed)
    {
        var r = Scenarios.Run(RemoveThenExit, seed, "hardened");
        Assert.Empty(r.InvariantCounts);
        Assert.True(Assert.Single(r.Teardowns).Completed);
    }

    [Fact]
    public void R33_linux_leaves_a_removed_functions_requests_in_the_prq_as_upstream_does()
    {
        var r = Scenarios.Run(RemoveThenExit, 1, "linux");
        Assert.Equal(["R33"], r.InvariantCounts.Keys);
    }
}
