using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>The readable summary of a run.</summary>
public static class SummaryWriter
{
    public static void Write(RunReport r, TextWriter w)
    {
        w.WriteLine($"faultline run: scenario '{r.Scenario}', seed {r.Seed}, policy {r.Policy}");
        w.WriteLine($"virtual time {Ns(r.EndTimeNs)}, {r.Events} events, {(r.Quiesced ? "quiesced" : "STOPPED AT TIME LIMIT")}");
        w.WriteLine();

        w.WriteLine("Devices");
        var devices = new TextTable("device", "rid", "iommu", "pasids", "alloc", "requests", "groups", "success", "invalid", "failure", "reserved", "credits-hw", "uprgi", "rf", "accesses", "completed", "failed");
        foreach (var d in r.Devices)
            devices.Add(d.Name, d.Requester, d.Iommu, d.Pasids.Count, d.Allocation, d.PageRequests, d.Groups, d.ResponsesSuccess, d.ResponsesInvalid,
                d.ResponsesFailure, d.ResponsesReserved, d.CreditsHighWater, d.UnexpectedResponses, d.ResponseFailure ? "set" : "-",
                d.AccessesStarted, d.AccessesCompleted, d.AccessesFailed.Values.Sum());
        devices.Write(w);
        w.WriteLine();

        w.WriteLine("IOMMUs");
        var iommus = new TextTable("iommu", "kind", "ring", "ring-hw", "received", "queued", "gate", "full", "latched", "auto-resp", "events", "batches", "reported", "stop-markers", "bad");
        foreach (var i in r.Iommus)
            iommus.Add(i.Name, i.Kind, i.RingEntries, i.RingHighWater, i.PageRequestsReceived, i.Queued, i.RefusedAtGate, i.DiscardedFull,
                i.DiscardedWhileOverflowed, i.AutoResponses, i.Events, i.DriverBatches, i.Reported, i.StopMarkersDropped, i.BadRequestsAnswered + i.BadRequestsDropped);
        iommus.Write(w);
        w.WriteLine();

        if (r.Masters.Count > 0)
        {
            w.WriteLine("Stall masters (platform, behind an SMMU; cb: SMMUv2 context bank)");
            var masters = new TextTable("master", "sid", "iommu", "cb", "owner", "accesses", "completed", "aborted", "raz-wi", "transactions", "p50", "p99", "max");
            foreach (var m in r.Masters)
                masters.Add(m.Name, $"0x{m.StreamId:x}", m.Iommu, m.ContextBank?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", m.Owner, m.Accesses, m.Completed, m.Aborted, m.TerminatedRazWi, m.Transactions,
                    Ns(m.AccessLatency.P50Ns), Ns(m.AccessLatency.P99Ns), Ns(m.AccessLatency.MaxNs));
            masters.Write(w);
            w.WriteLine();
        }

        foreach (var i in r.Iommus.Where(i => i.Stall is not null))
        {
            var st = i.Stall!;
            w.WriteLine($"Stall buffer of {i.Name} (STALL_MAX {st.StallMax}, when full: {st.WhenFull}; H-SMMU-9)");
            var stalls = new TextTable("stalls", "high-water", "resumed-retry", "resumed-abort", "resumed-term", "stall-term", "aborted-full", "back-pressured", "events-lost", "budget-term");
            stalls.Add(st.Stalls, st.HighWater, st.ResumedRetry, st.ResumedAbort, st.ResumedTerminate, st.StallTermTerminated, st.AbortedAtFull,
                st.BackPressured, st.EventsLost, st.BudgetTerminated);
            stalls.Write(w);
            if (st.Occupancy.Count > 0)
            {
                w.WriteLine($"  occupancy over time ({Ns(st.Occupancy[0].EndNs - st.Occupancy[0].StartNs)} per column; max held / STALL_MAX):");
                w.WriteLine($"  max  |{string.Concat(st.Occupancy.Select(o => Bar(o.Max, st.StallMax)))}|");
                w.WriteLine($"  mean |{string.Concat(st.Occupancy.Select(o => Bar(o.Mean, st.StallMax)))}|");
                w.WriteLine($"  peak per column: {string.Join(" ", st.Occupancy.Select(o => o.Max))}");
            }
            w.WriteLine();
        }

        foreach (var i in r.Iommus.Where(i => i.Smmuv2 is not null))
        {
            var v2 = i.Smmuv2!;
            w.WriteLine($"Context banks of {i.Name} (SMMUv2, {v2.BanksInUse} of {v2.ContextBanks} in use; a stall holds its own bank only: H-SMMUv2-3, H-SMMUv2-4)");
            var banks = new TextTable("stalls", "retries", "resume-term", "fault-term", "held-behind", "multi", "longest-hold");
            banks.Add(v2.Stalls, v2.Retries, v2.ResumeTerminations, v2.FaultTerminations, v2.HeldBehind, v2.MultiFaults, Ns(v2.LongestHoldNs));
            banks.Write(w);
            w.WriteLine();
        }

        var f = r.Framework;
        w.WriteLine("Fault framework");
        var fw = new TextTable("reports", "partials", "groups", "success", "invalid", "failure", "no-handler", "aborted", "deferred", "stale",
            "discarded", "evicted", "purged", "cancelled", "removed");
        fw.Add(f.Reports, f.Partials, f.Groups, f.ResponsesSuccess, f.ResponsesInvalid, f.ResponsesFailure, f.NoHandlerAnswers + f.NoHandlerDrops,
            f.AbortedGroups, f.Deferrals, f.StaleResponsesDropped + f.StaleResponsesRejected, f.DiscardedPartials, f.EvictedPartialGroups,
            f.PurgedPartials, f.CancelledAtTeardown, f.RemovedGroups);
        fw.Write(w);
        w.WriteLine();

        if (r.Teardowns.Count > 0)
        {
            w.WriteLine("PASID teardowns (R25: stop, drain and flush, detach)");
            var td = new TextTable("device", "process", "pasid", "stop", "at", "stopped-in", "drain+flush", "total", "flushed", "unrelated-wait", "hw-drains", "done");
            foreach (var t in r.Teardowns)
                td.Add(t.Device, t.Process, t.Pasid, t.Stop, Ns(t.StartNs), Ns(t.StopNs), Ns(t.DrainNs), Ns(t.TotalNs), t.FlushedGroups,
                    Ns(t.UnrelatedWaitNs), t.HardwareRounds, t.Completed ? "yes" : "NO");
            td.Write(w);
            w.WriteLine();
        }

        if (r.Tenants.Count > 0)
        {
            w.WriteLine("Tenants (throughput ratio: against the same scenario without hostile guests)");
            var tenants = new TextTable("tenant", "kind", "behaviour", "completed", "failed", "per-ms", "ratio", "access-p99", "fault-p50", "fault-p99",
                "credits-leaked", "reset-back", "uprgi", "rf", "expired", "lost", "at-detach", "rejected");
            foreach (var t in r.Tenants)
                tenants.Add(t.Name, t.Kind, t.Behaviour, t.AccessesCompleted, t.AccessesFailed, Invariant($"{t.ThroughputPerMs:0.###}"),
                    t.ThroughputRatio is { } ratio ? Invariant($"{ratio:0.0000}") : "-", Ns(t.AccessLatency.P99Ns),
                    t.FaultLatency.Samples == 0 ? "-" : Ns(t.FaultLatency.P50Ns), t.FaultLatency.Samples == 0 ? "-" : Ns(t.FaultLatency.P99Ns),
                    t.CreditsLeaked, t.CreditsRecoveredByReset, t.Uprgi ? "set" : "-", t.ResponseFailure ? "set" : "-", t.Expired, t.LostEvents,
                    t.AnsweredAtDetach, t.Rejected.Count == 0 ? "-" : string.Join(" ", t.Rejected.Select(kv => $"{kv.Key}:{kv.Value}")));
            tenants.Write(w);
            w.WriteLine();
        }

        w.WriteLine("Latency (virtual time)");
        var lat = new TextTable("what", "samples", "p50", "p99", "max");
        lat.Add("fault (first request to PRG response)", r.FaultLatency.Samples, Ns(r.FaultLatency.P50Ns), Ns(r.FaultLatency.P99Ns), Ns(r.FaultLatency.MaxNs));
        foreach (var d in r.Devices)
            lat.Add($"  {d.Name}", d.FaultLatency.Samples, Ns(d.FaultLatency.P50Ns), Ns(d.FaultLatency.P99Ns), Ns(d.FaultLatency.MaxNs));
        lat.Add("access (start to end)", r.AccessLatency.Samples, Ns(r.AccessLatency.P50Ns), Ns(r.AccessLatency.P99Ns), Ns(r.AccessLatency.MaxNs));
        lat.Write(w);
        w.WriteLine();

        var failures = r.Devices.SelectMany(d => d.AccessesFailed.Where(kv => kv.Value > 0).Select(kv => $"{d.Name} {kv.Key} {kv.Value}")).ToList();
        if (failures.Count > 0) w.WriteLine($"Failed accesses: {string.Join(", ", failures)}");
        foreach (var note in r.Notes) w.WriteLine($"Note: {note}");

        if (r.InvariantCounts.Count == 0)
        {
            w.WriteLine("Invariants: all held");
            return;
        }
        w.WriteLine($"Invariants: {r.InvariantCounts.Values.Sum()} violations ({string.Join(", ", r.InvariantCounts.Select(kv => $"{kv.Key} x{kv.Value}"))})");
        foreach (var v in r.Invariants) w.WriteLine($"  {v}");
        var entries = r.InvariantCounts.Keys.GroupBy(RuleCatalogue.FileOf).OrderBy(g => g.Key, StringComparer.Ordinal);
        w.WriteLine($"  Rules explained in: {string.Join("; ", entries.Select(g => $"{g.Key} ({string.Join(", ", g)})"))}");
    }

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
