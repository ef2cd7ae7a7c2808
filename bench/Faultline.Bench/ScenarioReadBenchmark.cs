using BenchmarkDotNet.Attributes;
using Faultline.Simulation;

namespace Faultline.Bench;

/// <summary>
/// Reading scenario files large in one dimension (issue 9): functions with a workload each, VMAs
/// of one process in ascending or descending order, and every list at once. Time per file, and
/// allocation, which is mostly YamlDotNet's document. Doubling the count should double the time.
/// </summary>
[MemoryDiagnoser]
public class ScenarioReadBenchmark
{
    private string _devices = "";
    private string _vmas = "";
    private string _vmasDescending = "";
    private string _wide = "";

    [Params(1_000, 10_000)]
    public int Count { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _devices = ScaleScenarios.Devices(Count);
        _vmas = ScaleScenarios.Vmas(Count);
        _vmasDescending = ScaleScenarios.Vmas(Count, descending: true);
        _wide = ScaleScenarios.Wide(Count / 10);
    }

    [Benchmark]
    public int Devices() => ScenarioReader.Parse(_devices, "devices.yaml").Devices.Count;

    [Benchmark]
    public int Vmas() => ScenarioReader.Parse(_vmas, "vmas.yaml").Processes[0].Vmas.Count;

    [Benchmark]
    public int VmasDescending() => ScenarioReader.Parse(_vmasDescending, "vmas.yaml").Processes[0].Vmas.Count;

    /// <summary>A tenth of the count of every list (IOMMUs, processes, functions, masters, guests, events, workloads).</summary>
    [Benchmark]
    public int Wide() => ScenarioReader.Parse(_wide, "wide.yaml").Workloads.Count;
}
