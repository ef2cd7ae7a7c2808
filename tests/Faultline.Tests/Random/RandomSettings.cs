using System.Globalization;

namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// How many sequences the property runs and where its results go, from the environment (docs/testing.md): the suite
/// runs 10 000 per policy from a fixed seed, so it is deterministic; scripts/random-long.sh sets a count and a new seed.
/// </summary>
internal sealed record RandomSettings(long Count, ulong Seed, string FoundDirectory, string? ReportFile, int Parallelism)
{
    public const long SuiteCount = 10_000;
    public const ulong SuiteSeed = 20_251_010;

    public static RandomSettings FromEnvironment() => new(
        Variable("FAULTLINE_RANDOM_SEQUENCES") is { } count ? long.Parse(count, CultureInfo.InvariantCulture) : SuiteCount,
        Variable("FAULTLINE_RANDOM_SEED") is { } seed ? ulong.Parse(seed, CultureInfo.InvariantCulture) : SuiteSeed,
        Variable("FAULTLINE_RANDOM_FOUND") ?? Path.Combine(Path.GetTempPath(), "faultline-random"),
        Variable("FAULTLINE_RANDOM_REPORT"),
        Environment.ProcessorCount);

    private static string? Variable(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}
