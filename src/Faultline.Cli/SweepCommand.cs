using System.CommandLine;
using Faultline.Simulation;
using Faultline.Simulation.Sweeps;

namespace Faultline.Cli;

/// <summary>
/// <c>faultline sweep SWEEP [--out DIR] [--jobs N] [--shard I/N] [--emit-slurm N]</c> and <c>faultline sweep merge SWEEP
/// [--out DIR]</c> (docs/sweeps.md): a sweep's points on every core, resumed from its journal, or a 1/N shard of them,
/// or a Slurm array that runs the shards; merge writes the shards' results as one machine would have.
/// </summary>
internal static class SweepCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<string>("sweep") { Description = "Sweep file (docs/sweeps.md)" };
        var jobs = JobsOption();
        var shard = new Option<string?>("--shard") { Description = "Run only shard I of N (I from 1): every N-th point; its journal goes to the output folder for 'sweep merge'" };
        var emit = new Option<int?>("--emit-slurm") { Description = "Print an sbatch script that runs the sweep as this many array tasks (shards), then merges; runs nothing" };
        var output = OutOption();
        var sweep = new Command("sweep", "Run a scenario over parameter values, policies and seeds; write points.csv, summary.csv (mean and 95% CI across seeds) and sweep.json") { file, output, jobs, shard, emit };
        sweep.SetAction(r => Run(r.GetValue(file)!, r.GetValue(output), r.GetValue(jobs), r.GetValue(shard), r.GetValue(emit), stdout, stderr));

        var mergeFile = new Argument<string>("sweep") { Description = "The sweep file the shards ran" };
        var mergeOutput = OutOption();
        var merge = new Command("merge", "Combine the shards' journals in the output folder into the files a whole sweep writes") { mergeFile, mergeOutput };
        merge.SetAction(r => Merge(r.GetValue(mergeFile)!, r.GetValue(mergeOutput), stdout, stderr));
        sweep.Subcommands.Add(merge);
        return sweep;
    }

    /// <summary>Cores to run points on; every core by default.</summary>
    internal static Option<int> JobsOption() =>
        new("--jobs") { Description = "Points run at once (cores used); every core by default", DefaultValueFactory = _ => Environment.ProcessorCount };

    private static Option<string?> OutOption() =>
        new("--out") { Description = "Output folder (journal, points.csv, summary.csv, sweep.json); SWEEP without .yaml, plus .out, by default" };

    private static int Run(string path, string? outFolder, int jobs, string? shardText, int? emitShards, TextWriter stdout, TextWriter stderr)
    {
        (int, int)? shard = null;
        if (shardText is not null)
        {
            var parts = shardText.Split('/');
            if (parts.Length != 2 || !int.TryParse(parts[0], out int i) || !int.TryParse(parts[1], out int n) || n < 1 || i < 1 || i > n)
                return Fail(stderr, $"--shard {shardText}: expected I/N with 1 <= I <= N");
            shard = (i, n);
        }
        if (jobs < 1) return Fail(stderr, "--jobs: expected at least 1");
        if (emitShards is < 1) return Fail(stderr, "--emit-slurm: expected at least 1 shard");
        if (Load(path, stderr) is not { } plan) return ExitCodes.BadInput;
        string folder = Path.GetFullPath(outFolder ?? DefaultFolder(path));
        if (emitShards is { } shards)
        {
            stdout.Write(SlurmScript.Emit(FaultlineCommand(), Path.GetFullPath(path), folder, shards, jobs));
            return ExitCodes.Ok;
        }

        IReadOnlyList<PointResult> results;
        int ran;
        try
        {
            Directory.CreateDirectory(folder);
            using var journal = SweepJournal.Open(SweepJournal.PathFor(folder, shard), plan, out var done);
            var points = shard is var (si, sn) ? plan.Shard(si, sn) : Enumerable.Range(0, plan.Count);
            using var bar = Progress(stderr);
            results = SweepRunner.Run(plan, points, jobs, out ran, done, journal, bar is null ? null : bar.Show);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or MetricException)
        {
            return Fail(stderr, e.Message);
        }
        string what = $"{results.Count} points ({ran} run, {results.Count - ran} from the journal)";
        if (shard is var (s, of))
        {
            stderr.WriteLine($"faultline sweep: shard {s}/{of}: {what} in {SweepJournal.PathFor(folder, shard)}");
        }
        else if (!Finish(plan, results, folder, what, stdout, stderr))
        {
            return ExitCodes.BadInput;
        }
        return results.Any(r => r.InvariantsBroken > 0) ? ExitCodes.InvariantsBroken : ExitCodes.Ok;
    }

    private static int Merge(string path, string? outFolder, TextWriter stdout, TextWriter stderr)
    {
        if (Load(path, stderr) is not { } plan) return ExitCodes.BadInput;
        string folder = Path.GetFullPath(outFolder ?? DefaultFolder(path));
        var byPoint = new Dictionary<int, PointResult>();
        string[] journals;
        try
        {
            journals = Directory.Exists(folder) ? Directory.GetFiles(folder, "journal*.jsonl").Order(StringComparer.Ordinal).ToArray() : [];
            foreach (var journal in journals)
                foreach (var r in SweepJournal.Read(journal, plan))
                    if (!byPoint.TryAdd(r.Point, r) && !Same(byPoint[r.Point], r))
                        return Fail(stderr, $"{journal}: point {r.Point} differs from another journal's: were they run by different Faultline builds?");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            return Fail(stderr, e.Message);
        }
        if (byPoint.Count < plan.Count)
        {
            int first = Enumerable.Range(0, plan.Count).First(i => !byPoint.ContainsKey(i));
            return Fail(stderr, $"{plan.Count - byPoint.Count} of {plan.Count} points are in no journal in '{folder}' ({journals.Length} read), the first is point {first}: run the missing shards");
        }
        var results = byPoint.Values.OrderBy(r => r.Point).ToList();
        if (!Finish(plan, results, folder, $"{results.Count} points merged from {journals.Length} journals", stdout, stderr)) return ExitCodes.BadInput;
        return results.Any(r => r.InvariantsBroken > 0) ? ExitCodes.InvariantsBroken : ExitCodes.Ok;
    }

    private static bool Same(PointResult a, PointResult b) =>
        a.InvariantsBroken == b.InvariantsBroken && a.Values.Select(SweepOutput.Number).SequenceEqual(b.Values.Select(SweepOutput.Number));

    private static bool Finish(SweepPlan plan, IReadOnlyList<PointResult> results, string folder, string what, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            SweepOutput.Write(plan, results, folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(stderr, $"cannot write the results to '{folder}': {e.Message}");
            return false;
        }
        SweepTables.WriteSummary(plan, SweepOutput.Groups(plan, results), stdout);
        stderr.WriteLine($"faultline sweep: {what}; {SweepOutput.Points}, {SweepOutput.Summary} and {SweepOutput.Json} in {folder}"); // status; the table alone on standard output
        return true;
    }

    /// <summary>The sweep file read and every configuration's scenario with it, or null after saying why.</summary>
    internal static SweepPlan? Load(string path, TextWriter stderr)
    {
        if (Paths.InputProblem(path) is { } problem)
        {
            Fail(stderr, $"cannot read sweep '{path}': {problem}");
            return null;
        }
        try
        {
            return SweepPlan.Build(SweepReader.Load(path));
        }
        catch (Exception e) when (e is ScenarioException or ScenarioOverrideException)
        {
            Fail(stderr, e.Message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(stderr, $"cannot read sweep '{path}': {e.Message}");
        }
        return null;
    }

    /// <summary>A progress bar when standard error is the console and a terminal.</summary>
    internal static SweepProgress? Progress(TextWriter stderr) =>
        ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected ? new SweepProgress(stderr) : null;

    private static string DefaultFolder(string path) => Path.ChangeExtension(path, null) + ".out";

    /// <summary>How the nodes run this faultline: its apphost, or dotnet with its assembly.</summary>
    private static string FaultlineCommand()
    {
        string host = Path.Combine(AppContext.BaseDirectory, "faultline");
        return File.Exists(host) ? host : $"dotnet {typeof(SweepCommand).Assembly.Location}";
    }

    internal static int Fail(TextWriter stderr, string message)
    {
        ErrorLine.Write(stderr, $"faultline sweep: {message}");
        return ExitCodes.BadInput;
    }
}
