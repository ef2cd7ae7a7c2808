using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// Issue 10 item 4: every counter conserved at the end of every run (the "conservation" invariant the kernel and the
/// simulator check), and the tenants' shares add up to the run's totals.
/// </summary>
public sealed class ConservationTests
{
    public static TheoryData<string, string, ulong> Examples()
    {
        var data = new TheoryData<string, string, ulong>();
        foreach (var file in Directory.GetFiles(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios"), "*.yaml").Order(StringComparer.Ordinal))
            foreach (var policy in new[] { "linux", "hardened" })
                foreach (ulong seed in new ulong[] { 1, 2 })
                    data.Add(Path.GetFileName(file), policy, seed);
        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_conserves_requests_groups_accesses_and_tenant_shares(string scenario, string policy, ulong seed)
    {
        var r = Scenarios.Run(File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", scenario)), seed, policy);
        Assert.DoesNotContain("conservation", r.InvariantCounts.Keys);
        foreach (var d in r.Devices)
        {
            long answered = d.ResponsesSuccess + d.ResponsesInvalid + d.ResponsesFailure + d.ResponsesReserved;
            Assert.True(d.Groups >= answered + d.DiscardedAfterStop + d.GroupsForgotten, $"{d.Name}: {d.Groups} groups");
        }
        if (r.Tenants.Count == 0) return;
        // Responses after an unbind began still count for the tenant whose PASID it was.
        Assert.Equal(r.FaultLatency.Samples, r.Tenants.Sum(t => t.FaultLatency.Samples));
        // A process is charged its own PASID's credits only, so shares never exceed what the devices hold.
        Assert.True(r.Tenants.Sum(t => t.CreditsLeaked) <= r.Devices.Sum(d => d.CreditsHeld), "tenants charged more credits than their devices hold");
    }
}
