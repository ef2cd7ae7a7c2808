namespace Faultline.Host;

/// <summary>A broken invariant: the rule it breaks, when, on what, and how.</summary>
public sealed record Violation(string Rule, long TimeNs, string Subject, string Message)
{
    /// <summary>The violation as one line: <c>[rule] t=…ns subject: message</c>.</summary>
    public override string ToString() => $"[{Rule}] t={TimeNs}ns {Subject}: {Message}";
}

/// <summary>Collects violations; keeps the first few of each rule and counts all of them.</summary>
public sealed class InvariantLog
{
    private const int KeptPerRule = 20;
    private readonly List<Violation> _kept = [];
    private readonly SortedDictionary<string, long> _counts = new(StringComparer.Ordinal);

    /// <summary>The first 20 violations of each rule, in the order they were reported.</summary>
    public IReadOnlyList<Violation> Kept => _kept;
    /// <summary>Violations counted per rule id, kept or not, in ordinal order of the id.</summary>
    public IReadOnlyDictionary<string, long> CountsByRule => _counts;
    /// <summary>Violations of every rule, kept or not.</summary>
    public long Total { get; private set; }

    /// <summary>Called for every violation, kept or not (the trace marks each one).</summary>
    public Action<Violation>? Reported { get; set; }

    /// <summary>Records that <paramref name="rule"/> was broken at <paramref name="time"/> on <paramref name="subject"/>.</summary>
    public void Report(string rule, long time, string subject, string message)
    {
        Reported?.Invoke(new Violation(rule, time, subject, message));
        Total++;
        _counts[rule] = _counts.GetValueOrDefault(rule) + 1;
        if (_counts[rule] <= KeptPerRule) _kept.Add(new Violation(rule, time, subject, message));
    }
}
