using System.Globalization;
using System.Text;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// Issue 14: hostile scenario files end in one located <see cref="ScenarioException"/> — a YAML problem at its place, a
/// broken limit by name — never another exception, a stack overflow, a hang or a blow-up.
/// </summary>
public sealed class ScenarioReaderHostileTests
{
    [Fact]
    public void An_unclosed_flow_at_the_end_of_the_file_is_a_located_syntax_error_not_a_parser_crash()
    {
        var e = Refused("name: [\nx\n");
        Assert.Equal(("(syntax)", 2L, 1L), (e.Key, e.Line, e.Column));
        Assert.Null(e.Limit);
    }

    [Fact]
    public void Nesting_forty_thousand_deep_is_refused_by_the_depth_limit_without_recursing()
    {
        var e = Refused(new string('[', 40_000));
        Assert.Equal(("(nesting)", "depth", 1L, 65L), (e.Key, e.Limit, e.Line, e.Column));
        Assert.Equal("hostile.yaml:1:65: (nesting): lists and mappings nested more deeply, over the 'depth' limit of 64", e.Message);
    }

    [Theory]
    [InlineData("? *a10\n: 1\n")] // the issue's 589 bytes: as a key, the representation model hashed it whole, for ever
    [InlineData("name: *a10\n")]
    public void An_alias_bomb_is_refused_by_the_nodes_limit_where_it_grows_past_it(string use)
    {
        var e = Refused(AliasBomb(10) + use);
        Assert.Equal(("(nodes)", "nodes", 7L), (e.Key, e.Limit, e.Line)); // a6 alone is 9^7 nodes
    }

    [Fact]
    public void An_alias_bomb_within_the_nodes_limit_used_as_a_key_is_refused_before_it_is_hashed()
    {
        var e = Refused(AliasBomb(5) + "? *a5\n: 1\n");
        Assert.Equal(("(key)", 7L, 3L), (e.Key, e.Line, e.Column));
    }

    [Fact]
    public void A_key_that_is_an_alias_a_list_or_nothing_is_refused_where_it_is()
    {
        var e = Refused("a: &k name\n? *k\n: x\n");
        Assert.Equal(("(key)", 2L, 3L), (e.Key, e.Line, e.Column));
        var list = Refused("? [a, b]\n: x\n");
        Assert.Equal(("(key)", 1L, "a key is a name, not a list or a mapping"), (list.Key, list.Line, list.Problem));
        var none = Refused("name: x\n: y\n");
        Assert.Equal(("(key)", 2L, 3L, "a value without a key (a name before the ':')"), (none.Key, none.Line, none.Column, none.Problem));
    }

    [Theory]
    [InlineData("name: x\nseed: *nope\n", 2L, 7L, "*nope refers to no anchor &nope before it")]
    [InlineData("name: x\nseed: &s [1, *s]\n", 2L, 14L, "*s refers to the node that contains it")]
    public void An_undefined_alias_is_reported_where_it_is_not_at_1_1(string text, long line, long column, string problem)
    {
        var e = Refused(text);
        Assert.Equal(("(alias)", line, column, problem), (e.Key, e.Line, e.Column, e.Problem));
    }

    [Fact]
    public void An_alias_after_its_anchor_reads_as_the_node_it_names()
    {
        var s = ScenarioReader.Parse(Scenarios.Single().Replace("name: single", "description: &x single\nname: *x", StringComparison.Ordinal), "alias.yaml");
        Assert.Equal(("single", "single"), (s.Name, s.Description));
    }

    [Fact]
    public void A_key_given_twice_is_reported_at_its_second_place()
    {
        var e = Refused("name: x\nseed: 1\nseed: 2\n");
        Assert.Equal(("seed", 3L, 1L, "appears twice in the same mapping"), (e.Key, e.Line, e.Column, e.Problem));
    }

    [Theory]
    [InlineData("", 1L, "the file holds no YAML document")]
    [InlineData("# only a comment\n", 1L, "the file holds no YAML document")]
    [InlineData("name: x\n---\nname: y\n", 2L, "a second YAML document; a scenario is one document")]
    public void A_file_must_hold_exactly_one_document(string text, long line, string problem)
    {
        var e = Refused(text);
        Assert.Equal(("(document)", line, problem), (e.Key, e.Line, e.Problem));
    }

    [Theory]
    [InlineData("time_limit: 10s", "time_limit: NaN", "time_limit")]
    [InlineData("time_limit: 10s", "time_limit: nanms", "time_limit")]
    [InlineData("time_limit: 10s", "time_limit: Infinity", "time_limit")]
    [InlineData("time_limit: 10s", "time_limit: 1e400ns", "time_limit")]
    [InlineData("interval: 5us", "interval: -Infinityus", "workloads[0].interval")]
    [InlineData("link: 250ns", "link: NaN", "timing.link")]
    [InlineData("resident: 0.25", "resident: NaN", "processes[0].vmas[0].resident")]
    [InlineData("write_fraction: 0.5", "write_fraction: nan", "workloads[0].write_fraction")]
    [InlineData("write_fraction: 0.5", "write_fraction: Infinity", "workloads[0].write_fraction")]
    public void NaN_and_infinities_are_refused_for_durations_and_fractions_at_their_place(string good, string bad, string key)
    {
        var text = Scenarios.Single()
            .Replace("name: single", "name: single\ntime_limit: 10s\ntiming: { link: 250ns }", StringComparison.Ordinal)
            .Replace("write_fraction: 0.5", "write_fraction: 0.5, interval: 5us", StringComparison.Ordinal);
        Assert.Contains(good, text, StringComparison.Ordinal);
        ScenarioReader.Parse(text, "finite.yaml");

        var e = Refused(text.Replace(good, bad, StringComparison.Ordinal));

        Assert.Equal(key, e.Key);
        Assert.Equal(Array.FindIndex(text.Split('\n'), l => l.Contains(good, StringComparison.Ordinal)) + 1, e.Line);
        Assert.Contains($"got '{bad[(bad.IndexOf(':', StringComparison.Ordinal) + 2)..]}'", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name: d0,", "name: \"d\\n0\",", "devices[0].name")]
    [InlineData("name: d0,", "name: \"d\\t0\",", "devices[0].name")]
    [InlineData("- name: p", "- name: \"p\\r\"", "processes[0].name")]
    public void A_name_with_a_control_character_is_refused(string good, string bad, string key)
    {
        var e = Refused(Scenarios.Single().Replace(good, bad, StringComparison.Ordinal));
        Assert.Equal(key, e.Key);
        Assert.Contains("control character", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_list_of_names_in_a_message_is_cut_short()
    {
        var text = ScenarioReaderScaleTests.Devices(100).Replace("- { device: dev99, process: p", "- { device: dev100, process: p", StringComparison.Ordinal);
        var e = Refused(text);
        Assert.Equal("'dev100' is not one of: dev0, dev1, dev2, dev3, dev4, dev5, dev6, dev7, dev8, dev9, dev10, dev11, dev12, dev13, dev14, dev15, ... (100 in all)", e.Problem);
    }

    public static TheoryData<string, ScenarioLimits, string, string> Breaches() => new()
    {
        { "iommus", new ScenarioLimits { Iommus = 1 }, "iommus", "2 IOMMUs so far" },
        { "queue_entries", new ScenarioLimits { QueueEntries = 2047 }, "iommus[0].prq_order", "2048 hardware queue entries so far" },
        { "processes", new ScenarioLimits { Processes = 1 }, "processes", "2 processes so far" },
        { "vmas", new ScenarioLimits { Vmas = 2 }, "processes[1].vmas", "3 VMAs so far" },
        { "vma_pages", new ScenarioLimits { VmaPages = 71 }, "processes[1].vmas[0].pages", "72 VMA pages so far" },
        { "resident_pages", new ScenarioLimits { ResidentPages = 15 }, "processes[1].vmas[0].resident", "16 resident pages so far" },
        { "devices", new ScenarioLimits { Devices = 2 }, "masters", "3 devices and masters so far" },
        { "workloads", new ScenarioLimits { Workloads = 1 }, "workloads", "2 workloads so far" },
        { "events", new ScenarioLimits { Events = 0 }, "events", "1 events so far" },
        { "nodes", new ScenarioLimits { Nodes = 20 }, "(nodes)", "the document, aliases expanded, has more nodes" },
        { "depth", new ScenarioLimits { Depth = 2 }, "(nesting)", "lists and mappings nested more deeply" },
        { "file_size", new ScenarioLimits { FileBytes = 100 }, "(file)", "" },
    };

    [Theory]
    [MemberData(nameof(Breaches))]
    public void Each_limit_breached_is_named_with_its_value_at_the_place_that_breaks_it(string limit, ScenarioLimits limits, string key, string what)
    {
        var text = Scenarios.Single()
            .Replace("iommus:\n  - { name: dmar0 }", "iommus:\n  - { name: dmar0 }\n  - { name: smmu0, type: smmuv3 }", StringComparison.Ordinal)
            .Replace("processes:", "processes:\n  - name: q\n    vmas: [ { start: 0x10000000, pages: 8, perm: r } ]", StringComparison.Ordinal)
            .Replace("workloads:", "masters:\n  - { name: m0, stream_id: 0x100, iommu: smmu0, bind: [q] }\n  - { name: m1, stream_id: 0x101, iommu: smmu0, bind: [q] }\nevents:\n  - { at: 1us, exit: { process: q } }\nworkloads:\n  - { device: m0, process: q, accesses: 1 }", StringComparison.Ordinal);
        ScenarioReader.Parse(text, "limits.yaml"); // within the defaults

        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "limits.yaml", limits));

        Assert.Equal((limit, key), (e.Limit, e.Key));
        Assert.StartsWith(what, e.Problem, StringComparison.Ordinal);
        Assert.EndsWith($"over the '{limit}' limit of {LimitValue(limits, limit)}", e.Problem, StringComparison.Ordinal);
        Assert.True(e.Line >= 1 && e.Column >= 1);
    }

    [Fact]
    public void The_issue_reproducer_six_full_vmas_resident_whole_is_refused_by_resident_pages_at_once()
    {
        var s = new StringBuilder("name: huge\niommus: [ { name: dmar0 } ]\nprocesses:\n  - name: p\n    vmas:\n");
        for (int i = 1; i <= 6; i++) s.Append(CultureInfo.InvariantCulture, $"      - {{ start: 0x{(ulong)i << 44:x}, pages: 16777216, perm: rw, resident: 1.0 }}\n");
        s.Append("devices: [ { name: d0, rid: \"00:02.0\", iommu: dmar0, bind: [p] } ]\nworkloads: [ { device: d0, process: p } ]\n");

        var e = Refused(s.ToString());

        Assert.Equal(("resident_pages", "processes[0].vmas[0].resident", 6L), (e.Limit, e.Key, e.Line));
    }

    [Fact]
    public void The_amd_isolation_reproducer_of_issue_14_reads_cleanly()
    {
        var s = ScenarioReader.Parse(AmdIsolationReproducer, "amd-isolation.yaml");

        Assert.Equal(Faultline.Host.IommuType.Amd, Assert.Single(s.Iommus).Type);
        Assert.Equal(["p3", "p1"], Assert.Single(s.Devices).Bind);
        Assert.Equal((3896L, 258L), (s.Timing.TranslationNs, s.Timing.InterruptNs));
        Assert.Equal(new UnbindEvent(3409, "d0", "p3", Faultline.Devices.PasidStopMode.StopMarker), Assert.Single(s.Events));
        Assert.Equal(2, s.Workloads.Count);
    }

    /// <summary>Issue 14's AMD reproducer (a fault resolved in the other process's address space); also fuzz/corpus/scenario/.</summary>
    internal const string AmdIsolationReproducer = """
        name: amd-isolation
        timing: { translation: 3896ns, interrupt: 258ns }
        iommus:
          - { name: amd0, type: amd }
        processes:
          - { name: p1, vmas: [ { start: 0x10101000, pages: 256, perm: w } ] }
          - { name: p3, vmas: [ { start: 0x1025e000, pages: 64, perm: rw } ] }
        devices:
          - { name: d0, rid: "03:15.7", iommu: amd0, bind: [p3, p1] }
        workloads:
          - { device: d0, process: p1 }
          - { device: d0, process: p3 }
        events:
          - { at: 3409ns, unbind: { device: d0, process: p3, stop: marker } }
        """;

    [Fact]
    public void Load_refuses_an_endless_file_at_the_size_limit_before_reading_it_all()
    {
        if (!File.Exists("/dev/zero")) return; // Linux and macOS
        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Load("/dev/zero", new ScenarioLimits { FileBytes = 1 << 20 }));
        Assert.Equal(("file_size", "(file)", "/dev/zero"), (e.Limit, e.Key, e.File));
    }

    [Fact]
    public void Load_says_a_directory_is_a_directory()
    {
        var e = Assert.Throws<IOException>(() => ScenarioReader.Load(Path.GetTempPath()));
        Assert.Contains("is a directory", e.Message, StringComparison.Ordinal);
    }

    private static long LimitValue(ScenarioLimits l, string name) => name switch
    {
        "file_size" => l.FileBytes, "depth" => l.Depth, "nodes" => l.Nodes, "iommus" => l.Iommus, "queue_entries" => l.QueueEntries,
        "processes" => l.Processes, "vmas" => l.Vmas, "vma_pages" => l.VmaPages, "resident_pages" => l.ResidentPages,
        "devices" => l.Devices, "workloads" => l.Workloads, "events" => l.Events, _ => throw new ArgumentException(name),
    };

    /// <summary>Anchors a0..a<paramref name="levels"/>, each a list of nine aliases of the one before: 9^levels nodes from a few hundred bytes.</summary>
    internal static string AliasBomb(int levels)
    {
        var s = new StringBuilder("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for (int i = 1; i <= levels; i++)
            s.Append(CultureInfo.InvariantCulture, $"a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        return s.ToString();
    }

    private static ScenarioException Refused(string text) => Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "hostile.yaml"));
}
