using Faultline.Simulation;

namespace Faultline.Fuzz;

/// <summary>Every target the harness has: each codec, the scenario reader under the default and tight limits, the command line.</summary>
internal static class FuzzTargets
{
    public static IReadOnlyList<FuzzTarget> All(string repositoryRoot) =>
    [
        .. DecoderTargets.All(),
        new ScenarioTarget("scenario", ScenarioLimits.Default, repositoryRoot),
        new ScenarioTarget("scenario-tight", ScenarioTarget.Tight, repositoryRoot),
        new ArgumentTarget(),
    ];

    /// <summary>The folder holding Faultline.slnx, from <paramref name="start"/> up.</summary>
    public static string RepositoryRoot(string start)
    {
        for (var dir = Path.GetFullPath(start); ; dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException($"no Faultline.slnx above {start}"))
            if (File.Exists(Path.Combine(dir, "Faultline.slnx"))) return dir;
    }
}
