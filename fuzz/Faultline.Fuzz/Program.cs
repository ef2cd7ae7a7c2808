using System.Diagnostics;
using System.Globalization;
using Faultline.Fuzz;

// The fuzz harness of issue 14 (scripts/fuzz.sh): every codec, the scenario reader and the command line, fed seeded
// mutations of their seeds and fuzz/corpus/TARGET/. A finding (an exception escaping, a wrong exit code, a message
// that is not one line, an input over 60 s or 1 GiB) is saved under fuzz/findings/TARGET/ and the exit code is 1.
//
//   Faultline.Fuzz [--seconds N | --inputs N] [--seed N] [--target NAME]... [--save-corpus]
//
// --seconds: the whole run, shared evenly by the targets (default 60); --inputs: per target instead, untimed.
// --save-corpus: inputs with an outcome not seen before are added to fuzz/corpus/TARGET/.

var root = FuzzTargets.RepositoryRoot(AppContext.BaseDirectory);
long seconds = 60, inputs = 0;
ulong seed = 1;
bool saveCorpus = false;
var only = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    string Value() => ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value");
    switch (args[i])
    {
        case "--seconds": seconds = long.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--inputs": inputs = long.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = ulong.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--target": only.Add(Value()); break;
        case "--save-corpus": saveCorpus = true; break;
        default:
            Console.Error.WriteLine($"unknown argument '{args[i]}'; see fuzz/Faultline.Fuzz/Program.cs");
            return 2;
    }
}

var targets = FuzzTargets.All(root).Where(t => only.Count == 0 || only.Contains(t.Name)).ToList();
var bounds = new FuzzBounds { MaxTime = TimeSpan.FromSeconds(60) };
string corpus = Path.Combine(root, "fuzz", "corpus"), findings = Path.Combine(root, "fuzz", "findings");
Fuzzer? running = null;

// A hang never returns to the loop: the watchdog saves the input and ends the process.
var watchdog = new Thread(() =>
{
    while (true)
    {
        Thread.Sleep(1000);
        if (Volatile.Read(ref running) is not { } fuzzer) continue;
        long start = fuzzer.CurrentStart; // read once: between inputs it is 0, which would read as the time since boot
        if (start == 0 || Stopwatch.GetElapsedTime(start) < bounds.MaxTime!.Value) continue;
        var input = fuzzer.Current;
        var folder = Path.Combine(findings, fuzzer.Target.Name);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"hang-{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(input))[..16]}");
        File.WriteAllBytes(path, input);
        Console.Error.WriteLine($"{fuzzer.Target.Name}: an input ran past {bounds.MaxTime.Value.TotalSeconds} s; saved as {path}");
        Environment.Exit(1);
    }
}) { IsBackground = true, Name = "fuzz-watchdog" };
watchdog.Start();

Console.WriteLine(inputs > 0 ? $"seed {seed}, {inputs} inputs per target" : $"seed {seed}, {seconds} s over {targets.Count} targets");
Console.WriteLine($"{"target",-32} {"inputs",10} {"outcomes",9} {"slowest",10} {"most alloc",11} {"findings",9}");
var total = Stopwatch.StartNew();
int failures = 0;
foreach (var target in targets)
{
    var fuzzer = new Fuzzer(target, seed, bounds, corpus, findings);
    Volatile.Write(ref running, fuzzer);
    long until = inputs > 0 ? long.MaxValue : Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency / (double)targets.Count);
    var report = fuzzer.Run(inputs > 0 ? inputs : long.MaxValue, until, saveCorpus);
    failures += report.Failures.Count;
    Console.WriteLine($"{report.Target,-32} {report.Inputs,10} {report.Outcomes,9} {report.Slowest.TotalMilliseconds,8:F1}ms {report.MostAllocated / (1 << 20),8} MiB {report.Failures.Count,9}");
    foreach (var f in report.Failures.DistinctBy(f => f.Problem).Take(5)) Console.WriteLine($"    {f.Problem} (saved as {f.SavedAs})");
}
Console.WriteLine($"{total.Elapsed.TotalSeconds:F0} s, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 >> 20} MiB, {failures} findings");
return failures == 0 ? 0 : 1;
