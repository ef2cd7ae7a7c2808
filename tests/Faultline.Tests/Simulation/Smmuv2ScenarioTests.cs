using Faultline.Host;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>An Arm SMMUv2 in a scenario (docs/smmuv2.md §7): stall masters on context banks, and what the reader refuses.</summary>
public class Smmuv2ScenarioTests
{
    private const long MajorFaultNs = 200_000; // scenarios/smmuv2-stall.yaml host.major_fault

    private static RunReport RunStallScenario(string policy) =>
        Simulator.Run(ScenarioReader.Load(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "smmuv2-stall.yaml")), policy: policy);

    [Theory]
    [InlineData("hardened")]
    [InlineData("linux")]
    public void H_SMMUv2_4_a_slow_stall_holds_its_own_bank_and_no_other(string policy)
    {
        var r = RunStallScenario(policy);

        Assert.True(r.Quiesced);
        Assert.Empty(r.Invariants);
        var masters = r.Masters.ToDictionary(m => m.Name);
        Assert.Equal((2, 60L, 60L), (masters["gpu0"].ContextBank, masters["gpu0"].Accesses, masters["gpu0"].Completed));
        Assert.Equal((0, 400L, 400L), (masters["dsp0"].ContextBank, masters["dsp0"].Accesses, masters["dsp0"].Completed));
        Assert.Equal((1, 400L, 400L), (masters["isp0"].ContextBank, masters["isp0"].Accesses, masters["isp0"].Completed));
        Assert.Equal(0u, Assert.Single(masters["gpu0"].Pasids).Value); // bound at the RID

        // gpu0's later transactions wait behind each 200 us fault of its bank (several in a row) ...
        var v2 = Assert.Single(r.Iommus).Smmuv2!;
        Assert.True(v2.HeldBehind > 0);
        Assert.True(v2.LongestHoldNs > 2 * MajorFaultNs, $"longest hold {v2.LongestHoldNs} ns");
        Assert.True(masters["gpu0"].AccessLatency.P50Ns > MajorFaultNs);
        // ... while dsp0 and isp0, which stall too, never wait for one: their banks are their own.
        foreach (var fast in new[] { masters["dsp0"], masters["isp0"] })
            Assert.True(fast.AccessLatency.MaxNs < MajorFaultNs, $"{fast.Name} max {fast.AccessLatency.MaxNs} ns");
    }

    [Theory]
    [InlineData("hardened")]
    [InlineData("linux")]
    public void H_SMMUv2_5_every_stall_was_reported_and_resumed_or_terminated(string policy)
    {
        var r = RunStallScenario(policy);

        var smmu = Assert.Single(r.Iommus);
        var v2 = smmu.Smmuv2!;
        Assert.Equal(("smmuv2", 8, 3), (smmu.Kind, v2.ContextBanks, v2.BanksInUse));
        Assert.True(v2.Stalls > 0);
        Assert.Equal(v2.Stalls, v2.Retries + v2.ResumeTerminations);
        Assert.Equal(0, v2.ResumeTerminations);
        Assert.Equal((v2.Stalls, v2.Stalls, v2.Stalls), (smmu.Events, smmu.Reported, r.Framework.ResponsesSuccess));
        Assert.Equal(0, smmu.RingEntries);
    }

    [Fact]
    public void A_pcie_function_placed_behind_an_smmuv2_in_code_gets_no_iopf_and_a_note()
    {
        var scenario = ScenarioReader.Parse(Scenarios.Single(), "single.yaml");
        var r = Simulator.Run(scenario with { Iommus = [scenario.Iommus[0] with { Type = IommuType.Smmuv2 }] });

        Assert.Contains(r.Notes, n => n.Contains("IOPF refused by dmar0", StringComparison.Ordinal) && n.Contains("an SMMUv2 has no ATS, PRI or PASIDs", StringComparison.Ordinal));
        Assert.Empty(Assert.Single(r.Devices).Pasids);
    }

    private const string Base = """
        name: v2
        iommus:
          - { name: smmu0, type: smmuv2, context_banks: 4 }
          - { name: smmu1, type: smmuv3 }
          - { name: dmar0 }
        processes:
          - { name: p, vmas: [ { start: 0x10000000, pages: 8, perm: rw } ] }
          - { name: q, vmas: [ { start: 0x20000000, pages: 8, perm: rw } ] }
        masters:
          - { name: m0, stream_id: 0x10, iommu: smmu0, bind: [p] }
          - { name: m1, stream_id: 0x11, iommu: smmu0, context_bank: 0, bind: [q] }
          - { name: m2, stream_id: 0x12, iommu: smmu0, bind: [q] }
        workloads:
          - { device: m0, process: p, accesses: 4 }
        """;

    [Fact]
    public void Masters_without_a_context_bank_get_the_lowest_one_no_master_names()
    {
        var s = ScenarioReader.Parse(Base, "v2.yaml");
        Assert.Equal([1, 0, 2], s.Masters.Select(m => m.ContextBank));
        Assert.Equal(4, s.Iommus[0].ContextBanks);
        Assert.Equal(IommuType.Smmuv2, s.Iommus[0].Type);
    }

    [Theory]
    [InlineData("context_bank: 0, bind: [q] }", "context_bank: 0, bind: [p, q] }", "masters[1].bind", "exactly one process")]
    [InlineData("context_bank: 0, bind: [q] }", "context_bank: 4, bind: [q] }", "masters[1].context_bank", "outside [0, 3]")]
    [InlineData("iommu: smmu0, bind: [q] }", "iommu: smmu0, context_bank: 0, bind: [q] }", "masters[2].context_bank", "already belongs to master 'm1': one master per context bank")]
    [InlineData("iommu: smmu0, bind: [q] }", "iommu: smmu1, context_bank: 1, bind: [q] }", "masters[2].context_bank", "applies to a master behind an SMMUv2")]
    [InlineData("iommu: smmu0, bind: [q] }", "iommu: dmar0, bind: [q] }", "masters[2].iommu", "only an SMMUv3 or an SMMUv2 stalls platform masters")]
    [InlineData("type: smmuv2, context_banks: 4 }", "type: smmuv2, context_banks: 2 }", "masters", "master 'm2': all 2 context banks of 'smmu0' already have a master")]
    [InlineData("- { name: dmar0 }", "- { name: dmar0, context_banks: 2 }", "iommus[2].context_banks", "does not apply to a vtd IOMMU")]
    [InlineData("workloads:", "devices:\n  - { name: d0, rid: \"00:02.0\", iommu: smmu0, bind: [p] }\nworkloads:", "devices[0].iommu", "'smmu0' is an SMMUv2: it has no ATS, PRI or PASIDs")]
    [InlineData("workloads:", "events:\n  - { at: 1us, bind: { device: m2, process: p } }\nworkloads:", "events[0].bind.device", "master 'm2' is behind SMMUv2 'smmu0'")]
    public void Smmuv2_placement_errors_name_the_key(string good, string bad, string key, string problem)
    {
        var text = Base.Replace(good, bad, StringComparison.Ordinal);
        Assert.NotEqual(Base, text);
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "v2.yaml"));
        Assert.Equal(key, e.Key);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
    }
}
