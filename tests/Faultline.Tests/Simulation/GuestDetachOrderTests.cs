using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// R43 with R33 on VT-d: iommufd's detach of a guest's PASID (<c>iommu_detach_device_pasid</c>) has the driver
/// tear the PASID entry down and drain its page requests (<c>intel_pasid_tear_down_entry</c>,
/// <c>intel_drain_pasid_prq</c>, from <c>intel_iommu_remove_dev_pasid</c> / <c>blocking_domain_set_dev_pasid</c>)
/// before the core erases the attach handle; only then does <c>iommufd_auto_response_faults</c> answer what the
/// guest's queue holds. Requests still in the PRQ at the detach therefore reach the guest's queue as whole groups
/// and are answered once each, never one by one through the no-handler path (R10).
/// </summary>
public sealed class GuestDetachOrderTests
{
    // The driver thread wakes 40 us after its interrupt, so at the detach (5 us) both groups of the guest's
    // function are still in the PRQ: four requests each, only the fourth last.
    private const string Yaml = """
        name: vtd-detach-with-requests-in-the-prq
        seed: 5
        timing: { link: 250ns, translation: 300ns, interrupt: 40us, report: 150ns, handler_wakeup: 1us, response_command: 300ns }
        iommus: [{ name: dmar0, type: vtd }]
        processes:
          - { name: guest-as, vmas: [{ start: 0x40000000, pages: 64, perm: rw }] }
        devices:
          - { name: g0, rid: "00:04.0", iommu: dmar0, capacity: 8, pages_per_group: 4, bind: [] }
        guests:
          - { name: vm, behaviour: never-answers, device: g0, process: guest-as, detach_at: 5us }
        workloads:
          - { device: g0, process: guest-as, accesses: 2, min_pages: 4, max_pages: 4, interval: 1us, concurrency: 2 }
        """;

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R43_R33_vtd_detach_drains_the_pasid_with_the_handle_alive_then_answers_each_group_once(string policy)
    {
        var r = Scenarios.Run(Yaml, policy: policy);

        Assert.Empty(r.InvariantCounts); // no response for an index the function does not have outstanding (H-PCI-10)
        var detached = Assert.Single(r.Notes, n => n.Contains("detached from its fault-capable domain", StringComparison.Ordinal));
        Assert.Contains("2 groups answered INVALID (R43)", detached, StringComparison.Ordinal);
        long at = long.Parse(detached[(detached.IndexOf("t=", StringComparison.Ordinal) + 2)..detached.IndexOf("ns", StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(at > 40_000, $"the detach completed at {at} ns, before the driver thread handled the PRQ");
        var device = Assert.Single(r.Devices);
        Assert.Equal(2, device.ResponsesInvalid);
        Assert.Equal(0, device.ResponsesSuccess);
        Assert.Equal(0, device.UnexpectedResponses);
    }
}
