using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

public class ScenarioReaderTests
{
    [Fact]
    public void The_built_in_default_is_the_file_in_scenarios()
    {
        var path = Path.Combine(RepoRoot(), "scenarios", "default.yaml");
        var fromFile = ScenarioReader.Load(path);
        var builtIn = ScenarioReader.Default();
        Assert.Equal(JsonReportWriter.Serialize(Simulator.Run(fromFile)), JsonReportWriter.Serialize(Simulator.Run(builtIn)));
    }

    /// <summary>Linux behaviours the invariant checker reports by name; nothing else may break under linux.</summary>
    private static readonly Dictionary<string, string[]> LinuxQuirks = new()
    {
        ["H-PCI-10"] = ["R10, POL-1"],
        ["R33"] = ["does not wait for them to be handled"],
        ["POL-10"] = ["Linux keeps them"],
        ["R14"] = ["Linux keeps them"],
        ["R8"] = ["Linux has no response deadline: POL-5", "Linux does none when"],
        ["R18"] = ["Linux has no response deadline: POL-5"],
        ["R19"] = ["Linux has no response deadline: POL-5"],
    };

    /// <summary>Hardware behaviour no host policy can fix, reported by name under both policies.</summary>
    private static readonly string[] HardwareHazards = ["H-AMD-2", "H-VTD-5 switch", "H-SMMU-3 switch"];

    [Theory]
    [InlineData("hardened")]
    [InlineData("linux")]
    public void Every_example_scenario_runs_clean_under_hardened_and_breaks_only_named_linux_quirks_under_linux(string policy)
    {
        var files = Directory.GetFiles(Path.Combine(RepoRoot(), "scenarios"), "*.yaml");
        Assert.True(files.Length >= 3);
        foreach (var file in files)
        {
            var report = Simulator.Run(ScenarioReader.Load(file), policy: policy);
            Assert.True(report.Quiesced, Path.GetFileName(file));
            foreach (var v in report.Invariants)
            {
                bool hazard = HardwareHazards.Any(h => v.Message.Contains(h, StringComparison.Ordinal));
                Assert.True(hazard || (policy == "linux" && LinuxQuirks.TryGetValue(v.Rule, out var named) && named.Any(n => v.Message.Contains(n, StringComparison.Ordinal))),
                    $"{Path.GetFileName(file)} under {policy}: {v}");
            }
        }
    }

    [Fact]
    public void Durations_accept_units_and_addresses_accept_hex()
    {
        var s = ScenarioReader.Parse("""
            name: units
            timing: { link: 1.5us, interrupt: 2ms, report: 40, translation: 1s }
            iommus: [ { name: u } ]
            processes: [ { name: p, vmas: [ { start: 0x7f0000000000, pages: 2, perm: rx } ] } ]
            devices: [ { name: d, rid: "1a:1f.7", iommu: u, bind: [p] } ]
            workloads: [ { device: d, process: p, interval: 250ns } ]
            """, "units.yaml");
        Assert.Equal(1_500, s.Timing.LinkNs);
        Assert.Equal(2_000_000, s.Timing.InterruptNs);
        Assert.Equal(40, s.Timing.ReportNs);
        Assert.Equal(1_000_000_000, s.Timing.TranslationNs);
        Assert.Equal(0x7f0000000000UL, s.Processes[0].Vmas[0].Start);
        Assert.Equal(Faultline.Pcie.RequesterId.From(0x1a, 0x1f, 7), s.Devices[0].Requester);
        Assert.Equal(250, s.Workloads[0].IntervalNs);
    }

    [Fact]
    public void An_unknown_key_is_reported_before_missing_ones_with_the_keys_allowed_there()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse("name: x\nseeed: 4\n", "bad.yaml"));
        Assert.Equal(("bad.yaml", 2L, 1L, "seeed"), (e.File, e.Line, e.Column, e.Key));
        Assert.Contains("unknown key; expected one of: name, description, seed", e.Problem, StringComparison.Ordinal);
        Assert.StartsWith("bad.yaml:2:1: seeed: unknown key", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_required_key_is_named_with_its_path()
    {
        var text = Minimal[..Minimal.IndexOf("workloads:", StringComparison.Ordinal)];
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "bad.yaml"));
        Assert.Equal("workloads", e.Key);
        Assert.Contains("is required", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("capacity: 32", "capacity: lots", "devices[0].capacity", "expected an integer")]
    [InlineData("capacity: 32", "capacity: 0", "devices[0].capacity", "outside")]
    [InlineData("capacity: 32", "capacity: 32, colour: red", "devices[0].colour", "unknown key")]
    [InlineData("iommu: dmar0", "iommu: dmar9", "devices[0].iommu", "'dmar9' is not one of: dmar0")]
    [InlineData("rid: \"00:02.0\"", "rid: \"00:20.0\"", "devices[0].rid", "bus:device.function")]
    [InlineData("bind: [p]", "bind: [p, z]", "devices[0].bind[1]", "no process named 'z'")]
    [InlineData("perm: rw", "perm: rq", "processes[0].vmas[0].perm", "not a permission string")]
    [InlineData("start: 0x10000000", "start: 0x10000010", "processes[0].vmas[0].start", "not 4 KiB aligned")]
    [InlineData("resident: 0.5", "resident: 1.5", "processes[0].vmas[0].resident", "between 0 and 1")]
    [InlineData("interval: 5us", "interval: soon", "workloads[0].interval", "expected a duration")]
    [InlineData("max_pages: 4", "max_pages: 0", "workloads[0].max_pages", "outside")]
    [InlineData("policy: hardened", "policy: lenient", "policy", "'lenient' is not one of: linux, hardened")]
    [InlineData("prq_order: 2", "prq_order: [2]", "iommus[0].prq_order", "expected a single value")]
    public void Field_errors_name_the_key_and_its_position(string good, string bad, string key, string problem)
    {
        Assert.Contains(good, Minimal, StringComparison.Ordinal);
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(Minimal.Replace(good, bad, StringComparison.Ordinal), "bad.yaml"));
        Assert.Equal(key, e.Key);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        int line = Array.FindIndex(Minimal.Replace(good, bad, StringComparison.Ordinal).Split('\n'), l => l.Contains(bad, StringComparison.Ordinal)) + 1;
        Assert.Equal(line, e.Line);
    }

    [Fact]
    public void Overlapping_vmas_duplicate_names_and_unbound_workloads_are_refused()
    {
        var overlap = Minimal.Replace("- { start: 0x10000000, pages: 8, perm: rw, resident: 0.5 }",
            "- { start: 0x10000000, pages: 8, perm: rw, resident: 0.5 }\n      - { start: 0x10004000, pages: 8, perm: r }", StringComparison.Ordinal);
        Assert.Contains("overlaps", Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(overlap, "x.yaml")).Problem, StringComparison.Ordinal);

        var twice = Minimal.Replace("- name: q", "- name: p", StringComparison.Ordinal);
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(twice, "x.yaml"));
        Assert.Equal("processes[1].name", e.Key);

        var unbound = Minimal.Replace("process: p,", "process: q,", StringComparison.Ordinal);
        Assert.Contains("not bound to device", Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(unbound, "x.yaml")).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Syntax_errors_and_non_mappings_are_reported_with_a_position()
    {
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse("name: [unclosed\n", "s.yaml"));
        Assert.Equal("(syntax)", e.Key);
        Assert.True(e.Line >= 1);
        Assert.Equal("(root)", Assert.Throws<ScenarioException>(() => ScenarioReader.Parse("- a\n- b\n", "s.yaml")).Key);
    }

    private const string Minimal = """
        name: minimal
        policy: hardened
        iommus:
          - { name: dmar0, prq_order: 2 }
        processes:
          - name: p
            vmas:
              - { start: 0x10000000, pages: 8, perm: rw, resident: 0.5 }
          - name: q
            vmas:
              - { start: 0x10000000, pages: 8, perm: rw }
        devices:
          - { name: d0, rid: "00:02.0", iommu: dmar0, capacity: 32, bind: [p] }
        workloads:
          - { device: d0, process: p, accesses: 5, max_pages: 4, interval: 5us }
        """;

    internal static string RepoRoot()
    {
        var dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Faultline.slnx"))) dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("repository root not found");
        return dir;
    }
}
