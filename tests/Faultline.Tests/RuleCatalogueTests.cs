using System.Text.RegularExpressions;
using Faultline.Tests.Golden;

namespace Faultline.Tests;

/// <summary>
/// The rule catalogue, docs/rules (issue 10 item 5): every rule id the repository cites has an entry there,
/// every entry carries the five mandatory fields, and every entry names tests that exist.
/// </summary>
public sealed class RuleCatalogueTests
{
    private static readonly string Root = GoldenDigests.RepositoryRoot;

    [Fact]
    public void Every_rule_id_cited_in_the_repository_has_a_catalogue_entry()
    {
        var entries = Catalogue.Load(Root).Select(e => e.Id).ToHashSet();
        var missing = Citations.InRepository(Root)
            .Where(c => !entries.Contains(c.Id))
            .GroupBy(c => c.Id, c => c.Where)
            .Select(g => $"{g.Key} (cited in {string.Join(", ", g.Distinct().Take(3))})")
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(missing.Count == 0, "cited but not in docs/rules:\n" + string.Join("\n", missing));
    }

    [Fact]
    public void Every_entry_has_the_five_mandatory_fields()
    {
        var incomplete = Catalogue.Load(Root)
            .SelectMany(e => Catalogue.Fields.Where(f => string.IsNullOrWhiteSpace(e.Field(f))).Select(f => $"{e.Id} ({e.File}): no {f}"))
            .ToList();
        Assert.True(incomplete.Count == 0, string.Join("\n", incomplete));
    }

    [Fact]
    public void Every_entry_names_at_least_one_test_and_every_named_test_exists()
    {
        var tests = TestIndex.Load(Root);
        var problems = new List<string>();
        foreach (var entry in Catalogue.Load(Root))
        {
            var named = entry.NamedTests();
            if (named.Count == 0) problems.Add($"{entry.Id} ({entry.File}): names no test");
            problems.AddRange(named.Where(t => !tests.Contains(t)).Select(t => $"{entry.Id} ({entry.File}): no test {t}"));
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void Each_id_has_exactly_one_entry_and_every_heading_names_an_id()
    {
        var entries = Catalogue.Load(Root);
        Assert.NotEmpty(entries);
        var duplicates = entries.GroupBy(e => e.Id).Where(g => g.Count() > 1)
            .Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.File))}").ToList();
        Assert.True(duplicates.Count == 0, "more than one entry:\n" + string.Join("\n", duplicates));
        var malformed = Catalogue.MalformedHeadings(Root).ToList();
        Assert.True(malformed.Count == 0, "headings that are not '### <ID> — <title>':\n" + string.Join("\n", malformed));
    }

    [Theory]
    [InlineData("R12: the partial copy", "R12")]
    [InlineData("(H-PCI-7, H-SMMUv2-3, H-SMMU-9)", "H-PCI-7 H-SMMUv2-3 H-SMMU-9")]
    [InlineData("POL-1..POL-3", "POL-1 POL-2 POL-3")]
    [InlineData("H-PCI-9..11 and BUG-16", "H-PCI-9 H-PCI-10 H-PCI-11 BUG-16")]
    [InlineData("R1-R3 (queue lifecycle), R39–R41", "R1 R2 R3 R39 R40 R41")]
    [InlineData("public void R14_T3_POL2_same_index()", "R14 T3 POL-2")]
    [InlineData("void H_VTD_14_BUG_16_unit_without_pds()", "H-VTD-14 BUG-16")]
    [InlineData("BUG17_S20_an_outstanding_flush", "BUG-17 S20")]
    [InlineData("selftests S1–S3; S17 (BUG-14); (R41, S2)", "S1 S2 S3 S17 BUG-14 R41")]
    [InlineData("fail-nth style, T5 / T6", "T5 T6")]
    public void The_scan_finds_ids_in_prose_ranges_and_test_names(string text, string ids) =>
        Assert.Equal(ids.Split(' ').Order(StringComparer.Ordinal), Citations.Scan(text).Distinct().Order(StringComparer.Ordinal));

    [Theory]
    [InlineData("0xFFFF_FFFF_FFFF_F000 and 0xF1")] // hex digits
    [InlineData("R12W, T5ns, R/W/X, F00D, ResponseFailure")] // a register-like name, a duration, words
    [InlineData("EVTQ_1_S2, e.S2, S2: false, S2 = true, bool S2, (S2 ? S2Bit : 0)")] // SMMUv3 event field S2 (stage 2)
    [InlineData("RnW 35, S2 39; replace with an S2 HWPT")] // a bit position, stage 2
    [InlineData("| L1, M1, M2, S1 |  - **S1** seL4 smmuv2.h")] // the source labels of docs/smmuv2.md
    [InlineData("x-R1, a.R2, FAULT_R3, H-PCI-, BUG-, POL-")]
    public void The_scan_ignores_what_only_looks_like_an_id(string text) =>
        Assert.Empty(Citations.Scan(text));
}

/// <summary>One place a rule id is cited: the id, normalised (<c>POL-2</c>, <c>H-VTD-14</c>), and the file.</summary>
internal readonly record struct Citation(string Id, string Where);

/// <summary>Finds rule ids in text: prose (<c>R12</c>, <c>H-PCI-7</c>, ranges) and test names (<c>R14_T3_POL2_...</c>).</summary>
internal static partial class Citations
{
    // Prose: an id is a whole token (not part of a word, a hex number, a member access or a hyphenated name).
    // S1/S2 also name SMMU translation stages (the SMMUv3 event field S2, "an S2 HWPT", "S2 39" as a bit
    // position) and sources in docs/smmuv2.md ("**S1**", "| L1, S1 |"): those contexts are not scenario ids.
    [GeneratedRegex(@"(?<![\w.\-])(?<id>(?<fam>H-(?:PCI|VTD|SMMUv2|SMMU|AMD)-|BUG-|POL-|R|F|T)(?<n>[1-9]\d*)|(?<!\*\*|bool )(?<fam>S)(?<n>[1-9]\d*)(?!\s*[:=?|])(?!\s+\d)(?!\s+HWPT))(?![\w])(?:(?<sep>\.\.|…|–|-)(?<endfam>H-(?:PCI|VTD|SMMUv2|SMMU|AMD)-|BUG-|POL-|R|F|T|S)?(?<end>\d+)(?![\w]))?")]
    private static partial Regex ProseId();

    // A test name starts with the ids it checks, joined by '_': R33_BUG_8_T23_draining..., H_SMMU_9_POL_12_a_slow...
    [GeneratedRegex(@"(?<![\w.])(?:(?:H_(?:PCI|VTD|SMMUv2|SMMU|AMD)_|BUG_?|POL_?|R|F|T|S)[1-9]\d*_)+(?=\w)")]
    private static partial Regex TestNameIds();

    [GeneratedRegex(@"(?<fam>H_(?:PCI|VTD|SMMUv2|SMMU|AMD)_|BUG_?|POL_?|R|F|T|S)(?<n>[1-9]\d*)_")]
    private static partial Regex TestNameId();

    /// <summary>The ids <paramref name="text"/> cites, normalised, a range expanded to each id in it.</summary>
    public static IEnumerable<string> Scan(string text)
    {
        foreach (Match m in ProseId().Matches(text))
        {
            string family = m.Groups["fam"].Value;
            int first = int.Parse(m.Groups["n"].Value);
            yield return family + first;
            if (!m.Groups["end"].Success) continue;
            // A hyphen joins a range only when the family is repeated ("R1-R4"); "..", "…" and "–" also
            // take a bare number ("H-PCI-1..17"). A different family after the separator is no range.
            string endFamily = m.Groups["endfam"].Value;
            if (endFamily.Length > 0 ? endFamily != family : m.Groups["sep"].Value == "-") continue;
            int last = int.Parse(m.Groups["end"].Value);
            for (int n = first + 1; n <= last; n++) yield return family + n;
        }
        foreach (Match chain in TestNameIds().Matches(text))
        {
            foreach (Match id in TestNameId().Matches(chain.Value))
                yield return Normalise(id.Groups["fam"].Value) + id.Groups["n"].Value;
        }
    }

    private static string Normalise(string family) => family switch
    {
        "BUG" or "BUG_" => "BUG-",
        "POL" or "POL_" => "POL-",
        _ => family.Replace('_', '-'),
    };

    /// <summary>Every citation in src/, tests/, docs/, samples/, bench/, scenarios/ and README.md, outside the catalogue itself.</summary>
    public static IEnumerable<Citation> InRepository(string root)
    {
        string[] folders = ["src", "tests", "docs", "samples", "bench", "scenarios"];
        var files = folders.SelectMany(f => Directory.EnumerateFiles(Path.Combine(root, f), "*", SearchOption.AllDirectories))
            .Append(Path.Combine(root, "README.md"))
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Where(f => !f.Contains("/bin/") && !f.Contains("/obj/") && !f.StartsWith("docs/rules/", StringComparison.Ordinal)
                        && f != "tests/Faultline.Tests/RuleCatalogueTests.cs");
        foreach (var file in files)
        {
            foreach (var id in Scan(File.ReadAllText(Path.Combine(root, file))))
                yield return new Citation(id, file);
        }
    }
}

/// <summary>One catalogue entry: <c>### ID — title</c> and its field lines, up to the next heading.</summary>
internal sealed partial record CatalogueEntry(string Id, string Title, string File, IReadOnlyDictionary<string, string> Fields)
{
    public string? Field(string name) => Fields.GetValueOrDefault(name);

    /// <summary>The backquoted names on the Tests line: <c>Class.Method</c> or <c>Class</c>.</summary>
    public IReadOnlyList<string> NamedTests() =>
        [.. TestName().Matches(Field("Tests") ?? "").Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)?)`")]
    private static partial Regex TestName();
}

/// <summary>docs/rules/*.md, parsed.</summary>
internal static partial class Catalogue
{
    public static readonly string[] Fields = ["Rule", "Source", "Kernels", "Hardened", "Tests"];

    [GeneratedRegex(@"^### (?<id>\S+) — (?<title>\S.*)$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"^- \*\*(?<name>[A-Za-z]+):\*\*\s*(?<text>.*)$")]
    private static partial Regex FieldLine();

    private static IEnumerable<string> Files(string root) =>
        Directory.EnumerateFiles(Path.Combine(root, "docs", "rules"), "*.md").Order(StringComparer.Ordinal);

    /// <summary>The lines of a catalogue file outside fenced code blocks (README.md shows an entry in one).</summary>
    private static IEnumerable<string> Text(string path)
    {
        bool fenced = false;
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith("```", StringComparison.Ordinal)) fenced = !fenced;
            else if (!fenced) yield return line;
        }
    }

    public static List<CatalogueEntry> Load(string root)
    {
        var entries = new List<CatalogueEntry>();
        foreach (var path in Files(root))
        {
            string file = Path.GetFileName(path);
            string? id = null, title = null;
            Dictionary<string, string> fields = [];
            string? field = null;
            foreach (var line in Text(path))
            {
                if (line.StartsWith('#'))
                {
                    if (id is not null) entries.Add(new CatalogueEntry(id, title!, file, fields));
                    id = null;
                    field = null;
                    if (Heading().Match(line) is { Success: true } h)
                    {
                        (id, title, fields) = (h.Groups["id"].Value, h.Groups["title"].Value, []);
                    }
                    continue;
                }
                if (id is null) continue;
                if (FieldLine().Match(line) is { Success: true } f)
                {
                    field = f.Groups["name"].Value;
                    fields[field] = f.Groups["text"].Value.Trim();
                }
                else if (field is not null && line.StartsWith("  ", StringComparison.Ordinal))
                {
                    fields[field] = (fields[field] + " " + line.Trim()).Trim(); // a field continues on indented lines
                }
                else
                {
                    field = null;
                }
            }
            if (id is not null) entries.Add(new CatalogueEntry(id, title!, file, fields));
        }
        return entries;
    }

    /// <summary>Level-3 headings that are not an entry heading naming exactly one id.</summary>
    public static IEnumerable<string> MalformedHeadings(string root) =>
        from path in Files(root)
        from line in Text(path)
        where line.StartsWith("### ", StringComparison.Ordinal)
        let h = Heading().Match(line)
        where !h.Success || !Citations.Scan(h.Groups["id"].Value).SequenceEqual([h.Groups["id"].Value])
        select $"{Path.GetFileName(path)}: {line}";
}

/// <summary>The tests in tests/: each class that declares a test, and each <c>Class.Method</c> marked [Fact] or [Theory].</summary>
internal static partial class TestIndex
{
    [GeneratedRegex(@"^(?:(?:public|internal|private|protected|file|sealed|static|abstract|partial|readonly)\s+)*(?:class|record(?:\s+struct|\s+class)?)\s+(\w+)", RegexOptions.Multiline)]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"\[(?:Fact|Theory)\b")]
    private static partial Regex TestAttribute();

    [GeneratedRegex(@"^\s*public\s+(?:async\s+)?(?:void|Task)\s+(\w+)\s*\(", RegexOptions.Multiline)]
    private static partial Regex TestMethod();

    public static HashSet<string> Load(string root)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var files = Directory.EnumerateFiles(Path.Combine(root, "tests"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                        && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}"));
        foreach (var file in files)
        {
            string text = File.ReadAllText(file);
            // A test belongs to the last top-level type declared before it (nested helper types are indented).
            var types = TypeDeclaration().Matches(text).Select(m => (m.Index, Name: m.Groups[1].Value)).ToList();
            foreach (Match attribute in TestAttribute().Matches(text))
            {
                var method = TestMethod().Match(text, attribute.Index);
                if (!method.Success) continue;
                var owner = types.LastOrDefault(t => t.Index < attribute.Index).Name;
                if (owner is null) continue;
                names.Add(owner);
                names.Add($"{owner}.{method.Groups[1].Value}");
            }
        }
        return names;
    }
}
