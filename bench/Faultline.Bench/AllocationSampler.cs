using System.Diagnostics.Tracing;
using System.Globalization;

namespace Faultline.Bench;

/// <summary>
/// <c>allocs [FILE | --scale FUNCTIONS,REQUESTS]</c>: where a run's bytes go, by type (<c>--scale</c>: the scale
/// benchmark's generated scenario). The runtime raises an AllocationTick event about every
/// 100 KB allocated, naming the type of the object that crossed the mark; over millions of events the ticks per type
/// estimate its share of the bytes. One warm run first, so the JIT's own allocations stay out.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int GcKeyword = 0x1;
    private readonly Dictionary<string, (long Ticks, long Bytes)> _byType = new();

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, (EventKeywords)GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        int typeAt = e.PayloadNames!.IndexOf("TypeName"), amountAt = e.PayloadNames.IndexOf("AllocationAmount64");
        if (typeAt < 0) return;
        string type = e.Payload[typeAt] as string ?? "?";
        long bytes = amountAt >= 0 ? Convert.ToInt64(e.Payload[amountAt], CultureInfo.InvariantCulture) : 100_000;
        lock (_byType)
        {
            var (ticks, sum) = _byType.GetValueOrDefault(type);
            _byType[type] = (ticks + 1, sum + bytes);
        }
    }

    public static int RunConsole(string[] args)
    {
        int scale = Array.IndexOf(args, "--scale");
        Simulation.Scenario scenario;
        if (scale >= 0)
        {
            if (scale + 1 >= args.Length || args[scale + 1].Split(',') is not [var f, var r]
                || !int.TryParse(f, CultureInfo.InvariantCulture, out int functions) || functions < 1
                || !long.TryParse(r, CultureInfo.InvariantCulture, out long requests) || requests < 1)
            {
                Console.Error.WriteLine("allocs: --scale wants FUNCTIONS,REQUESTS, two positive integers (e.g. --scale 10000,3000000)");
                return 2;
            }
            scenario = ScaleBenchmark.Load(functions, requests, 64);
        }
        else
        {
            string path = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? RunFigures.FindInRepository(EndToEndBenchmark.ScenarioFile);
            scenario = Simulation.ScenarioReader.Load(path);
        }
        Simulation.Simulator.Run(scenario);
        RunFigures figures;
        Dictionary<string, (long Ticks, long Bytes)> byType;
        using (var sampler = new AllocationSampler())
        {
            figures = RunFigures.Measure(scenario);
            lock (sampler._byType) byType = new(sampler._byType);
        }
        long total = byType.Values.Sum(v => v.Bytes);
        Console.WriteLine($"{scenario.Name}: {figures.AllocatedBytes:N0} B allocated, {figures.BytesPerEvent:0.0} B/event, {figures.BytesPerAnswered:0} B/answered; sampled {total:N0} B");
        Console.WriteLine($"{"share",6}  {"B/answered",10}  type");
        foreach (var (type, v) in byType.OrderByDescending(kv => kv.Value.Bytes).Take(25))
        {
            double share = total == 0 ? 0 : (double)v.Bytes / total;
            Console.WriteLine($"{share,6:P1}  {share * figures.BytesPerAnswered,10:0.0}  {type}");
        }
        return 0;
    }
}
