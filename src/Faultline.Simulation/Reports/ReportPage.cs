namespace Faultline.Simulation;

/// <summary>
/// The runs of one HTML page and what its charts share: each run's label and line style, one colour per tenant,
/// function or master whatever the run, the IOMMU kinds present, and the end of the longest run.
/// </summary>
internal sealed class ReportPage(IReadOnlyList<RunReport> runs, IReadOnlyList<string> labels)
{
    private readonly Dictionary<(string Key, string Name), int> _colours = [];

    public IReadOnlyList<RunReport> Runs => runs;

    public IReadOnlyList<string> Labels => labels;

    /// <summary>Every IOMMU kind of any run, in the order the scenarios declare them.</summary>
    public IReadOnlyList<string> Kinds { get; } = [.. runs.SelectMany(r => r.Iommus.Select(i => i.Kind)).Distinct()];

    public long EndNs { get; } = runs.Max(r => r.EndTimeNs);

    public string KindOf(RunReport run, string iommu) => run.Iommus.FirstOrDefault(i => i.Name == iommu)?.Kind ?? "";

    /// <summary>What a series or row is called: its name, and the run's label when runs are compared.</summary>
    public string Label(string name, int run) => runs.Count == 1 ? name : $"{name} · {labels[run]}";

    /// <summary>The colour index of <paramref name="name"/> among the <paramref name="key"/>s of this page (tenants, functions...).</summary>
    public int Colour(string key, string name)
    {
        if (!_colours.TryGetValue((key, name), out int colour))
            _colours.Add((key, name), colour = _colours.Count(c => c.Key.Key == key));
        return colour;
    }

    /// <summary>What <paramref name="select"/> gives for each run, interleaved (the first of every run, then the second...), so one item's runs sit together.</summary>
    public List<T> Each<T>(Func<RunReport, int, IEnumerable<T>> select)
    {
        var perRun = runs.Select((r, i) => select(r, i).ToList()).ToList();
        var all = new List<T>();
        for (int at = 0; at < perRun.Max(p => p.Count); at++)
            foreach (var items in perRun)
                if (at < items.Count) all.Add(items[at]);
        return all;
    }

    /// <summary>The distinct names <paramref name="select"/> gives over every run, in first-seen order.</summary>
    public List<string> Names(Func<RunReport, IEnumerable<string>> select) => [.. runs.SelectMany(select).Distinct()];

    /// <summary>
    /// What tells runs apart: the scenario, the policy and the seed where they differ (e.g. "linux", "hardened"),
    /// else their place; made unique by their place when two runs share all three.
    /// </summary>
    public static List<string> RunLabels(IReadOnlyList<RunReport> runs)
    {
        bool scenarios = runs.Select(r => r.Scenario).Distinct().Count() > 1, policies = runs.Select(r => r.Policy).Distinct().Count() > 1, seeds = runs.Select(r => r.Seed).Distinct().Count() > 1;
        var labels = runs.Select((r, i) =>
        {
            var parts = new List<string>();
            if (scenarios) parts.Add(r.Scenario);
            if (policies) parts.Add(r.Policy);
            if (seeds) parts.Add(FormattableString.Invariant($"seed {r.Seed}"));
            return parts.Count == 0 ? FormattableString.Invariant($"run {i + 1}") : string.Join(" ", parts);
        }).ToList();
        return labels.Distinct().Count() == labels.Count ? labels : [.. labels.Select((l, i) => FormattableString.Invariant($"{l} #{i + 1}"))];
    }
}
