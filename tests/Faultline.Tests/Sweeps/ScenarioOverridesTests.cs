using Faultline.Simulation;
using Faultline.Tests.Simulation;

namespace Faultline.Tests.Sweeps;

/// <summary>Issue 11 item 2: <c>--set PATH=VALUE</c> on the scenario's tree, validated by the strict reader, errors naming the setting.</summary>
public sealed class ScenarioOverridesTests
{
    private static Scenario Read(params string[] settings) =>
        ScenarioReader.Parse(Scenarios.Single(), "test.yaml", overrides: [.. settings.Select(ScenarioOverride.Parse)]);

    private static string Refused(params string[] settings) => Assert.Throws<ScenarioOverrideException>(() => Read(settings)).Message;

    [Fact]
    public void A_setting_replaces_a_value_by_index_or_by_name()
    {
        Assert.Equal(4, Read().Iommus[0].PageRequestQueueOrder);
        Assert.Equal(6, Read("iommus[0].prq_order=6").Iommus[0].PageRequestQueueOrder);
        Assert.Equal(64u, Read("devices[d0].capacity=64").Devices[0].Capacity);
        Assert.Equal(3, Read("iommus[dmar0].prq_order=2", "iommus[0].prq_order=3").Iommus[0].PageRequestQueueOrder); // in order: the last wins
    }

    [Fact]
    public void A_setting_adds_a_key_and_the_mappings_on_its_way()
    {
        var scenario = Read("host.workers=3", "seed=42");
        Assert.Equal(3, scenario.Host.Workers);
        Assert.Equal(42ul, scenario.Seed);
    }

    [Fact]
    public void Without_settings_the_scenario_reads_as_before()
    {
        Assert.Equal(
            JsonReportWriter.Serialize(Simulator.Run(ScenarioReader.Parse(Scenarios.Single(), "test.yaml"))),
            JsonReportWriter.Serialize(Simulator.Run(Read())));
    }

    [Fact]
    public void An_unknown_key_is_named_with_the_nearest_known_one()
    {
        Assert.Equal("--set iommus[0].prq_ordr=6: unknown key 'prq_ordr' (did you mean prq_order?)", Refused("iommus[0].prq_ordr=6"));
        Assert.StartsWith("--set colour=red: unknown key 'colour'; expected one of: name, description", Refused("colour=red"));
    }

    [Fact]
    public void A_value_the_reader_refuses_is_the_settings_fault()
    {
        Assert.Equal("--set iommus[0].prq_order=99: 99 is outside [0, 12]", Refused("iommus[0].prq_order=99"));
        string message = Refused("host.workers=many");
        Assert.StartsWith("--set host.workers=many: ", message);
        Assert.Contains("'many'", message);
    }

    [Fact]
    public void A_path_that_leads_nowhere_says_where_it_stops()
    {
        Assert.Equal("--set iommus[2].prq_order=1: iommus has 1 items, numbered from 0", Refused("iommus[2].prq_order=1"));
        Assert.Equal("--set iommus[vtd9].prq_order=1: no item of iommus is named 'vtd9'; names: dmar0", Refused("iommus[vtd9].prq_order=1"));
        Assert.Equal("--set name.first=x: name is a single value, not a mapping", Refused("name.first=x"));
        Assert.Equal("--set guests[0].device=d0: guests is not in the scenario, not a list", Refused("guests[0].device=d0"));
    }

    [Theory]
    [InlineData("prq_order", "expected PATH=VALUE")]
    [InlineData("=6", "not a path")]
    [InlineData("iommus[.x=1", "not a path")]
    [InlineData("iommus..x=1", "not a path")]
    public void A_setting_that_is_no_path_and_value_is_refused(string setting, string problem)
    {
        var e = Assert.Throws<ScenarioOverrideException>(() => ScenarioOverride.Parse(setting));
        Assert.StartsWith($"--set {setting}: {problem}", e.Message);
    }

    [Fact]
    public void The_file_keeps_its_own_places_for_its_own_errors()
    {
        var e = Assert.Throws<ScenarioException>(() =>
            ScenarioReader.Parse(Scenarios.Single(deviceExtra: ", capacity: 0"), "test.yaml", overrides: [ScenarioOverride.Parse("seed=3")]));
        Assert.Equal("test.yaml", e.File);
        Assert.Equal("devices[0].capacity", e.Key);
    }
}
