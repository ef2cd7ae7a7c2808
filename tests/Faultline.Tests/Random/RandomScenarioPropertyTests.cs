using Xunit.Abstractions;

namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// Issue 10 item 6: random operation sequences — faults and overflow bursts, binds, unbinds, exits with either
/// PASID stop (H-PCI-19), device removals (R4), guests of every behaviour and their detaches (R43, POL-9) — on
/// every IOMMU kind. Under hardened every invariant holds; under both policies nothing throws and every run goes
/// quiet. 10 000 sequences per policy here; scripts/random-long.sh runs millions (docs/testing.md).
/// </summary>
public sealed class RandomScenarioPropertyTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("hardened")]
    [InlineData("linux")]
    public void Random_operation_sequences_keep_every_invariant_under_hardened_and_never_crash_or_livelock(string policy)
    {
        var settings = RandomSettings.FromEnvironment();
        var campaign = RandomProperty.Run(policy, settings.Count, settings.Seed, KnownBreaks.For(policy), settings.FoundDirectory, settings.Parallelism);
        output.WriteLine(campaign.Figures);
        if (settings.ReportFile is { } report)
        {
            File.AppendAllText(report, campaign.Figures + "\n");
            foreach (var f in campaign.Findings) File.AppendAllText(report, $"  {f.Signature} (generator seed {f.Seed}): {f.Path}\n");
        }
        Assert.True(campaign.Findings.Count == 0,
            $"{campaign.Findings.Count} failures under {policy}; each shrunk to a scenario file:\n\n{string.Join("\n\n", campaign.Findings)}");
    }
}
