namespace Faultline.Simulation;

/// <summary>
/// Which events a trace keeps (<c>faultline run --trace-filter</c>): comma-separated terms, each a category
/// (<see cref="Categories"/>) or <c>device=NAME</c> (an IOMMU, PCIe function or stall master of the scenario).
/// Terms of one kind widen the choice, the two kinds narrow each other; no term of a kind keeps all of it.
/// Broken invariants are global, so a device term keeps them unless a category term leaves them out.
/// </summary>
public sealed class TraceFilter
{
    /// <summary>Every category the run's trace writes.</summary>
    public static readonly IReadOnlyList<string> Categories = ["driver", "worker", "group", "access", "teardown", "guest", "invariant", "counter"];

    private readonly HashSet<string> _categories;
    private readonly HashSet<string> _devices;

    private TraceFilter(HashSet<string> categories, HashSet<string> devices)
    {
        _categories = categories;
        _devices = devices;
    }

    /// <summary>The filter <paramref name="text"/> says; a <see cref="FormatException"/> names a term that is neither kind.</summary>
    public static TraceFilter Parse(string text)
    {
        var categories = new HashSet<string>(StringComparer.Ordinal);
        var devices = new HashSet<string>(StringComparer.Ordinal);
        foreach (var term in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (term.StartsWith("device=", StringComparison.Ordinal) && term.Length > "device=".Length) devices.Add(term["device=".Length..]);
            else if (Categories.Contains(term)) categories.Add(term);
            else throw new FormatException($"trace filter term '{term}' is neither a category ({string.Join(", ", Categories)}) nor device=NAME");
        }
        return new TraceFilter(categories, devices);
    }

    /// <summary>A device term naming nothing in <paramref name="scenario"/> (a typo would leave the trace empty), or null.</summary>
    public string? UnknownDevice(Scenario scenario)
    {
        var names = scenario.Iommus.Select(i => i.Name).Concat(scenario.Devices.Select(d => d.Name)).Concat(scenario.Masters.Select(m => m.Name)).ToHashSet(StringComparer.Ordinal);
        return _devices.Order(StringComparer.Ordinal).FirstOrDefault(d => !names.Contains(d));
    }

    internal bool KeepsCategory(string category) => _categories.Count == 0 || _categories.Contains(category);

    /// <summary>Whether events of <paramref name="process"/> ("nic0 (PCIe 00:02.0 behind dmar0)") are kept; null is the global scope.</summary>
    internal bool KeepsProcess(string? process)
    {
        if (_devices.Count == 0 || process is null) return true;
        int space = process.IndexOf(" (", StringComparison.Ordinal);
        return _devices.Contains(space < 0 ? process : process[..space]);
    }
}
