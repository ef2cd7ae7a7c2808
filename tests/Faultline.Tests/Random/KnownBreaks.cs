using Faultline.Simulation;
using Faultline.Tests.Golden;

namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// Invariant breaks the random property found under <c>hardened</c> and reported, not yet fixed: the minimized
/// scenario files in tests/Faultline.Tests/Random/Found/. While one is here the property tolerates its signature
/// (counted in its figures), so the suite stays green; a fix makes <see cref="KnownBreakTests"/> fail until the file
/// becomes a regression test and leaves the folder, and the property guards that rule again.
/// </summary>
internal static class KnownBreaks
{
    /// <summary>The comment line of a found file that names the failure it was shrunk for.</summary>
    public const string ShrunkFor = "Shrunk while it still breaks: ";

    public static string Folder => Path.Combine(GoldenDigests.RepositoryRoot, "tests", "Faultline.Tests", "Random", "Found");

    /// <summary>Each found file: its name, its scenario, and the signature it was shrunk for.</summary>
    public static IReadOnlyList<(string File, Scenario Scenario, string Signature)> All() =>
        [.. Directory.EnumerateFiles(Folder, "*.yaml").Order(StringComparer.Ordinal).Select(path =>
        {
            string text = File.ReadAllText(path);
            string signature = text.Split('\n').Select(l => l.TrimStart('#', ' ')).Single(l => l.StartsWith(ShrunkFor, StringComparison.Ordinal))[ShrunkFor.Length..].Trim();
            return (Path.GetFileName(path), ScenarioReader.Parse(text, path), signature);
        })];

    /// <summary>The signatures the property tolerates under <paramref name="policy"/>.</summary>
    public static IReadOnlySet<string> For(string policy) =>
        All().Where(k => k.Scenario.Policy == policy).Select(k => k.Signature).ToHashSet(StringComparer.Ordinal);
}
