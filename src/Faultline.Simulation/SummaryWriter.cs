using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>
/// The readable summary of a run, in sections that can be chosen (<see cref="Sections"/>) and lines that fit a page
/// width: a table wider than the page goes on in panels (<see cref="TextTable"/>), text wraps. Empty sections are
/// left out, a latency of no samples prints "-", and what a list leaves out is counted (issue 13).
/// </summary>
public static class SummaryWriter
{
    /// <summary>The sections, in the order they print, as <c>faultline run --section</c> names them.</summary>
    public static IReadOnlyList<string> Sections { get; } =
        ["devices", "iommus", "masters", "stall", "banks", "framework", "teardowns", "tenants", "latency", "failures", "notes", "invariants"];

    /// <summary>Every section, each table on one panel however wide.</summary>
    public static void Write(RunReport r, TextWriter w) => Write(r, w, int.MaxValue, null);

    /// <summary>
    /// The two header lines, then the chosen <paramref name="sections"/> (null: all) with every line at most
    /// <paramref name="width"/> characters and at most <paramref name="rows"/> rows per table, the rest counted;
    /// the one-line invariant status always ends it.
    /// </summary>
    public static void Write(RunReport r, TextWriter w, int width, IReadOnlyCollection<string>? sections, int rows = int.MaxValue)
    {
        var page = new Page(w, width, sections);
        page.Text($"faultline run: scenario '{r.Scenario}', seed {r.Seed}, policy {r.Policy}");
        string end = r.Partial ? "STOPPED BY REQUEST: a partial run, end-of-run checks not made" : r.Quiesced ? "quiesced" : "STOPPED AT TIME LIMIT";
        page.Text($"virtual time {Ns(r.EndTimeNs)}, {r.Events} events, {end}");
        w.WriteLine();

        if (page.Shows("devices") && r.Devices.Count > 0)
        {
            var devices = new TextTable("device", "rid", "iommu", "pasids", "alloc", "requests", "groups", "success", "invalid", "failure", "reserved", "credits-hw", "uprgi", "rf", "accesses", "completed", "failed");
            foreach (var d in r.Devices.Take(rows))
                devices.Add(d.Name, d.Requester, d.Iommu, d.Pasids.Count, d.Allocation, d.PageRequests, d.Groups, d.ResponsesSuccess, d.ResponsesInvalid,
                    d.ResponsesFailure, d.ResponsesReserved, d.CreditsHighWater, d.UnexpectedResponses, d.ResponseFailure ? "set" : "-",
                    d.AccessesStarted, d.AccessesCompleted, d.AccessesFailed.Values.Sum());
            page.Table("Devices", devices, r.Devices.Count, "devices");
        }

        if (page.Shows("iommus"))
        {
            var iommus = new TextTable("iommu", "kind", "ring", "ring-hw", "received", "queued", "gate", "full", "latched", "auto-resp", "events", "batches", "reported", "stop-markers", "bad");
            foreach (var i in r.Iommus.Take(rows))
                iommus.Add(i.Name, i.Kind, i.RingEntries, i.RingHighWater, i.PageRequestsReceived, i.Queued, i.RefusedAtGate, i.DiscardedFull,
                    i.DiscardedWhileOverflowed, i.AutoResponses, i.Events, i.DriverBatches, i.Reported, i.StopMarkersDropped, i.BadRequestsAnswered + i.BadRequestsDropped);
            page.Table("IOMMUs", iommus, r.Iommus.Count, "IOMMUs");
        }

        if (page.Shows("masters") && r.Masters.Count > 0)
        {
            var masters = new TextTable("master", "sid", "iommu", "cb", "owner", "accesses", "completed", "aborted", "raz-wi", "retried", "transactions", "p50", "p99", "max");
            foreach (var m in r.Masters.Take(rows))
                masters.Add(m.Name, $"0x{m.StreamId:x}", m.Iommu, m.ContextBank?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", m.Owner, m.Accesses, m.Completed, m.Aborted, m.TerminatedRazWi, m.Retried, m.Transactions,
                    P50(m.AccessLatency), P99(m.AccessLatency), Max(m.AccessLatency));
            page.Table("Stall masters (platform, behind an SMMU; cb: SMMUv2 context bank)", masters, r.Masters.Count, "masters");
        }

        foreach (var i in r.Iommus.Where(i => i.Stall is not null && page.Shows("stall")))
        {
            var st = i.Stall!;
            var stalls = TextTable.Unkeyed("stalls", "high-water", "resumed-retry", "resumed-abort", "resumed-term", "stall-term", "aborted-full", "back-pressured", "events-lost", "budget-term", "background");
            stalls.Add(st.Stalls, st.HighWater, st.ResumedRetry, st.ResumedAbort, st.ResumedTerminate, st.StallTermTerminated, st.AbortedAtFull,
                st.BackPressured, st.EventsLost, st.BudgetTerminated, st.ResolvedInBackground);
            page.Table($"Stall buffer of {i.Name} (STALL_MAX {st.StallMax}, when full: {st.WhenFull}; H-SMMU-9)", stalls, blankAfter: st.Occupancy.Count == 0);
            if (st.Occupancy.Count > 0)
            {
                page.Text($"  occupancy over time ({Ns(st.Occupancy[0].EndNs - st.Occupancy[0].StartNs)} per column; max held / STALL_MAX):");
                page.Text($"  max  |{string.Concat(st.Occupancy.Select(o => Bar(o.Max, st.StallMax)))}|");
                page.Text($"  mean |{string.Concat(st.Occupancy.Select(o => Bar(o.Mean, st.StallMax)))}|");
                page.Text($"  peak per column: {string.Join(" ", st.Occupancy.Select(o => o.Max))}", "    ");
                w.WriteLine();
            }
        }

        foreach (var i in r.Iommus.Where(i => i.Smmuv2 is not null && page.Shows("banks")))
        {
            var v2 = i.Smmuv2!;
            var banks = TextTable.Unkeyed("stalls", "retries", "resume-term", "fault-term", "held-behind", "multi", "longest-hold");
            banks.Add(v2.Stalls, v2.Retries, v2.ResumeTerminations, v2.FaultTerminations, v2.HeldBehind, v2.MultiFaults, Ns(v2.LongestHoldNs));
            page.Table($"Context banks of {i.Name} (SMMUv2, {v2.BanksInUse} of {v2.ContextBanks} in use; a stall holds its own bank only: H-SMMUv2-3, H-SMMUv2-4)", banks);
        }

        var f = r.Framework;
        if (page.Shows("framework") && f.Reports + f.NoHandlerAnswers + f.NoHandlerDrops + f.StaleResponsesDropped + f.StaleResponsesRejected > 0)
        {
            var fw = TextTable.Unkeyed("reports", "partials", "groups", "success", "invalid", "failure", "no-handler", "aborted", "deferred", "stale",
                "discarded", "evicted", "purged", "cancelled", "removed");
            fw.Add(f.Reports, f.Partials, f.Groups, f.ResponsesSuccess, f.ResponsesInvalid, f.ResponsesFailure, f.NoHandlerAnswers + f.NoHandlerDrops,
                f.AbortedGroups, f.Deferrals, f.StaleResponsesDropped + f.StaleResponsesRejected, f.DiscardedPartials, f.EvictedPartialGroups,
                f.PurgedPartials, f.CancelledAtTeardown, f.RemovedGroups);
            page.Table("Fault framework", fw);
        }

        if (page.Shows("teardowns") && r.Teardowns.Count > 0)
        {
            var td = new TextTable("device", "process", "pasid", "stop", "at", "stopped-in", "drain+flush", "total", "flushed", "unrelated-wait", "hw-drains", "done");
            foreach (var t in r.Teardowns.Take(rows))
                td.Add(t.Device, t.Process, t.Pasid, t.Stop, Ns(t.StartNs), Ns(t.StopNs), Ns(t.DrainNs), Ns(t.TotalNs), t.FlushedGroups,
                    Ns(t.UnrelatedWaitNs), t.HardwareRounds, t.Completed ? "yes" : "NO");
            page.Table("PASID teardowns (R25: stop, drain and flush, detach)", td, r.Teardowns.Count, "teardowns");
        }

        if (page.Shows("tenants") && r.Tenants.Count > 0)
        {
            var tenants = new TextTable("tenant", "kind", "behaviour", "completed", "failed", "per-ms", "ratio", "access-p99", "fault-p50", "fault-p99",
                "credits-leaked", "reset-back", "uprgi", "rf", "expired", "lost", "at-detach", "rejected");
            foreach (var t in r.Tenants.Take(rows))
                tenants.Add(t.Name, t.Kind, t.Behaviour, t.AccessesCompleted, t.AccessesFailed, Invariant($"{t.ThroughputPerMs:0.###}"),
                    t.ThroughputRatio is { } ratio ? Invariant($"{ratio:0.0000}") : "-", P99(t.AccessLatency), P50(t.FaultLatency), P99(t.FaultLatency),
                    t.CreditsLeaked, t.CreditsRecoveredByReset, t.Uprgi ? "set" : "-", t.ResponseFailure ? "set" : "-", t.Expired, t.LostEvents,
                    t.AnsweredAtDetach, t.Rejected.Count == 0 ? "-" : string.Join(" ", t.Rejected.Select(kv => $"{kv.Key}:{kv.Value}")));
            page.Table("Tenants (throughput ratio: against the same scenario without hostile guests)", tenants, r.Tenants.Count, "tenants");
        }

        if (page.Shows("latency") && r.FaultLatency.Samples + r.AccessLatency.Samples > 0)
        {
            var lat = new TextTable("what", "samples", "p50", "p99", "max");
            lat.Add("fault (first request to PRG response)", r.FaultLatency.Samples, P50(r.FaultLatency), P99(r.FaultLatency), Max(r.FaultLatency));
            foreach (var d in r.Devices.Take(rows))
                lat.Add($"  {d.Name}", d.FaultLatency.Samples, P50(d.FaultLatency), P99(d.FaultLatency), Max(d.FaultLatency));
            lat.Add("access (start to end)", r.AccessLatency.Samples, P50(r.AccessLatency), P99(r.AccessLatency), Max(r.AccessLatency));
            page.Table("Latency (virtual time)", lat, r.Devices.Count, "devices", shown: Math.Min(rows, r.Devices.Count));
        }

        var failures = r.Devices.SelectMany(d => d.AccessesFailed.Where(kv => kv.Value > 0).Select(kv => $"{d.Name} {kv.Key} {kv.Value}")).ToList();
        if (page.Shows("failures") && failures.Count > 0) page.Text($"Failed accesses: {string.Join(", ", failures)}", "  ");
        if (page.Shows("notes"))
            foreach (var note in r.Notes) page.Text($"Note: {note}", "  ");

        if (r.InvariantCounts.Count == 0)
        {
            page.Text(r.Partial ? "Invariants: all held while it ran (end-of-run checks not made)" : "Invariants: all held");
            return;
        }
        long violations = r.InvariantCounts.Values.Sum();
        page.Text($"Invariants: {violations} violations ({string.Join(", ", r.InvariantCounts.Select(kv => $"{kv.Key} x{kv.Value}"))})", "  ");
        if (!page.Shows("invariants")) return;
        foreach (var v in r.Invariants) page.Text($"  {v}", "    ");
        if (violations > r.Invariants.Count)
            page.Text($"  ... and {violations - r.Invariants.Count} more invariant violation{(violations - r.Invariants.Count == 1 ? "" : "s")} (the first of each rule are listed; the counts above are whole)", "    ");
        var entries = r.InvariantCounts.Keys.GroupBy(RuleCatalogue.FileOf).OrderBy(g => g.Key, StringComparer.Ordinal);
        page.Text($"  Rules explained in: {string.Join("; ", entries.Select(g => $"{g.Key} ({string.Join(", ", g)})"))}", "    ");
    }

    /// <summary>Where the summary goes: its width and the sections chosen.</summary>
    private sealed class Page(TextWriter writer, int width, IReadOnlyCollection<string>? sections)
    {
        public bool Shows(string section) => sections is null || sections.Contains(section);

        /// <summary>A line of text, wrapped at spaces; the lines after the first start with <paramref name="indent"/>.</summary>
        public void Text(string text, string indent = "")
        {
            foreach (var line in TextTable.Wrap(text, width, indent)) writer.WriteLine(line);
        }

        public void Table(string title, TextTable table, bool blankAfter = true) => Table(title, table, 0, "", blankAfter: blankAfter);

        /// <summary>A table of the first rows of <paramref name="total"/> things, then how many more there were.</summary>
        public void Table(string title, TextTable table, int total, string things, int? shown = null, bool blankAfter = true)
        {
            Text(title, "  ");
            table.Write(writer, width);
            int cut = total - (shown ?? table.Rows);
            if (cut > 0) Text($"... and {cut} more {(cut == 1 ? things[..^1] : things)} (the JSON has every one)");
            if (blankAfter) writer.WriteLine();
        }
    }

    // A latency of no samples has no percentiles: "-", not "0 ns".
    private static string P50(LatencyReport l) => l.Samples == 0 ? "-" : Ns(l.P50Ns);

    private static string P99(LatencyReport l) => l.Samples == 0 ? "-" : Ns(l.P99Ns);

    private static string Max(LatencyReport l) => l.Samples == 0 ? "-" : Ns(l.MaxNs);

    /// <summary>One character of a level against its full scale: ' ' empty, then ▁ to █ (full).</summary>
    private static char Bar(double level, int full)
    {
        const string Levels = " ▁▂▃▄▅▆▇█";
        if (level <= 0 || full <= 0) return Levels[0];
        int step = (int)Math.Ceiling(Math.Min(1, level / full) * (Levels.Length - 1));
        return Levels[Math.Clamp(step, 1, Levels.Length - 1)];
    }

    internal static string Ns(long ns) => ns switch
    {
        >= 1_000_000_000 => Invariant($"{ns / 1e9:0.###} s"),
        >= 1_000_000 => Invariant($"{ns / 1e6:0.###} ms"),
        >= 1_000 => Invariant($"{ns / 1e3:0.###} us"),
        _ => Invariant($"{ns} ns"),
    };

    // The same bytes whatever the culture of the process that embeds the library.
    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
