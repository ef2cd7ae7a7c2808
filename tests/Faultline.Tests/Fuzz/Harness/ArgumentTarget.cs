using System.Text;
using Faultline.Cli;

namespace Faultline.Fuzz;

/// <summary>
/// The whole command line in-process, one argument per line of the input (<see cref="Faultline.Cli.Program"/> as Main runs it, but
/// reading and checking only: no run, nothing written). The exit code is 0, 1 or 2, never 3 (a bug) nor an exception
/// escaping; an error says something, on lines of its own, and no stack trace is printed.
/// </summary>
internal sealed class ArgumentTarget : FuzzTarget
{
    private static readonly string[] Tokens =
    [
        "run", "decode", "--seed", "--policy", "linux", "hardened", "--json", "--trace", "--report", "--debug", "--help", "-h", "-?", "/?",
        "--version", "--", "@", "@x", "scenarios/default.yaml", "scenarios/prq-overflow.yaml", "fuzz/corpus/scenario", "", " ", "0x", "-1",
        "18446744073709551616", "[diagram]", "[suggest]", "/tmp", "\u0000", "\n",
        "--quiet", "-q", "--section", "devices", "--width", "--rows", "-", "--set", "iommus[0].prq_order=6", "host.workers=x",
    ];

    public override string Name => "args";
    public override int MaxInput => 4096;
    public override IReadOnlyList<byte[]> Dictionary { get; } = [.. Tokens.Concat(DecoderTargets.All().Select(t => t.Name)).Select(t => Encoding.UTF8.GetBytes(t + "\n"))];

    /// <summary>A valid decode of every record, and the run forms.</summary>
    public override IEnumerable<byte[]> Seeds() =>
        DecoderTargets.All().Where(t => !t.Name.StartsWith("smmuv2-", StringComparison.Ordinal))
            .Select(t => Lines("decode", t.Name, Convert.ToHexString(t.Seeds().First())))
            .Concat([Lines("run"), Lines("run", "scenarios/default.yaml", "--seed", "3", "--policy", "linux", "--json", "out.json"), Lines("--help")]);

    public override string Run(byte[] input)
    {
        var args = Encoding.UTF8.GetString(input).Split('\n');
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = Faultline.Cli.Program.Run(args, stdout, stderr, simulate: false);
        var error = stderr.ToString();
        if (exit is not (ExitCodes.Ok or ExitCodes.InvariantsBroken or ExitCodes.BadInput))
            throw new FuzzFinding($"exit {exit}: {error}");
        if (error.Contains("   at ", StringComparison.Ordinal))
            throw new FuzzFinding($"a stack trace: {error}");
        if (exit == ExitCodes.BadInput && error.Length == 0)
            throw new FuzzFinding("exit 2 without a word");
        // One line per error: each line is the command's own, none the broken-off end of another.
        if (error.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(l => !l.StartsWith("faultline", StringComparison.Ordinal) && !l.StartsWith("Try 'faultline", StringComparison.Ordinal)) is { } stray)
            throw new FuzzFinding($"an error line that is not the command's: '{stray}' in {error}");
        return $"{exit}|{Shape(error.Split(Environment.NewLine)[0])}";
    }

    private static byte[] Lines(params string[] args) => Encoding.UTF8.GetBytes(string.Join('\n', args));
}
