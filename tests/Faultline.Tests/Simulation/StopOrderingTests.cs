using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// H-PCI-19 with R33: the driver learns that its function stopped a PASID by a read whose completion may not pass
/// the page requests and Stop Marker the function posted before (PCIe ordering). The host therefore hears of the
/// stop behind them, and the drain's scan of the PPR log sees them. Found by the random-scenario property: the
/// stop used to reach the host at once, while the PASID's last requests were still on the link, so they landed
/// after the drain (R33) and their groups outlived the teardown (R25).
/// </summary>
public sealed class StopOrderingTests
{
    private const string ExitWithMarker = """
        name: amd-exit-marker-requests-on-the-link
        seed: 2158042414625509339
        timing: { link: 223ns, interrupt: 849ns, report: 260ns, handler_wakeup: 1977ns, response_command: 100ns }
        host: { response_deadline: 233631ns }
        iommus:
          - { name: amd0, type: amd }
        processes:
          - name: p0
            vmas:
              - { start: 0x10000000, pages: 16, perm: r }
        devices:
          - { name: d0, rid: "00:01.0", iommu: amd0, capacity: 54, bind: [p0] }
        workloads:
          - { device: d0, process: p0, accesses: 4, min_pages: 16, max_pages: 16, interval: 77ns, concurrency: 24, start: 270077ns }
        events:
          - { at: 288445ns, exit: { process: p0, stop: marker } }
        """;

    private const string UnbindWithMarker = """
        name: amd-unbind-marker-requests-on-the-link
        seed: 6839695254804275923
        host: { minor_fault: 1611ns, major_fault: 29193ns, response_deadline: 125708ns }
        iommus:
          - { name: amd0, type: amd }
        processes:
          - name: p1
            vmas:
              - { start: 0x10000000, pages: 10, perm: rwx }
        devices:
          - { name: d1, rid: "00:02.0", iommu: amd0, capacity: 5, pages_per_group: 6, bind: [p1] }
        workloads:
          - { device: d1, process: p1, accesses: 8, min_pages: 13, max_pages: 13, interval: 53ns, concurrency: 18 }
        events:
          - { at: 95787ns, unbind: { device: d1, process: p1, stop: marker } }
        """;

    [Theory]
    [InlineData(ExitWithMarker)]
    [InlineData(UnbindWithMarker)]
    public void H_PCI_19_R33_R25_the_stop_reaches_the_host_behind_the_pasids_last_requests(string yaml)
    {
        var r = Scenarios.Run(yaml, policy: "hardened");

        var teardown = Assert.Single(r.Teardowns);
        Assert.True(teardown.Completed);
        Assert.Empty(r.InvariantCounts);
    }
}
