using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// POL-13: a function whose Stop Markers keep their credit (H-PCI-21) and has one credit stops one PASID, then
/// cannot send the next PASID's marker: the stop waits for ever (H-PCI-19) and the teardown hangs (R25) under
/// linux; hardened resets the function's PRI once nothing of it is in flight (issue 10's third reproducer).
/// </summary>
public sealed class StuckPasidStopTests
{
    private const string TwoExitsOnOneCredit = """
        name: vtd-two-exits-one-credit
        iommus: [{ name: dmar0 }]
        processes:
          - name: a
            vmas: [{ start: 0x10000000, pages: 64, perm: rw }]
          - name: b
            vmas: [{ start: 0x20000000, pages: 64, perm: rw }]
        devices:
          - { name: d0, rid: "00:02.0", iommu: dmar0, capacity: 1, stop_marker_consumes_credit: true, bind: [a, b] }
        workloads:
          - { device: d0, process: a, accesses: 100 }
          - { device: d0, process: b, accesses: 100 }
        events:
          - { at: 42us, exit: { process: a, stop: marker } }
          - { at: 181us, exit: { process: b, stop: marker } }
        """;

    [Theory]
    [InlineData(1ul)]
    [InlineData(2ul)]
    [InlineData(3ul)]
    public void POL_13_H_PCI_21_hardened_resets_pri_when_a_pasid_stop_is_stuck_and_every_teardown_completes(ulong seed)
    {
        var r = Scenarios.Run(TwoExitsOnOneCredit, seed, "hardened");
        Assert.Empty(r.InvariantCounts);
        Assert.Equal(2, r.Teardowns.Count);
        Assert.All(r.Teardowns, t => Assert.True(t.Completed));
        Assert.Contains(r.Notes, n => n.Contains("PRI reset after a PASID stop stuck with nothing in flight (POL-13)", StringComparison.Ordinal));
    }

    [Fact]
    public void POL_13_H_PCI_19_linux_waits_for_ever_for_the_stop_and_the_teardown_hangs()
    {
        var r = Scenarios.Run(TwoExitsOnOneCredit, 1, "linux");
        Assert.Contains("H-PCI-19", r.InvariantCounts.Keys);
        Assert.Contains("R25", r.InvariantCounts.Keys);
        Assert.DoesNotContain(r.Notes, n => n.Contains("POL-13", StringComparison.Ordinal));
    }

    [Fact]
    public void POL_13_a_stop_that_completes_on_its_own_costs_no_reset()
    {
        // The same two exits with credits to spare: the markers go out, nothing is stuck, no reset.
        var yaml = TwoExitsOnOneCredit.Replace("capacity: 1", "capacity: 8", StringComparison.Ordinal);
        var r = Scenarios.Run(yaml, 1, "hardened");
        Assert.Empty(r.InvariantCounts);
        Assert.DoesNotContain(r.Notes, n => n.Contains("POL-13", StringComparison.Ordinal));
    }
}
