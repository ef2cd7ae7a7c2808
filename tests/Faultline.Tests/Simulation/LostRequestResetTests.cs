using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// POL-14: page requests an AMD PPR log loses while full or stopped are answered by nothing (H-AMD-2); their
/// credits stay held at the function for ever under linux. Hardened resets the PRI of each function behind that
/// IOMMU once the host holds nothing of it, so every access ends and every invariant holds (issue 10 item 3).
/// </summary>
public sealed class LostRequestResetTests
{
    private static RunReport Run(string policy) =>
        Scenarios.Run(File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "same-workload-every-iommu.yaml")), policy: policy);

    [Fact]
    public void POL_14_H_AMD_2_hardened_gives_back_the_credits_of_requests_the_ppr_log_lost_and_every_access_ends()
    {
        var r = Run("hardened");
        Assert.Empty(r.InvariantCounts);
        var amd = Assert.Single(r.Iommus, i => i.Kind == "amd");
        Assert.True(amd.DiscardedFull + amd.DiscardedWhileOverflowed > 0); // requests were lost
        var fn = Assert.Single(r.Devices, d => d.Iommu == amd.Name);
        Assert.Equal(fn.AccessesStarted, fn.AccessesCompleted + fn.AccessesFailed.Values.Sum());
        Assert.Contains(r.Notes, n => n.Contains($"PRI reset after {amd.Name} lost page requests (POL-14)", StringComparison.Ordinal));
    }

    [Fact]
    public void POL_14_H_AMD_2_linux_leaves_the_lost_requests_credits_held_and_says_why()
    {
        var r = Run("linux");
        Assert.Contains("R8", r.InvariantCounts.Keys);
        Assert.All(r.Invariants, v => Assert.Contains("H-AMD-2", v.Message, StringComparison.Ordinal));
        Assert.DoesNotContain(r.Notes, n => n.Contains("POL-14", StringComparison.Ordinal));
    }
}
