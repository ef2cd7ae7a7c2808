namespace Faultline.Cli;

/// <summary>What <c>faultline</c> exits with (docs/outputs.md, "Exit codes").</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked; for <c>run</c>, every invariant held.</summary>
    public const int Ok = 0;
    /// <summary>The run finished but broke invariants (listed in the summary and the JSON); <c>check</c> found a protocol violation; <c>replay</c> found the model disagreeing with the capture.</summary>
    public const int InvariantsBroken = 1;
    /// <summary>The command line, a path, a scenario file or a record's bytes are wrong, or an output could not be written after a run whose invariants held: one line on stderr says where.</summary>
    public const int BadInput = 2;
    /// <summary>Faultline broke on an input it accepted: a bug. One line on stderr; the stack trace with <c>--debug</c>.</summary>
    public const int InternalError = 3;
    /// <summary><c>run</c> was stopped by Ctrl-C (128 + SIGINT, as shells report it): every output holds what ran, marked partial. Broken invariants still exit 1.</summary>
    public const int Interrupted = 130;
}
