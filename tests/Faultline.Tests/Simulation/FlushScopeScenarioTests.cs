using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// R23 at the host: <c>iopf_queue_flush_dev</c> is <c>flush_workqueue</c> on the IOPF queue, so a PASID teardown
/// waits for SVA work queued on it, never for the groups a guest's iommufd fault queue holds
/// (<c>iommufd_fault_iopf_handler</c> queues no work). A mute guest on the same VT-d unit therefore cannot hold a
/// host process's exit, under either policy.
/// </summary>
public class FlushScopeScenarioTests
{
    private const string Yaml = """
        name: flush-beside-a-mute-guest
        seed: 3
        timing: { link: 250ns, interrupt: 2us, report: 150ns, handler_wakeup: 1us, response_command: 300ns }
        host: { workers: 2, minor_fault: 2us }
        iommus: [{ name: dmar0, type: vtd, prq_order: 2 }]
        processes:
          - { name: db, vmas: [{ start: 0x10000000, pages: 256, perm: rw, backing: anon }] }
          - { name: mute-as, vmas: [{ start: 0x40000000, pages: 256, perm: rw }] }
        devices:
          - { name: nic0, rid: "00:02.0", iommu: dmar0, capacity: 32, pages_per_group: 4, bind: [db] }
          - { name: mute0, rid: "00:04.0", iommu: dmar0, capacity: 32, pages_per_group: 4, bind: [] }
        guests:
          - { name: mute-vm, behaviour: never-answers, device: mute0, process: mute-as }
        workloads:
          - { device: nic0, process: db, accesses: 200, interval: 2us, concurrency: 4 }
          - { device: mute0, process: mute-as, accesses: 64, interval: 1us, concurrency: 8 }
        events:
          - { at: 100us, exit: { process: db, stop: marker } }
        """;

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R23_a_mute_guests_groups_do_not_hold_a_host_teardown_on_the_same_queue(string policy)
    {
        var report = Scenarios.Run(Yaml, policy: policy);

        var teardown = Assert.Single(report.Teardowns);
        Assert.True(teardown.Completed, $"the exit of db never finished under {policy}");
        Assert.Equal(0, teardown.UnrelatedWaitNs);
        var mute = Assert.Single(report.Tenants, t => t.Name == "mute-vm");
        Assert.True(mute.AccessesCompleted < 64, "the mute guest held groups while db exited");
    }
}
