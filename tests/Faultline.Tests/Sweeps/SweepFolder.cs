using Faultline.Simulation.Sweeps;
using Faultline.Tests.Simulation;

namespace Faultline.Tests.Sweeps;

/// <summary>A temporary folder with a small scenario and a sweep file over it, removed on dispose.</summary>
internal sealed class SweepFolder : IDisposable
{
    /// <summary>2 queue depths x 2 policies x 3 seeds = 12 points of a 50-access run.</summary>
    public const string Small = """
        scenario: scenario.yaml
        parameters:
          iommus[dmar0].prq_order: [0, 2]
        policies: [hardened, linux]
        seeds: 3
        metrics:
          p99: fault_latency.p99_ns
          success_share: devices[d0].responses_success / devices[d0].groups
          access_p99: access_latency.p99_ns
        """;

    public SweepFolder(string sweep = Small, string? scenario = null)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"faultline-sweep-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
        File.WriteAllText(System.IO.Path.Combine(Path, "scenario.yaml"), scenario ?? Scenarios.Single());
        File.WriteAllText(Sweep, sweep);
    }

    public string Path { get; }

    public string Sweep => System.IO.Path.Combine(Path, "sweep.yaml");

    public string Out(string name) => System.IO.Path.Combine(Path, name);

    public SweepPlan Plan() => SweepPlan.Build(SweepReader.Load(Sweep));

    /// <summary>The three result files of the folder <paramref name="name"/>, as text.</summary>
    public string[] Results(string name) =>
        [.. new[] { SweepOutput.Points, SweepOutput.Summary, SweepOutput.Json }.Select(f => File.ReadAllText(System.IO.Path.Combine(Out(name), f)))];

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
