using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>Small scenario texts shared by the simulation tests.</summary>
internal static class Scenarios
{
    /// <summary>A burst of wide writes from two functions into a 128-entry page request queue.</summary>
    public static string Burst(string autoResponse) => $$"""
        name: burst
        seed: 7
        iommus:
          - { name: dmar0, prq_order: 0, discard_auto_response: {{autoResponse}} }
        processes:
          - name: p
            vmas:
              - { start: 0x10000000, pages: 4096, perm: rw }
        devices:
          - { name: d0, rid: "00:02.0", iommu: dmar0, capacity: 512, credits: 512, pages_per_group: 16, bind: [p] }
          - { name: d1, rid: "00:03.0", iommu: dmar0, capacity: 512, credits: 512, pages_per_group: 16, bind: [p] }
        workloads:
          - { device: d0, process: p, accesses: 64, min_pages: 32, max_pages: 64, write_fraction: 1, interval: 10ns, concurrency: 64 }
          - { device: d1, process: p, accesses: 64, min_pages: 32, max_pages: 64, write_fraction: 1, interval: 10ns, concurrency: 64 }
        """;

    /// <summary>One function, one process; the placeholder {{extra}} adds device keys.</summary>
    public static string Single(string deviceExtra = "", string iommuExtra = "") => $$"""
        name: single
        iommus:
          - { name: dmar0{{iommuExtra}} }
        processes:
          - name: p
            vmas:
              - { start: 0x10000000, pages: 64, perm: rw, resident: 0.25 }
              - { start: 0x20000000, pages: 16, perm: r, backing: file }
        devices:
          - { name: d0, rid: "00:02.0", iommu: dmar0, bind: [p]{{deviceExtra}} }
        workloads:
          - { device: d0, process: p, accesses: 50, write_fraction: 0.5 }
        """;

    public static RunReport Run(string yaml, ulong? seed = null, string? policy = null) =>
        Simulator.Run(ScenarioReader.Parse(yaml, "test.yaml"), seed, policy);
}
