namespace Faultline.Host;

/// <summary>A broken invariant: the rule it breaks, when, on what, and how.</summary>
public sealed record Violation(string Rule, long TimeNs, string Subject, string Message)
{
    public override string ToString() => $"[{Rule}] t={TimeNs}ns {Subject}: {Message}";
}

/// <summary>Collects violations; keeps the first few of each rule and counts all of them.</summary>
public sealed class InvariantLog
{
    private const int KeptPerRule = 20;
    private readonly List<Violation> _kept = [];
    private readonly SortedDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public IReadOnlyList<Violation> Kept => _kept;
    public IReadOnlyDictionary<string, long> CountsByRule => _counts;
    public long Total { get; private set; }

    /// <summary>Called for every violation, kept or not (the trace marks each one).</summary>
    public Action<Violation>? Reported { get; set; }

    public void Report(string rule, long time, string subject, string message)
    {
        Reported?.Invoke(new Violation(rule, time, subject, message));
        Total++;
        _counts[rule] = _counts.GetValueOrDefault(rule) + 1;
        if (_counts[rule] <= KeptPerRule) _kept.Add(new Violation(rule, time, subject, message));
    }
}
