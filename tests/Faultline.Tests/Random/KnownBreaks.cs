using Faultline.Simulation;
using Faultline.Tests.Golden;

namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// Invariant breaks the random property found under <c>hardened</c> and reported, not yet fixed: the minimized
/// scenario files in tests/Faultline.Tests/Random/Found/. While one is here the property tolerates the failures it
/// shows (counted in its figures), so the suite stays green; a fix makes <see cref="KnownBreakTests"/> fail until the file
/// becomes a regression test and leaves the folder, and the property guards that rule again.
/// </summary>
internal static class KnownBreaks
{
    /// <summary>The comment line of a found file that names the failure it was shrunk for.</summary>
    public const string ShrunkFor = "Shrunk while it still breaks: ";
    /// <summary>The comment line after which a found file lists every failure it shows, one per line after <see cref="Indent"/>.</summary>
    public const string Breaks = "It breaks:";
    public const string Indent = "  ";

    public static string Folder => Path.Combine(GoldenDigests.RepositoryRoot, "tests", "Faultline.Tests", "Random", "Found");

    /// <summary>Each found file: its name, its scenario, the failure it was shrunk for, and every failure it shows.</summary>
    public static IReadOnlyList<(string File, Scenario Scenario, string Signature, IReadOnlyList<string> Failures)> All() =>
        [.. Directory.EnumerateFiles(Folder, "*.yaml").Order(StringComparer.Ordinal).Select(path =>
        {
            string text = File.ReadAllText(path);
            var comments = text.Split('\n').Where(l => l.StartsWith('#')).Select(l => l.Length > 1 ? l[2..] : "").ToList();
            string signature = comments.Single(l => l.StartsWith(ShrunkFor, StringComparison.Ordinal))[ShrunkFor.Length..];
            var failures = comments.SkipWhile(l => l != Breaks).Skip(1).TakeWhile(l => l.StartsWith(Indent, StringComparison.Ordinal)).Select(l => l[Indent.Length..]).ToList();
            return (Path.GetFileName(path), ScenarioReader.Parse(text, path), signature, (IReadOnlyList<string>)failures);
        })];

    /// <summary>The failures the property tolerates under <paramref name="policy"/>: every one a found file shows.</summary>
    public static IReadOnlySet<string> For(string policy) =>
        All().Where(k => k.Scenario.Policy == policy).SelectMany(k => k.Failures).ToHashSet(StringComparer.Ordinal);
}
