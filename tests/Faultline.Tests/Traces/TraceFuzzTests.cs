using Faultline.Simulation;
using Faultline.Simulation.Traces;
using Faultline.Tests.Golden;

namespace Faultline.Tests.Traces;

/// <summary>
/// The parser and checker never throw (issue 12 acceptance): a seeded stream of a million lines, cut from a real
/// simulated capture and broken at random (truncated, bytes flipped, fields swapped, CRLF, CPUs out of order,
/// random text), is read through to its end, streamed, never held in memory.
/// </summary>
public class TraceFuzzTests
{
    private const int Lines = 1_000_000;

    [Fact]
    public void A_million_fuzzed_lines_are_read_without_an_exception()
    {
        var output = new StringWriter();
        Simulator.Run(ScenarioReader.Load(Path.Combine(GoldenDigests.ScenarioFolder, "same-workload-every-iommu.yaml")), 1, "linux", null, new FtraceWriter(output));
        var seeds = output.ToString().Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToArray();

        var report = TraceChecker.Check(new FuzzReader(seeds, new Random(12), Lines));
        Assert.Equal(Lines, report.Lines);
        Assert.True(report.Malformed > 0 && report.Events > 0, $"{report.Malformed} malformed, {report.Events} events");
        Assert.True(report.MalformedAt.Count <= TraceReader.MalformedLocated);
    }

    [Fact]
    public void Replay_survives_fuzzed_lines_too()
    {
        var output = new StringWriter();
        Simulator.Run(ScenarioReader.Load(Path.Combine(GoldenDigests.ScenarioFolder, "default.yaml")), 1, "hardened", null, new FtraceWriter(output));
        var seeds = output.ToString().Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToArray();
        var plan = ReplayPlan.FromCapture(new FuzzReader(seeds, new Random(5), 20_000));
        ReplayReport.Run(plan, Faultline.Faults.FaultPolicy.Hardened);
    }

    /// <summary>Hands out <c>count</c> lines one by one, each a capture line as it is or broken in one of several ways.</summary>
    private sealed class FuzzReader(string[] seeds, Random random, int count) : TextReader
    {
        private int _given;
        private const string Alphabet = "abcdefxyz0123456789 -:[]()./=#\t\rlrwxp";

        public override string? ReadLine()
        {
            if (_given++ >= count) return null;
            string line = seeds[random.Next(seeds.Length)];
            return random.Next(10) switch
            {
                0 => line[..random.Next(line.Length + 1)], // truncated
                1 => Flip(line),
                2 => line + "\r", // CRLF
                3 => Shift(line), // another CPU's line, earlier or later
                4 => new string(Enumerable.Range(0, random.Next(120)).Select(_ => Alphabet[random.Next(Alphabet.Length)]).ToArray()),
                5 => string.Join(' ', line.Split(' ').OrderBy(_ => random.Next())), // fields shuffled
                6 => line.Replace("0x", "0x" + new string('f', random.Next(1, 20)), StringComparison.Ordinal), // overlong numbers
                _ => line,
            };
        }

        private string Flip(string line)
        {
            if (line.Length == 0) return line;
            var chars = line.ToCharArray();
            for (int i = random.Next(1, 4); i > 0; i--) chars[random.Next(chars.Length)] = (char)random.Next(1, 0x3000);
            return new string(chars);
        }

        /// <summary>The time stamp moved by up to a second either way.</summary>
        private string Shift(string line)
        {
            int colon = line.IndexOf(": ", StringComparison.Ordinal);
            int space = colon < 0 ? -1 : line.LastIndexOf(' ', colon);
            if (space < 0 || !TraceLineParser.TryTime(line.AsSpan(space + 1, colon - space - 1), out long ns)) return line;
            long moved = Math.Max(0, ns + random.NextInt64(-1_000_000_000, 1_000_000_000)) / 1000;
            return $"{line[..(space + 1)]}{moved / 1_000_000}.{moved % 1_000_000:000000}{line[colon..]}";
        }
    }
}
