using System.Diagnostics;
using System.Security.Cryptography;
using Faultline.Simulation;

namespace Faultline.Fuzz;

/// <summary>What a harness run of one target found, and what it cost at most for one input.</summary>
internal sealed record FuzzReport(string Target, long Inputs, int Outcomes, IReadOnlyList<FuzzFailure> Failures, TimeSpan Slowest, long MostAllocated);

/// <summary>One input that broke a rule: why, and where it was saved (null if the run saves nothing).</summary>
internal sealed record FuzzFailure(string Problem, byte[] Input, string? SavedAs);

/// <summary>Bounds on one input, issue 14's: a run over 60 s or over 1 GB is a finding.</summary>
internal sealed record FuzzBounds
{
    public long MaxAllocatedBytes { get; init; } = 1L << 30;
    /// <summary>Null in tests: they assert no timing. The console harness sets 60 s.</summary>
    public TimeSpan? MaxTime { get; init; }
}

/// <summary>
/// The seeded mutational loop over one <see cref="FuzzTarget"/>: start from its seeds and corpus, mutate a pooled input,
/// run it, keep it if its outcome is new. An exception other than the target's own rules, an input allocating more than
/// <see cref="FuzzBounds.MaxAllocatedBytes"/> (counted on this thread) or running past <see cref="FuzzBounds.MaxTime"/> is a
/// failure, saved under <c>findings</c> when a folder is given.
/// </summary>
internal sealed class Fuzzer(FuzzTarget target, ulong seed, FuzzBounds bounds, string? corpusDirectory = null, string? findingsDirectory = null)
{
    private const int PoolLimit = 4096;
    private long _currentStart;
    private byte[] _current = [];

    /// <summary>When the input now running started (<see cref="Stopwatch"/> ticks), for a watchdog on another thread; 0 between inputs.</summary>
    public long CurrentStart => Volatile.Read(ref _currentStart);

    /// <summary>The input now running.</summary>
    public byte[] Current => Volatile.Read(ref _current);

    public FuzzTarget Target => target;

    /// <summary>Runs the seeds, then mutated inputs until <paramref name="inputs"/> in all or <paramref name="until"/> (a <see cref="Stopwatch"/> timestamp).</summary>
    public FuzzReport Run(long inputs, long until = long.MaxValue, bool saveNewOutcomes = false)
    {
        var random = new SimRandom(seed).Fork(target.Name);
        var pool = new List<byte[]>(target.Seeds());
        if (corpusDirectory is not null && Directory.Exists(Path.Combine(corpusDirectory, target.Corpus)))
            pool.AddRange(Directory.GetFiles(Path.Combine(corpusDirectory, target.Corpus)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes));
        var outcomes = new HashSet<string>(StringComparer.Ordinal);
        var failures = new List<FuzzFailure>();
        var slowest = TimeSpan.Zero;
        long mostAllocated = 0, count = 0;
        int seeds = pool.Count;

        for (; count < inputs && Stopwatch.GetTimestamp() < until; count++)
        {
            var input = count < seeds ? pool[(int)count] : Mutator.Mutate(pool[(int)random.NextInclusive(0, pool.Count - 1)], random, pool, target.Dictionary, target.MaxInput);
            var (outcome, problem, time, allocated) = RunOne(input);
            slowest = time > slowest ? time : slowest;
            mostAllocated = Math.Max(mostAllocated, allocated);
            if (problem is not null)
            {
                failures.Add(new FuzzFailure(problem, input, Save(findingsDirectory, target.Name, input, problem)));
                continue;
            }
            if (outcomes.Add(outcome!) && count >= seeds)
            {
                if (pool.Count < PoolLimit) pool.Add(input);
                if (saveNewOutcomes) Save(corpusDirectory, target.Corpus, input, null);
            }
        }
        return new FuzzReport(target.Name, count, outcomes.Count, failures, slowest, mostAllocated);
    }

    private (string? Outcome, string? Problem, TimeSpan Time, long Allocated) RunOne(byte[] input)
    {
        Volatile.Write(ref _current, input);
        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        long start = Stopwatch.GetTimestamp();
        Volatile.Write(ref _currentStart, start);
        string? outcome = null, problem = null;
        try
        {
            outcome = target.Run(input);
        }
        catch (FuzzFinding f)
        {
            problem = f.Message;
        }
        catch (Exception e)
        {
            problem = $"{e.GetType().Name} escaped: {e.Message}";
        }
        var time = Stopwatch.GetElapsedTime(start);
        Volatile.Write(ref _currentStart, 0);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        if (problem is null && allocated > bounds.MaxAllocatedBytes) problem = $"allocated {allocated >> 20} MiB for one input";
        if (problem is null && bounds.MaxTime is { } max && time > max) problem = $"ran {time.TotalSeconds:F1} s for one input";
        return (outcome, problem, time, allocated);
    }

    /// <summary>Writes <paramref name="input"/> under DIRECTORY/FOLDER/ by its hash (and why, beside it); the path, or null without a directory.</summary>
    private static string? Save(string? directory, string folderName, byte[] input, string? problem)
    {
        if (directory is null) return null;
        var folder = Path.Combine(directory, folderName);
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, Convert.ToHexStringLower(SHA256.HashData(input))[..16]);
        File.WriteAllBytes(path, input);
        if (problem is not null) File.WriteAllText(path + ".txt", problem + Environment.NewLine);
        return path;
    }
}
