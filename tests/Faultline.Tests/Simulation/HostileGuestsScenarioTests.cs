using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// scenarios/hostile-guests.yaml: honest SVA processes and an honest guest beside each hostile guest kind
/// (issue acceptance: under hardened every honest tenant keeps its throughput within 5 % of the run
/// without hostile guests, loses no credit and sees no UPRGI or RF; under linux the report shows the leaks).
/// </summary>
public sealed class HostileGuestsScenarioTests
{
    private static readonly Dictionary<string, RunReport> Reports = new()
    {
        ["linux"] = Run("linux"),
        ["hardened"] = Run("hardened"),
    };

    private static RunReport Run(string policy) =>
        Scenarios.Run(File.ReadAllText(Path.Combine(ScenarioReaderTests.RepoRoot(), "scenarios", "hostile-guests.yaml")), policy: policy);

    private static TenantReport Tenant(string policy, string name) => Assert.Single(Reports[policy].Tenants, t => t.Name == name);

    private static IEnumerable<TenantReport> Honest(string policy) => Reports[policy].Tenants.Where(t => !t.Hostile);

    [Fact]
    public void Every_hostile_kind_is_in_the_scenario_beside_host_and_guest_honest_tenants()
    {
        var kinds = Reports["hardened"].Tenants.Where(t => t.Hostile).Select(t => t.Behaviour).ToHashSet();
        Assert.Equal(["never-answers", "answers-twice", "random-cookies", "stale-cookies", "bad-codes", "flood", "answers-after-detach", "reads-nothing"], kinds);
        Assert.Contains(Honest("hardened"), t => t.Kind == "host");
        Assert.Contains(Honest("hardened"), t => t.Kind == "guest");
    }

    [Fact]
    public void Hardened_honest_tenants_keep_their_throughput_credits_and_status_bits()
    {
        var report = Reports["hardened"];
        Assert.Empty(report.InvariantCounts);
        foreach (var t in Honest("hardened"))
        {
            Assert.NotNull(t.ThroughputRatio);
            Assert.InRange(t.ThroughputRatio!.Value, 0.95, 1.05);
            Assert.Equal(0, t.CreditsLeaked);
            Assert.False(t.Uprgi, t.Name);
            Assert.False(t.ResponseFailure, t.Name);
            Assert.Equal(0, t.AccessesFailed);
        }
        // No function at all raises UPRGI or RF because of the host (POL-9 resets only once nothing is in flight).
        Assert.All(report.Devices, d => Assert.False(d.ResponseFailure || d.UnexpectedResponses > 0, d.Name));
    }

    [Fact]
    public void POL_5_hardened_answers_a_silent_guest_at_the_deadline_and_linux_holds_its_credits_until_detach()
    {
        var hardened = Tenant("hardened", "mute-vm");
        var linux = Tenant("linux", "mute-vm");
        Assert.True(hardened.Expired > 0);
        Assert.Equal(0, linux.Expired);
        Assert.InRange(hardened.FaultLatency.MaxNs, 200_000, 250_000); // the 200 us deadline, plus the way back
        Assert.True(linux.FaultLatency.P50Ns > 1_500_000, $"linux: groups wait for the detach at 2 ms, p50 {linux.FaultLatency.P50Ns} ns");
    }

    [Fact]
    public void R8_POL_5_a_guest_never_detached_leaks_its_credits_under_linux_only()
    {
        Assert.Equal(32, Tenant("linux", "deaf-vm").CreditsLeaked);
        Assert.Equal(0, Tenant("hardened", "deaf-vm").CreditsLeaked);
        Assert.Contains(Reports["linux"].Invariants, v => v.Rule == "R8" && v.Message.Contains("deaf-vm never answered", StringComparison.Ordinal));
    }

    [Fact]
    public void POL_9_a_pri_reset_after_the_domain_change_recovers_credits_of_groups_that_never_completed()
    {
        Assert.True(Tenant("hardened", "mute-vm").CreditsRecoveredByReset > 0);
        Assert.Equal(0, Tenant("hardened", "mute-vm").CreditsLeaked);
        Assert.True(Tenant("linux", "mute-vm").CreditsLeaked > 0, "linux: the lying device's incomplete groups keep their credits");
        Assert.Contains(Reports["linux"].Invariants, v => v.Rule == "R8" && v.Message.Contains("POL-9", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("twice-vm", "already-answered")]
    [InlineData("bad-vm", "bad-code")]
    [InlineData("random-vm", "unknown-cookie")]
    [InlineData("late-vm", "answered-by-host")]
    public void POL_7_R47_each_bad_answer_is_rejected_and_counted_by_reason(string guest, string reason)
    {
        foreach (var policy in new[] { "linux", "hardened" })
            Assert.True(Tenant(policy, guest).Rejected.GetValueOrDefault(reason) > 0, $"{policy}: {guest} {reason}");
    }

    [Fact]
    public void R43_a_detach_answers_what_the_guest_held_and_its_late_answers_are_rejected()
    {
        var late = Tenant("linux", "late-vm");
        Assert.True(late.AnsweredAtDetach > 0);
        Assert.Equal(late.AnsweredAtDetach, late.Rejected["answered-by-host"]);
    }

    [Fact]
    public void Hostile_guests_run_twice_give_the_same_bytes()
    {
        Assert.Equal(JsonReportWriter.Serialize(Reports["hardened"]), JsonReportWriter.Serialize(Run("hardened")));
    }
}
