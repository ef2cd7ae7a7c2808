using System.Globalization;
using System.Text;
using Faultline.Host;
using static Faultline.Simulation.Svg;

namespace Faultline.Simulation;

/// <summary>
/// The run report as one self-contained HTML page with SVG plots, for one run (<c>faultline run --report</c>) or
/// several compared (<c>faultline compare</c>): fault latency per IOMMU kind, how accesses ended and how long the
/// completed ones took, PRG responses by code, hardware queue fill, stall buffers and SMMUv2 context banks over
/// time, tenants' throughput against their baseline, tables of success rates and their deltas, then the text
/// summary. Runs compared share every axis and each keeps one line style. No script, no external file, and the
/// same reports give the same bytes.
/// </summary>
public static class HtmlReportWriter
{
    private static readonly BarPart[] Outcomes = [new("completed", "#2ca02c"), new("failed", "#d62728"), new("skipped (not bound)", "#c7c7c7")];
    private static readonly BarPart[] Codes = [new("success", "#2ca02c"), new("invalid request", "#ff7f0e"), new("response failure", "#d62728"), new("reserved", "#9467bd")];

    /// <summary>The page of one run.</summary>
    public static string Render(RunReport report) => Page([report]);

    /// <summary>Writes the page of one run to <paramref name="path"/>.</summary>
    public static void Write(RunReport report, string path) => File.WriteAllText(path, Render(report), new UTF8Encoding(false));

    /// <summary>One page for several runs (policies, seeds or scenarios), in the order given; the first is the base of the deltas.</summary>
    public static string RenderComparison(IReadOnlyList<RunReport> runs) =>
        runs.Count == 0 ? throw new ArgumentException("a comparison needs at least one run", nameof(runs)) : Page(runs);

    /// <summary>Writes the page of several runs to <paramref name="path"/> (see <see cref="RenderComparison"/>).</summary>
    public static void WriteComparison(IReadOnlyList<RunReport> runs, string path) => File.WriteAllText(path, RenderComparison(runs), new UTF8Encoding(false));

    private static string Page(IReadOnlyList<RunReport> runs)
    {
        var labels = ReportPage.RunLabels(runs);
        var page = new ReportPage(runs, labels);
        var html = new StringBuilder();
        string title = runs.Count == 1 ? runs[0].Scenario : $"{string.Join(" vs ", labels)} ({string.Join(", ", runs.Select(r => r.Scenario).Distinct())})";
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>faultline: ").Append(Encode(title)).Append("</title>\n");
        html.Append("<style>body{font-family:sans-serif;margin:2em;max-width:1100px}h2{margin-top:1.6em}svg{background:#fafafa;border:1px solid #ddd;font-family:sans-serif}")
            .Append("pre{font-size:12px;background:#f4f4f4;padding:1em;overflow-x:auto}.bad{color:#b00}.ok{color:#070}")
            .Append("table{border-collapse:collapse;font-size:13px;margin:.5em 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}")
            .Append(".up{color:#070}.down{color:#b00}</style></head><body>\n");
        html.Append("<h1>").Append(Encode(title)).Append("</h1>\n");
        for (int i = 0; i < runs.Count; i++) Header(html, runs[i], runs.Count == 1 ? null : labels[i], i);

        var decades = CdfPanel.Decades(runs.SelectMany(r => r.Devices.Select(d => d.FaultLatency).Concat(r.Tenants.Select(t => t.AccessLatency)).Concat(r.Masters.Select(m => m.AccessLatency))));
        Section(html, "Fault latency", "From a group's first page request to its PRG Response, per PCIe function, a panel per IOMMU kind: "
            + "the share of groups answered within a time. Every latency chart of this page has the same log time axis.",
            Figure("fault latency", page.Kinds.Select(kind => CdfPanel.Of($"PCIe functions behind {KindName(kind)}", "groups answered",
                page.Each((r, run) => r.Devices.Where(d => page.KindOf(r, d.Iommu) == kind)
                    .Select(d => d.FaultLatency.Samples == 0 ? null : new CdfSeries(page.Label(d.Name, run), page.Colour("device", d.Name), run, d.FaultLatency))).OfType<CdfSeries>().ToList(), decades))));
        AccessLatency(html, page, decades);
        Section(html, "PRG responses by code", "What each PCIe function received.",
            Figure("PRG responses by code", [BarPanel.Of("", page.Each((r, run) => r.Devices.Select(d => new BarRow(page.Label(d.Name, run),
                [d.ResponsesSuccess, d.ResponsesInvalid, d.ResponsesFailure, d.ResponsesReserved]))), Codes, "PRG Responses", Ticks.Count)]));
        var queues = page.Names(r => r.Iommus.Where(i => i.RingHighWater > 0).Select(i => i.Name)); // a queue no run used is no chart
        Section(html, "Hardware queues", "Most entries held at once against the queue's size (VT-d PRQ, SMMUv3 PRI queue, AMD PPR log).",
            Figure("hardware queues", [BarPanel.Of("", page.Each((r, run) => r.Iommus.Where(i => i.RingEntries > 0 && queues.Contains(i.Name)).Select(i =>
                new BarRow(page.Label($"{i.Name} ({i.Kind})", run), [i.RingHighWater], i.RingEntries))), [new("most entries held", Colour(0))], "queue entries", Ticks.Count, fullName: "queue size")]));
        foreach (string name in page.Names(r => r.Iommus.Where(i => i.Stall is { HighWater: > 0 }).Select(i => i.Name))) // a buffer no run used is no chart
        {
            var stalls = page.Each((r, run) => r.Iommus.Where(i => i.Name == name && i.Stall is not null).Select(i => (i.Stall!, run))).ToList();
            var first = stalls[0].Item1;
            Section(html, $"Stall buffer of {name}", Invariant($"Transactions held stalled over the run, per slice the most and the mean, against STALL_MAX {first.StallMax} ({first.WhenFull} when full, H-SMMU-9)."),
                Figure($"stall buffer of {name}", stalls.Select(s => OccupancyPanel.Of(new OccupancySeries(page.Label(name, s.run), s.Item1.Occupancy, s.Item1.StallMax, "STALL_MAX", page.EndNs)))));
        }
        Smmuv2(html, page);
        var ratios = page.Each((r, run) => r.Tenants.Where(t => t.ThroughputRatio is not null).Select(t => new BarRow(page.Label(t.Name, run), [t.ThroughputRatio!.Value]))).ToList();
        Section(html, "Throughput against the run without hostile guests", "Each honest tenant's completed accesses per millisecond, as a share of its baseline; the line marks 95 %.",
            Figure("throughput against the baseline", [BarPanel.Of("", ratios, [new("throughput / baseline", Colour(0))], "share of the baseline's throughput", v => Number(v), (0.95, "95 % of the baseline"))]));

        Tables(html, page);
        if (runs.Count == 1) html.Append("<h2>Summary</h2>\n<pre>").Append(Encode(Summary(runs[0]))).Append("</pre>\n");
        else
        {
            html.Append("<h2>Summaries</h2>\n");
            for (int i = 0; i < runs.Count; i++)
                html.Append("<details><summary>").Append(Encode(labels[i])).Append("</summary>\n<pre>").Append(Encode(Summary(runs[i]))).Append("</pre></details>\n");
        }
        return html.Append("</body></html>\n").ToString();
    }

    private static void Header(StringBuilder html, RunReport r, string? label, int run)
    {
        html.Append("<p>");
        if (label is not null)
            html.Append(Invariant($"<svg width=\"40\" height=\"10\"><line x1=\"0\" y1=\"5\" x2=\"40\" y2=\"5\" stroke=\"#333\" stroke-width=\"2\"{Dash(run)}/></svg> <b>")).Append(Encode(label)).Append("</b>: ")
                .Append(Encode(r.Scenario)).Append(", ");
        html.Append(Invariant($"seed {r.Seed}, policy {r.Policy}, virtual time {Ticks.Time(r.EndTimeNs)}, {r.Events} events, "));
        html.Append(r.Quiesced ? "quiesced" : "<span class=\"bad\">stopped at the time limit</span>").Append(". ");
        html.Append(r.InvariantCounts.Count == 0
            ? "<span class=\"ok\">Invariants: all held.</span>"
            : $"<span class=\"bad\">Invariants: {r.InvariantCounts.Values.Sum()} violations ({Encode(string.Join(", ", r.InvariantCounts.Select(kv => $"{kv.Key} x{kv.Value}")))}).</span>");
        html.Append("</p>\n");
    }

    /// <summary>
    /// How accesses ended, then how long they took. A series whose accesses all failed has no curve (issue 13: the
    /// stall-contention slow master under hardened, 0 of 150 completed, drew a fast curve of its aborts); the report
    /// keeps one distribution for every access however it ended, so a curve with failures in it says so.
    /// </summary>
    private static void AccessLatency(StringBuilder html, ReportPage page, (int, int) decades)
    {
        var panels = new List<IPanel?>
        {
            BarPanel.Of("How accesses ended, per tenant and stall master", page.Each((r, run) =>
                r.Tenants.Select(t => new BarRow(page.Label(t.Name, run), [t.AccessesCompleted, t.AccessesFailed, t.AccessesSkipped]))
                    .Concat(r.Masters.Select(m => new BarRow(page.Label($"{m.Name} (master)", run), [m.Completed, m.Aborted + m.TerminatedRazWi, m.AccessesSkipped])))).ToList(),
                Outcomes, "accesses", Ticks.Count),
        };
        var none = new List<string>();
        CdfSeries? Series(string name, string colourKey, int run, long completed, long failed, LatencyReport latency)
        {
            if (latency.Samples == 0) return null;
            if (completed == 0)
            {
                none.Add(Invariant($"{page.Label(name, run)}: 0 of {completed + failed} accesses completed"));
                return null;
            }
            string label = failed == 0 ? page.Label(name, run) : page.Label(name, run) + Invariant($", {failed} failed in it");
            return new CdfSeries(label, page.Colour(colourKey, name), run, latency);
        }
        panels.Add(CdfPanel.Of("Per tenant", "accesses ended", page.Each((r, run) => r.Tenants.Select(t =>
            Series(t.Name, "tenant", run, t.AccessesCompleted, t.AccessesFailed, t.AccessLatency))).OfType<CdfSeries>().ToList(), decades));
        foreach (string kind in page.Kinds)
            panels.Add(CdfPanel.Of($"Stall masters behind {KindName(kind)}", "accesses ended", page.Each((r, run) => r.Masters.Where(m => page.KindOf(r, m.Iommu) == kind).Select(m =>
                Series(m.Name, "master", run, m.Completed, m.Aborted + m.TerminatedRazWi, m.AccessLatency))).OfType<CdfSeries>().ToList(), decades));
        string caption = "From an access's start to its end: first how each ended, then the share ended within a time. "
            + "A curve holds failed accesses too when its legend says so; a tenant or master with no completed access has none.";
        Section(html, "Access latency", caption, Figure("access latency", panels));
        if (none.Count > 0) html.Append("<p class=\"bad\">No completed access to draw: ").Append(Encode(string.Join("; ", none))).Append(".</p>\n");
    }

    /// <summary>SMMUv2 context banks (H-SMMUv2-3..5): how their stalls ended and what waited behind them.</summary>
    private static void Smmuv2(StringBuilder html, ReportPage page)
    {
        (string Name, Func<Smmuv2Report, long> Value)[] metrics =
        [
            ("stalls", s => s.Stalls), ("retried (RESUME TnR=0)", s => s.Retries), ("terminated (RESUME TnR=1)", s => s.ResumeTerminations),
            ("terminated without a stall", s => s.FaultTerminations), ("held behind a stall", s => s.HeldBehind), ("FSR.MULTI", s => s.MultiFaults),
        ];
        foreach (string name in page.Names(r => r.Iommus.Where(i => i.Smmuv2 is not null).Select(i => i.Name)))
        {
            var banks = page.Each((r, run) => r.Iommus.Where(i => i.Name == name && i.Smmuv2 is not null).Select(i => (Report: i.Smmuv2!, Run: run)));
            var rows = metrics.SelectMany(m => banks.Select(b => new BarRow(page.Label(m.Name, b.Run), [m.Value(b.Report)]))).ToList();
            string longest = string.Join(", ", banks.Select(b => $"{page.Label(name, b.Run)} {Ticks.Time(b.Report.LongestHoldNs)}"));
            Section(html, $"Context banks of {name} (SMMUv2)", $"Faults that stalled a context bank and how they ended, and transactions held behind them (HUPCF, H-SMMUv2-4). Longest hold: {longest}.",
                Figure($"context banks of {name}", [BarPanel.Of("", rows, [new("transactions", Colour(4))], "transactions", Ticks.Count)]));
        }
    }

    private static void Tables(StringBuilder html, ReportPage page)
    {
        bool compared = page.Runs.Count > 1;
        html.Append(compared ? "<h2>Success rates and deltas</h2>\n<p>Each run, then each later run's difference (Δ) from the first. p50 and p99: access latency, or fault latency for PCIe functions.</p>\n"
            : "<h2>Success rates</h2>\n<p>p50 and p99: access latency, or fault latency for PCIe functions.</p>\n");
        Table(html, page, "Tenants", r => r.Tenants.Select(t => (t.Name, new[]
        {
            ("completed", t.AccessesCompleted), ("failed", t.AccessesFailed), ("success %", Rate(t.AccessesCompleted, t.AccessesFailed)),
            ("p50", t.AccessLatency.P50Ns), ("p99", t.AccessLatency.P99Ns), ("credits leaked", t.CreditsLeaked),
        })));
        Table(html, page, "Stall masters", r => r.Masters.Select(m => (m.Name, new[]
        {
            ("completed", m.Completed), ("aborted", m.Aborted), ("terminated", m.TerminatedRazWi),
            ("success %", Rate(m.Completed, m.Aborted + m.TerminatedRazWi)), ("p50", m.AccessLatency.P50Ns), ("p99", m.AccessLatency.P99Ns),
        })));
        Table(html, page, "PCIe functions", r => r.Devices.Select(d => (d.Name, new[]
        {
            ("groups", d.Groups), ("success", d.ResponsesSuccess), ("invalid", d.ResponsesInvalid), ("failure", d.ResponsesFailure),
            ("success %", Rate(d.ResponsesSuccess, d.ResponsesInvalid + d.ResponsesFailure + d.ResponsesReserved)),
            ("p99 fault", d.FaultLatency.P99Ns), ("credits held", d.CreditsHeld),
        })));
    }

    /// <summary>Percent in hundredths, so a table holds integers only; null when nothing ended.</summary>
    private static long? Rate(long good, long bad) => good + bad == 0 ? null : (long)Math.Round(10_000.0 * good / (good + bad));

    /// <summary>
    /// A table of an item per few rows: each run's values and, for a comparison, each later run's delta from the
    /// first (a success rate's delta green up, red down). Columns say their unit: "%" a rate, "p50"/"p99" a time.
    /// </summary>
    private static void Table(StringBuilder html, ReportPage page, string title, Func<RunReport, IEnumerable<(string Name, (string Column, long? Value)[] Cells)>> rows)
    {
        var byRun = page.Runs.Select(r => rows(r).ToDictionary(x => x.Name, x => x.Cells, StringComparer.Ordinal)).ToList();
        var names = page.Names(r => rows(r).Select(x => x.Name));
        if (names.Count == 0) return;
        var columns = byRun.SelectMany(d => d.Values).First().Select(c => c.Column).ToList();
        bool compared = page.Runs.Count > 1;
        html.Append("<h3>").Append(Encode(title)).Append("</h3>\n<table><tr><th></th>").Append(compared ? "<th>run</th>" : "");
        foreach (string column in columns) html.Append("<th>").Append(Encode(column)).Append("</th>");
        html.Append("</tr>\n");
        foreach (string name in names)
        {
            var values = byRun.Select(d => d.TryGetValue(name, out var row) ? row : null).ToList();
            for (int run = 0; run < values.Count; run++)
            {
                html.Append("<tr><td>").Append(run == 0 ? Encode(name) : "").Append("</td>").Append(compared ? $"<td>{Encode(page.Labels[run])}</td>" : "");
                for (int c = 0; c < columns.Count; c++) html.Append("<td>").Append(Cell(columns[c], values[run]?[c].Value)).Append("</td>");
                html.Append("</tr>\n");
            }
            for (int run = 1; run < values.Count; run++)
            {
                html.Append("<tr><td></td><td>Δ ").Append(Encode(page.Labels[run])).Append("</td>");
                for (int c = 0; c < columns.Count; c++)
                {
                    long? delta = values[run]?[c].Value - values[0]?[c].Value;
                    string change = !columns[c].EndsWith('%') || delta is null or 0 ? "" : delta > 0 ? " class=\"up\"" : " class=\"down\"";
                    html.Append($"<td{change}>{(delta > 0 ? "+" : "")}{Cell(columns[c], delta)}</td>");
                }
                html.Append("</tr>\n");
            }
        }
        html.Append("</table>\n");
    }

    private static string Cell(string column, long? value) =>
        value is not { } v ? "–"
        : column.EndsWith('%') ? Number(v / 100.0, "0.00")
        : column.StartsWith('p') ? (v < 0 ? "-" : "") + Ticks.Time(Math.Abs(v))
        : v.ToString(CultureInfo.InvariantCulture);

    private static string Summary(RunReport report)
    {
        var summary = new StringWriter(CultureInfo.InvariantCulture) { NewLine = "\n" };
        SummaryWriter.Write(report, summary);
        return summary.ToString();
    }

    private static void Section(StringBuilder html, string title, string caption, string? svg)
    {
        if (svg is null) return;
        html.Append("<h2>").Append(Encode(title)).Append("</h2>\n<p>").Append(Encode(caption)).Append("</p>\n").Append(svg).Append('\n');
    }

    private static string KindName(string kind) => kind switch
    {
        "vtd" => "Intel VT-d",
        "smmuv3" => "Arm SMMUv3",
        "smmuv2" => "Arm SMMUv2",
        "amd" => "AMD IOMMU",
        _ => kind,
    };
}
