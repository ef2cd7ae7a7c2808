using System.Text;
using Faultline.Simulation;

namespace Faultline.Fuzz;

/// <summary>
/// The scenario reader on arbitrary text: a scenario or one <see cref="ScenarioException"/>, placed (line and column
/// from 1), keyed and saying what is wrong; nothing else. Run under the default limits and, as "scenario-tight", under small
/// ones, so each limit's path is reached by inputs of a few KiB.
/// </summary>
internal sealed class ScenarioTarget(string name, ScenarioLimits limits, string repositoryRoot) : FuzzTarget
{
    /// <summary>Small enough that mutated example scenarios cross every limit.</summary>
    public static readonly ScenarioLimits Tight = new()
    {
        FileBytes = 8192, Depth = 6, Nodes = 600, Iommus = 2, QueueEntries = 4096, Processes = 3, Vmas = 6,
        VmaPages = 4096, ResidentPages = 512, Devices = 4, Workloads = 4, Events = 3,
    };

    private static readonly string[] Tokens =
    [
        "name: ", "iommus:", "processes:", "devices:", "masters:", "guests:", "workloads:", "events:", "timing:", "host:", "vmas:",
        "type: smmuv3", "type: amd", "type: smmuv2", "rid: \"00:02.0\"", "bind: [p]", "pages: 16777216", "resident: 1.0", "resident: NaN",
        "time_limit: NaN", "interval: Infinity", "at: 1e400ns", "0x8000000000000000", "-1", "18446744073709551616", "&a ", "*a", "<<: *a",
        "? ", "---\n", "...\n", "!!str ", "%YAML 1.2\n", "\"\\n\"", "\"\\u0000\"", "'", "[[[[[[[[", "{{{{", "- - - -", "\t", "\r\n", "\uFEFF",
    ];

    public override string Name => name;
    public override string Corpus => "scenario";
    public override int MaxInput => 1 << 16;
    public override IReadOnlyList<byte[]> Dictionary { get; } = [.. Tokens.Select(Encoding.UTF8.GetBytes)];

    public override IEnumerable<byte[]> Seeds() =>
        Directory.GetFiles(Path.Combine(repositoryRoot, "scenarios"), "*.yaml").Order(StringComparer.Ordinal).Select(File.ReadAllBytes);

    public override string Run(byte[] input)
    {
        try
        {
            ScenarioReader.Parse(Encoding.UTF8.GetString(input), "fuzz.yaml", limits);
            return "ok";
        }
        catch (ScenarioException e)
        {
            if (e.Line < 1 || e.Column < 1 || e.Key.Length == 0 || e.Problem.Length == 0)
                throw new FuzzFinding($"not placed, keyed and said: {e.Line}:{e.Column} '{e.Key}' {e.Message}");
            return $"{Shape(e.Key)}|{e.Limit}|{Shape(e.Problem)}";
        }
    }
}
