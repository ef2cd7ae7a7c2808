using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// R33's check at the end of a teardown asks the hardware, not the driver: on AMD an entry whose write to memory is
/// still late (H-AMD-3) is a zero slot the driver must count as anyone's while it drains, but it is another
/// function's request, so the torn-down PASID has nothing left. Found by the long random run under hardened
/// (generator seed 2666463377284153654): a guest's request arrived while the host's teardown of another function
/// flushed, and its late slot was reported as the torn-down PASID's.
/// </summary>
public sealed class LateLogWriteTeardownTests
{
    private const string Yaml = """
        name: amd-late-entry-beside-a-teardown
        seed: 3289820890731429003
        host: { minor_fault: 1578ns, major_fault: 29419ns, response_deadline: 281496ns }
        iommus: [{ name: amd0, type: amd, interrupt_before_entry: 1237ns }]
        processes:
          - name: p1
            vmas:
              - { start: 0x10000000, pages: 9, perm: rw, resident: 0.5 }
              - { start: 0x20000000, pages: 25, perm: rx }
          - { name: g0-as, vmas: [{ start: 0x10000000, pages: 1, perm: rx }] }
        devices:
          - { name: d0, rid: "00:01.0", iommu: amd0, capacity: 3, bind: [] }
          - { name: d1, rid: "00:02.0", iommu: amd0, capacity: 4, ats: false, bind: [p1] }
        guests:
          - { name: g0, behaviour: honest, device: d0, process: g0-as }
        workloads:
          - { device: d1, process: p1, accesses: 3, min_pages: 3, max_pages: 3, interval: 2851ns, concurrency: 1, start: 181378ns }
          - { device: d0, process: g0-as, accesses: 10, max_pages: 1, concurrency: 8, start: 150097ns }
        events:
          - { at: 188932ns, unbind: { device: d1, process: p1, stop: marker } }
        """;

    [Fact]
    public void R33_H_AMD_3_a_late_entry_of_another_function_is_not_left_behind_by_the_teardown()
    {
        var r = Scenarios.Run(Yaml, policy: "hardened");
        Assert.Empty(r.InvariantCounts);
        Assert.True(Assert.Single(r.Teardowns).Completed);
    }
}
