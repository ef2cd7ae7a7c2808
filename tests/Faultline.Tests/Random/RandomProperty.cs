using System.Collections.Concurrent;
using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using Faultline.Simulation;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace Faultline.Tests.RandomScenarios;

/// <summary>A failure the property found, shrunk to a scenario file.</summary>
/// <param name="Seed">The generator seed of the scenario it was found in (<see cref="ScenarioGenerator.Generate"/>).</param>
/// <param name="Signature">The failure the minimal scenario still shows (<see cref="Verdict"/>).</param>
/// <param name="Path">Where the minimal scenario was written.</param>
internal sealed record Finding(string Policy, ulong Seed, string Signature, string Path, string Yaml, string Detail)
{
    public override string ToString() =>
        $"{Signature} under {Policy} (generator seed {Seed}), minimized to {Path}:\n{Detail}\n{Yaml}";
}

/// <summary>What one campaign ran and found.</summary>
/// <param name="Tolerated">Runs that broke only a known, reported break (<see cref="KnownBreaks"/>), by signature.</param>
internal sealed record Campaign(string Policy, ulong Seed, long Sequences, TimeSpan Elapsed, IReadOnlyList<Finding> Findings, IReadOnlyDictionary<string, long> Tolerated)
{
    public string Figures
    {
        get
        {
            string tolerated = Tolerated.Count == 0 ? "none" : string.Join(", ", Tolerated.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key} x{t.Value}"));
            return FormattableString.Invariant(
                $"{Policy}: {Sequences} sequences in {Elapsed.TotalSeconds:F1} s ({Sequences / Math.Max(Elapsed.TotalSeconds, 1e-9):F0}/s), seed {Seed}, {Findings.Count} new failures, known breaks tolerated: {tolerated}");
        }
    }
}

/// <summary>
/// The FsCheck property over generated scenarios: under <c>hardened</c> every invariant holds, under both policies
/// nothing throws and every run goes quiet (<see cref="Verdict"/>). FsCheck draws the generator seeds and runs
/// them in parallel; a failure is shrunk by FsCheck (<see cref="ScenarioShrinker"/>) keeping its signature, written
/// as a scenario file, and the campaign goes on past it with that signature known, so one long run finds every
/// distinct break rather than the first.
/// </summary>
internal static class RandomProperty
{
    // Full-range seeds, whatever FsCheck's size: 64 bits from two uniform draws.
    private static readonly Arbitrary<ulong> Seeds = Arb.From(
        FsCheck.Fluent.Gen.Zip(FsCheck.Fluent.Gen.Choose(int.MinValue, int.MaxValue), FsCheck.Fluent.Gen.Choose(int.MinValue, int.MaxValue),
            (hi, lo) => ((ulong)(uint)hi << 32) | (uint)lo));

    public static Campaign Run(string policy, long count, ulong seed, IReadOnlySet<string> known, string foundDirectory, int parallelism)
    {
        var findings = new List<Finding>();
        var tolerated = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var signatures = new HashSet<string>(known, StringComparer.Ordinal); // changed only between rounds
        long sequences = 0;
        var clock = Stopwatch.StartNew();
        for (int round = 0; sequences < count; round++)
        {
            var runner = new ResultRunner();
            var config = Config.Quick
                .WithMaxTest((int)Math.Min(count - sequences, int.MaxValue))
                .WithRunner(runner)
                .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(unchecked(seed + (ulong)round)), FSharpOption<int>.None)))
                .WithParallelRunConfig(parallelism > 1 ? FSharpOption<ParallelRunConfig>.Some(new ParallelRunConfig(parallelism)) : FSharpOption<ParallelRunConfig>.None);
            Check.One(config, Prop.ForAll(Seeds, (ulong s) =>
            {
                Interlocked.Increment(ref sequences);
                var verdict = Verdict.Of(ScenarioGenerator.Generate(s), policy);
                if (!verdict.Failed) return true;
                if (!verdict.Failures.All(signatures.Contains)) return false;
                foreach (var f in verdict.Failures) tolerated.AddOrUpdate(f, 1, (_, n) => n + 1);
                return true;
            }));
            if (runner.Result is not TestResult.Failed failed) break; // a round that passed ran all that was left
            ulong found = (ulong)failed.Item2.Head;
            var verdict = Verdict.Of(ScenarioGenerator.Generate(found), policy);
            string signature = verdict.Failures.FirstOrDefault(f => !signatures.Contains(f))
                ?? throw new InvalidOperationException($"generator seed {found} failed under {policy} once and not again: a run is not deterministic (DESIGN rule 2)");
            findings.Add(Minimize(ScenarioGenerator.Generate(found), found, policy, signature, foundDirectory));
            signatures.Add(signature);
        }
        return new Campaign(policy, seed, sequences, clock.Elapsed, findings, tolerated);
    }

    /// <summary>
    /// FsCheck shrinks <paramref name="scenario"/> while it still shows <paramref name="signature"/> under
    /// <paramref name="policy"/>; the smallest is written to <paramref name="directory"/> as a scenario file.
    /// </summary>
    public static Finding Minimize(Scenario scenario, ulong seed, string policy, string signature, string directory)
    {
        var minimal = Shrink(scenario, s => Verdict.Of(s, policy).Failures.Contains(signature));
        string tag = new(signature.TakeWhile(c => c != ':').Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_').ToArray());
        minimal = minimal with { Name = $"found-{tag}-{seed:x16}", Policy = policy };
        var verdict = Verdict.Of(minimal, policy);
        string yaml = ScenarioWriter.Write(minimal,
            $"Found by the random scenario property (docs/testing.md), generator seed {seed}, policy {policy}.\n" +
            $"{KnownBreaks.ShrunkFor}{signature}\n" +
            $"{KnownBreaks.Breaks}\n" + string.Concat(verdict.Failures.Select(f => $"{KnownBreaks.Indent}{f}\n")) +
            "Run: faultline run <this file>");
        Directory.CreateDirectory(directory);
        string path = System.IO.Path.Combine(directory, $"{policy}-{tag}-{seed:x16}.yaml");
        File.WriteAllText(path, yaml);
        Console.Error.WriteLine($"random scenarios: {signature} under {policy}: minimal scenario written to {path}");
        return new Finding(policy, seed, signature, path, yaml, verdict.Detail);
    }

    /// <summary>The smallest neighbour of <paramref name="scenario"/> FsCheck's shrinking reaches for which <paramref name="fails"/> holds.</summary>
    public static Scenario Shrink(Scenario scenario, Func<Scenario, bool> fails)
    {
        var runner = new ResultRunner();
        Check.One(Config.Quick.WithMaxTest(1).WithRunner(runner),
            Prop.ForAll(Arb.From(FsCheck.Fluent.Gen.Constant(scenario), ScenarioShrinker.Candidates), (Scenario s) => !fails(s)));
        return runner.Result is TestResult.Failed failed ? (Scenario)failed.Item3.Head : scenario;
    }

    /// <summary>Keeps FsCheck's result instead of printing or throwing it.</summary>
    private sealed class ResultRunner : IRunner
    {
        public TestResult? Result { get; private set; }

        public void OnStartFixture(Type t) { }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every) { }

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink) { }

        public void OnFinished(string name, TestResult testResult) => Result = testResult;
    }
}
