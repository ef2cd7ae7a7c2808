using System.Globalization;

namespace Faultline.Simulation;

/// <summary>
/// <c>faultline compare</c> on the terminal: the runs, then the success rate of every tenant, stall master and PCIe
/// function in each run and its change from the first. The HTML page (<see cref="HtmlReportWriter.WriteComparison"/>) has the rest.
/// </summary>
public static class ComparisonWriter
{
    /// <summary>Writes the comparison of <paramref name="runs"/> (the first is the base of the deltas).</summary>
    public static void Write(IReadOnlyList<RunReport> runs, TextWriter output)
    {
        var labels = ReportPage.RunLabels(runs);
        var table = new TextTable("run", "scenario", "policy", "seed", "events", "virtual time", "invariants broken");
        for (int i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            table.Add(labels[i], r.Scenario, r.Policy, r.Seed, r.Events, Ticks.Time(r.EndTimeNs), r.InvariantCounts.Values.Sum());
        }
        table.Write(output);
        output.WriteLine();

        var rates = new TextTable([.. new[] { "success %" }.Concat(labels).Concat(labels.Skip(1).Select(l => $"Δ {l}"))]);
        var items = Rates(runs[0]).Select(x => x.Item).Concat(runs.Skip(1).SelectMany(r => Rates(r).Select(x => x.Item))).Distinct().ToList();
        var byRun = runs.Select(r => Rates(r).ToDictionary(x => x.Item, x => x.Rate)).ToList();
        foreach (string item in items)
        {
            var values = byRun.Select(d => d.TryGetValue(item, out var v) ? v : null).ToList();
            var deltas = values.Skip(1).Select(v => v is { } b && values[0] is { } a ? (b - a).ToString("+0.00;-0.00;0", CultureInfo.InvariantCulture) : "-");
            rates.Add([item, .. values.Select(v => v is { } x ? x.ToString("0.00", CultureInfo.InvariantCulture) : "-"), .. deltas]);
        }
        rates.Write(output);
    }

    /// <summary>Completed accesses (tenants, masters) or SUCCESS responses (functions) as a share of all that ended.</summary>
    private static IEnumerable<(string Item, double? Rate)> Rates(RunReport r) =>
        r.Tenants.Select(t => ($"tenant {t.Name}", Rate(t.AccessesCompleted, t.AccessesFailed)))
            .Concat(r.Masters.Select(m => ($"master {m.Name}", Rate(m.Completed, m.Aborted + m.TerminatedRazWi))))
            .Concat(r.Devices.Select(d => ($"function {d.Name}", Rate(d.ResponsesSuccess, d.ResponsesInvalid + d.ResponsesFailure + d.ResponsesReserved))));

    private static double? Rate(long good, long bad) => good + bad == 0 ? null : Math.Round(100.0 * good / (good + bad), 2);
}
