using Faultline.Devices;
using Faultline.Host;
using Faultline.Simulation;

namespace Faultline.Tests.RandomScenarios;

/// <summary>The generator draws valid scenario files, the same for a seed, covering what the property is meant to exercise; the shrinker keeps them valid.</summary>
public sealed class ScenarioGeneratorTests
{
    private static readonly IReadOnlyList<Scenario> Drawn = [.. Enumerable.Range(1, 1_000).Select(seed => ScenarioGenerator.Generate((ulong)seed))];

    [Fact]
    public void Every_generated_scenario_is_in_the_domain_and_a_file_the_reader_reads_back_as_itself()
    {
        foreach (var s in Drawn)
        {
            Assert.True(ScenarioGenerator.InDomain(s), s.Name);
            string text = ScenarioWriter.Write(s);
            Assert.Equal(text, ScenarioWriter.Write(ScenarioReader.Parse(text, s.Name + ".yaml")));
        }
    }

    [Fact]
    public void A_seed_gives_the_same_scenario_every_time()
    {
        foreach (ulong seed in new ulong[] { 1, 42, ulong.MaxValue })
            Assert.Equal(ScenarioWriter.Write(ScenarioGenerator.Generate(seed)), ScenarioWriter.Write(ScenarioGenerator.Generate(seed)));
    }

    [Fact]
    public void The_generator_reaches_every_iommu_kind_guest_behaviour_operation_and_switch_it_is_meant_to()
    {
        Assert.Equal(Enum.GetValues<IommuType>().Order(), Drawn.SelectMany(s => s.Iommus).Select(i => i.Type).Distinct().Order());
        Assert.Equal(Enum.GetValues<GuestBehaviour>().Order(), Drawn.SelectMany(s => s.Guests).Select(g => g.Behaviour).Distinct().Order());
        var events = Drawn.SelectMany(s => s.Events).ToList();
        foreach (var stop in Enum.GetValues<PasidStopMode>())
        {
            Assert.Contains(events, e => e is UnbindEvent u && u.Stop == stop);
            Assert.Contains(events, e => e is ExitEvent x && x.Stop == stop);
        }
        Assert.Contains(events, e => e is BindEvent);
        Assert.Contains(events, e => e is RemoveDeviceEvent);
        Assert.Contains(Drawn.SelectMany(s => s.Guests), g => g.DetachAtNs is not null);
        Assert.Contains(Drawn.SelectMany(s => s.Devices), d => d.StopMarkerConsumesCredit);
        Assert.Contains(Drawn.SelectMany(s => s.Masters), m => m.Owner is not null);
        // Overflow bursts: a dense workload into a PRI queue of 128 (VT-d) or a handful of entries (SMMUv3).
        Assert.Contains(Drawn, s => s.Workloads.Any(w => w.Concurrency >= 8 && w.IntervalNs <= 100)
            && s.Iommus.Any(i => i.Type == IommuType.Vtd && i.PageRequestQueueOrder == 0 || i.Type == IommuType.Smmuv3 && i.QueueLog2 <= 3));
        Assert.Contains(Drawn, s => s.Host.FailGroupAllocations.Count > 0);
    }

    [Fact]
    public void Shrinking_reaches_the_smallest_valid_scenario_that_keeps_the_property_failing()
    {
        // A stand-in failure: "a never-answering guest owns a function behind an AMD IOMMU".
        static bool Fails(Scenario s) => s.Guests.Any(g => g.Behaviour == GuestBehaviour.NeverAnswers
            && s.Devices.Single(d => d.Name == g.Device).Iommu is var iommu && s.Iommus.Single(i => i.Name == iommu).Type == IommuType.Amd);
        var start = Drawn.Where(Fails).MaxBy(s => ScenarioWriter.Write(s).Length)!;
        var minimal = RandomProperty.Shrink(start, Fails);
        Assert.True(Fails(minimal));
        Assert.NotNull(ScenarioShrinker.Read(ScenarioWriter.Write(minimal)));
        Assert.Equal([IommuType.Amd], minimal.Iommus.Select(i => i.Type));
        Assert.Single(minimal.Devices);
        Assert.Single(minimal.Guests);
        Assert.Single(minimal.Processes);
        Assert.Empty(minimal.Workloads);
        Assert.Empty(minimal.Events);
        Assert.Empty(minimal.Masters);
    }
}
