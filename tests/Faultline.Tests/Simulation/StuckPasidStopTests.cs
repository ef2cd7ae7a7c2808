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
        // The first marker kept the only credit: b's accesses wait for it, so the reset comes before b's stop.
        Assert.Contains(r.Notes, n => n.Contains("PRI reset after 1 Stop Markers, as many as its credits (POL-13)", StringComparison.Ordinal));
    }

    // Found by the random property (hardened, generator seed 17493540075205324334): two exits at the same instant on
    // one credit. The second stop waited while the first PASID's drain still had its wait descriptor in the
    // invalidation queue; when that wait completed nothing looked again, and the stop hung.
    private const string TwoExitsAtOnce = """
        name: vtd-two-exits-at-once-one-credit
        seed: 3139551660412153886
        timing: { link: 228ns, interrupt: 279ns, report: 99ns, handler_wakeup: 1659ns, response_command: 391ns }
        iommus: [{ name: vtd0, type: vtd }]
        processes:
          - name: p1
            vmas: [{ start: 0x10000000, pages: 1, perm: rx }]
          - name: p2
            vmas: [{ start: 0x10000000, pages: 1, perm: r }]
        devices:
          - { name: d1, rid: "00:02.0", iommu: vtd0, capacity: 1, stop_marker_consumes_credit: true, bind: [p1, p2] }
        workloads: []
        events:
          - { at: 0ns, exit: { process: p1, stop: marker } }
          - { at: 0ns, exit: { process: p2, stop: marker } }
        """;

    [Fact]
    public void POL_13_H_PCI_19_a_stop_stuck_behind_another_pasids_drain_is_looked_at_again_when_the_drain_wait_completes()
    {
        var r = Scenarios.Run(TwoExitsAtOnce, 3139551660412153886, "hardened");
        Assert.Empty(r.InvariantCounts);
        Assert.All(r.Teardowns, t => Assert.True(t.Completed));
        Assert.Contains(r.Notes, n => n.Contains("PRI reset after a PASID stop stuck with nothing in flight (POL-13)", StringComparison.Ordinal));
    }

    // Found by the random property (hardened, generator seed 10648827722200430393): AMD, one credit, an unbind by
    // Stop Marker at once. The marker kept the credit and no stop was left waiting, so nothing was stuck that the
    // host could see: the other PASID's access waited at the function for ever (R8).
    private const string MarkerKeepsTheOnlyCredit = """
        name: amd-marker-keeps-the-only-credit
        iommus: [{ name: amd1, type: amd }]
        processes:
          - name: p0
            vmas: [{ start: 0x10000000, pages: 1, perm: r }]
          - name: p1
            vmas: [{ start: 0x10000000, pages: 1, perm: rx }]
        devices:
          - { name: d2, rid: "00:03.0", iommu: amd1, capacity: 1, stop_marker_consumes_credit: true, bind: [p0, p1] }
        workloads:
          - { device: d2, process: p0, accesses: 1, max_pages: 1, concurrency: 1 }
        events:
          - { at: 0ns, unbind: { device: d2, process: p1, stop: marker } }
        """;

    [Fact]
    public void POL_13_H_PCI_21_R8_hardened_gives_back_credits_markers_kept_so_a_waiting_access_ends()
    {
        var r = Scenarios.Run(MarkerKeepsTheOnlyCredit, 1476617281357462218, "hardened");
        Assert.Empty(r.InvariantCounts);
        Assert.Contains(r.Notes, n => n.Contains("PRI reset after 1 Stop Markers, as many as its credits (POL-13): 1 credits back", StringComparison.Ordinal));
    }

    [Fact]
    public void POL_13_H_PCI_21_R8_linux_leaves_the_credit_with_the_marker_and_the_access_never_ends()
    {
        var r = Scenarios.Run(MarkerKeepsTheOnlyCredit, 1476617281357462218, "linux");
        Assert.Contains("R8", r.InvariantCounts.Keys);
        Assert.DoesNotContain(r.Notes, n => n.Contains("POL-13", StringComparison.Ordinal));
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

    // Found by the long random run (hardened, generator seed 4370412729766890488): two marker stops on one credit; the
    // second stop stuck, and its reset counted no marker after it, though the stuck stop sends its marker once the credit
    // is back and that marker keeps it: a later access waited for ever (R8).
    private const string MarkerAfterTheReset = """
        name: amd-marker-sent-after-the-reset
        host: { response_deadline: 201405ns }
        iommus: [{ name: amd0, type: amd }]
        processes:
          - { name: p0, vmas: [{ start: 0x20000000, pages: 5, perm: r }] }
          - { name: p1, vmas: [{ start: 0x10000000, pages: 1, perm: rwx }] }
          - { name: p2, vmas: [{ start: 0x10000000, pages: 1, perm: rwx }] }
        devices:
          - { name: d0, rid: "00:01.0", iommu: amd0, capacity: 1, stop_marker_consumes_credit: true, bind: [p0, p2] }
        workloads:
          - { device: d0, process: p1, accesses: 1, max_pages: 1, concurrency: 1, start: 272066ns }
          - { device: d0, process: p0, accesses: 1, min_pages: 14, max_pages: 14, write_fraction: 0, concurrency: 1, start: 79075ns }
        events:
          - { at: 101380ns, unbind: { device: d0, process: p0, stop: marker } }
          - { at: 103872ns, exit: { process: p2, stop: marker } }
          - { at: 0ns, bind: { device: d0, process: p1 } }
        """;

    [Fact]
    public void POL_13_H_PCI_21_R8_the_marker_a_stuck_stop_sends_after_its_reset_counts_toward_the_next()
    {
        var r = Scenarios.Run(MarkerAfterTheReset, 3845092504084166163, "hardened");
        Assert.Empty(r.InvariantCounts);
        Assert.Equal(2, r.Notes.Count(n => n.Contains("(POL-13)", StringComparison.Ordinal)));
    }
}
