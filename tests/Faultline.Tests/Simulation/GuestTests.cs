using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>Guests in the simulator: reading whole groups, PASID limits, the baseline they are compared against.</summary>
public sealed class GuestTests
{
    private static string Yaml(string iommu, int pagesPerGroup, string guest, string workloads) => $$"""
        name: guests
        host: { response_deadline: 5ms }
        iommus: [ { name: u, type: {{iommu}} } ]
        processes:
          - { name: host-p, vmas: [ { start: 0x10000000, pages: 1024, perm: rw } ] }
          - { name: g-as, vmas: [ { start: 0x40000000, pages: 1024, perm: rw } ] }
          - { name: m-as, vmas: [ { start: 0x40000000, pages: 64, perm: rw } ] }
        devices:
          - { name: nic, rid: "00:02.0", iommu: u, capacity: 512, credits: 512, pages_per_group: {{pagesPerGroup}}, bind: [host-p] }
          - { name: vf, rid: "00:03.0", iommu: u, capacity: 512, credits: 512, pages_per_group: {{pagesPerGroup}}, bind: [] }
          - { name: mute, rid: "00:04.0", iommu: u, bind: [] }
        guests:
          - { name: vm, device: vf, process: g-as{{guest}} }
          - { name: bad, behaviour: never-answers, device: mute, process: m-as, detach_at: 1ms }
        workloads:
        {{workloads}}
        """;

    [Fact]
    public void R46_a_guest_reads_a_group_larger_than_its_first_buffer_with_a_larger_one()
    {
        var report = Scenarios.Run(Yaml("vtd", 300, "", "  - { device: vf, process: g-as, accesses: 20, min_pages: 300, max_pages: 300, concurrency: 1 }"));
        Assert.True(report.Quiesced);
        Assert.Empty(report.InvariantCounts);
        var vm = Assert.Single(report.Tenants, t => t.Name == "vm");
        Assert.Equal(20, vm.AccessesCompleted);
        Assert.Equal(0, vm.Expired);
    }

    [Fact]
    public void H_AMD_6_a_guest_pasid_past_16_bits_behind_an_amd_iommu_is_a_scenario_error()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(
            Yaml("amd", 4, ", pasid: 70000", "  - { device: vf, process: g-as }"), "g.yaml"));
        Assert.Equal("guests[0].pasid", e.Key);
        Assert.Contains("H-AMD-6", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_workload_draws_the_same_numbers_whatever_other_workloads_are_listed_before_it()
    {
        const string honest = """
              - { device: nic, process: host-p, accesses: 300, interval: 3us }
              - { device: vf, process: g-as, accesses: 300, interval: 3us }
            """;
        // An idle workload on another device listed first (the baseline drops such workloads) must not
        // shift the random streams of the honest ones.
        var with = Scenarios.Run(Yaml("vtd", 4, "", "  - { device: mute, process: m-as, accesses: 0 }\n" + honest));
        var without = Scenarios.Run(Yaml("vtd", 4, "", honest));
        foreach (var name in new[] { "nic", "vf" })
            Assert.Equal(Assert.Single(without.Devices, d => d.Name == name), Assert.Single(with.Devices, d => d.Name == name), DeviceReportComparer.Instance);
    }

    private sealed class DeviceReportComparer : IEqualityComparer<DeviceReport>
    {
        public static readonly DeviceReportComparer Instance = new();
        public bool Equals(DeviceReport? a, DeviceReport? b) =>
            a is not null && b is not null && a.PageRequests == b.PageRequests && a.Groups == b.Groups
            && a.AccessesCompleted == b.AccessesCompleted && a.FaultLatency.Cdf.SequenceEqual(b.FaultLatency.Cdf);
        public int GetHashCode(DeviceReport d) => d.Name.GetHashCode(StringComparison.Ordinal);
    }

    [Fact]
    public void A_guest_named_like_a_process_is_a_scenario_error_since_tenants_are_reported_by_name()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(
            Yaml("vtd", 4, "", "  - { device: vf, process: g-as }").Replace("name: vm,", "name: host-p,", StringComparison.Ordinal), "g.yaml"));
        Assert.Equal("guests[0].name", e.Key);
    }
}
