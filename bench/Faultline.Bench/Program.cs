using System.Runtime.CompilerServices;
using BenchmarkDotNet.Running;

namespace Faultline.Bench;

/// <summary>
/// BenchmarkDotNet for the micro benchmarks (any arguments it takes, e.g. <c>--filter *Engine*</c>); plain console
/// modes for whole runs, whose figures BenchmarkDotNet does not derive: <c>e2e</c>, <c>scale</c>, <c>once</c>
/// (one run of a scenario file, for an outside profiler), <c>sizes</c> (what the engine copies per event), <c>allocs</c> (a run's bytes by type) and
/// <c>check</c> (<c>faultline check</c> on a large generated capture: lines/s and memory).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "e2e":
                return EndToEndBenchmark.RunConsole(args[1..]);
            case "scale":
                return ScaleBenchmark.RunConsole(args[1..]);
            case ScaleBenchmark.ChildMode:
                return ScaleBenchmark.RunChild(args[1..]);
            case "once":
                return Once(args[1..]);
            case "check":
                return CheckCaptureBenchmark.RunConsole(args[1..]);
            case "allocs":
                return AllocationSampler.RunConsole(args[1..]);
            case "sizes":
                Console.WriteLine($"SimEvent {EngineBenchmark.SimEventSize} B, HostAction {Unsafe.SizeOf<Host.HostAction>()} B, DeviceMessage {Unsafe.SizeOf<Host.DeviceMessage>()} B");
                return 0;
            default:
                BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
                return 0;
        }
    }

    /// <summary><c>once [FILE] [--warm]</c>: runs the scenario (saturated VT-d by default) once, after one untimed run with --warm.</summary>
    private static int Once(string[] args)
    {
        string path = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? RunFigures.FindInRepository(EndToEndBenchmark.ScenarioFile);
        var scenario = Simulation.ScenarioReader.Load(path);
        if (args.Contains("--warm")) Simulation.Simulator.Run(scenario);
        var f = RunFigures.Measure(scenario);
        Console.WriteLine($"{scenario.Name}: {f.WallSeconds:0.000} s, {f.Events:N0} events, {f.Answered:N0} answered, {f.BytesPerEvent:0.0} B/event, peak {RunFigures.Mib(f.PeakWorkingSetBytes)} MiB");
        return 0;
    }
}
