namespace Faultline.Cli;

public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>The run finished but broke invariants (listed in the summary and the JSON).</summary>
    public const int InvariantsBroken = 1;
    /// <summary>The command line, a scenario file or a record's bytes are wrong.</summary>
    public const int BadInput = 2;
    /// <summary>The model failed on a valid input: a bug in Faultline, reported with its message.</summary>
    public const int InternalError = 3;
}
