using Faultline.Devices;
using Faultline.Host;
using Faultline.Simulation;
using Faultline.Sva;

namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// Smaller neighbours of a scenario for FsCheck's shrinking: whole IOMMUs, devices, masters, guests and processes
/// first (with everything that names them), then single events and workloads, then values back to their
/// defaults or halved. Only candidates that still read as a valid scenario file are offered, so a shrunk
/// failure is always a file <c>faultline run</c> accepts, and only those the generator could have drawn
/// (<see cref="ScenarioGenerator.InDomain"/>), so shrinking never walks into a loss the model documents.
/// </summary>
internal static class ScenarioShrinker
{
    /// <summary>
    /// The candidates as the reader reads them back, each different from <paramref name="s"/> as a file (a step the
    /// reader undoes, such as a queue size set to its default, would make shrinking go round in circles).
    /// </summary>
    public static IEnumerable<Scenario> Candidates(Scenario s)
    {
        string current = ScenarioWriter.Write(s);
        foreach (var candidate in Raw(s))
        {
            string text = ScenarioWriter.Write(candidate);
            if (text != current && Read(text) is { } read && ScenarioGenerator.InDomain(read)) yield return read;
        }
    }

    /// <summary>The scenario in <paramref name="text"/>, or null where the reader refuses it (docs/scenarios.md's rules).</summary>
    public static Scenario? Read(string text)
    {
        try
        {
            return ScenarioReader.Parse(text, "candidate.yaml");
        }
        catch (ScenarioException)
        {
            return null;
        }
    }

    private static IEnumerable<Scenario> Raw(Scenario s)
    {
        foreach (var i in s.Iommus)
        {
            var gone = s.Devices.Where(d => d.Iommu == i.Name).Select(d => d.Name)
                .Concat(s.Masters.Where(m => m.Iommu == i.Name).Select(m => m.Name)).ToHashSet();
            yield return WithoutDevices(s with { Iommus = Except(s.Iommus, i) }, gone);
        }
        foreach (var d in s.Devices) yield return WithoutDevices(s, [d.Name]);
        foreach (var m in s.Masters) yield return WithoutDevices(s, [m.Name]);
        foreach (var g in s.Guests)
            yield return s with { Guests = Except(s.Guests, g), Workloads = [.. s.Workloads.Where(w => w.Process != g.Process)] };
        foreach (var p in s.Processes) yield return WithoutProcess(s, p.Name);
        foreach (var e in s.Events) yield return s with { Events = Except(s.Events, e) };
        foreach (var w in s.Workloads) yield return s with { Workloads = Except(s.Workloads, w) };

        foreach (var w in s.Workloads)
        {
            foreach (var smaller in Smaller(w.Accesses, 1)) yield return Replace(s, w, w with { Accesses = smaller });
            if (w.Concurrency > 1) yield return Replace(s, w, w with { Concurrency = 1 });
            if (w.MaxPages > w.MinPages) yield return Replace(s, w, w with { MaxPages = w.MinPages });
            if (w.MinPages > 1) yield return Replace(s, w, w with { MinPages = 1, MaxPages = Math.Max(1, w.MaxPages - w.MinPages + 1) });
            if (w.StartNs > 0) yield return Replace(s, w, w with { StartNs = 0 });
            if (w.IntervalNs != 5_000) yield return Replace(s, w, w with { IntervalNs = 5_000 });
            if (w.WriteFraction != 0.5) yield return Replace(s, w, w with { WriteFraction = 0.5 });
        }
        foreach (var e in s.Events)
        {
            if (e.AtNs > 0) yield return s with { Events = [.. s.Events.Select(x => ReferenceEquals(x, e) ? Retimed(e, e.AtNs / 2) : x)] };
            if (e is UnbindEvent { Stop: PasidStopMode.StopMarker } u) yield return s with { Events = [.. s.Events.Select(x => ReferenceEquals(x, e) ? u with { Stop = PasidStopMode.WaitForResponses } : x)] };
            if (e is ExitEvent { Stop: PasidStopMode.StopMarker } x) yield return s with { Events = [.. s.Events.Select(y => ReferenceEquals(y, e) ? x with { Stop = PasidStopMode.WaitForResponses } : y)] };
        }
        foreach (var g in s.Guests)
        {
            var plain = new GuestSpec { Name = g.Name, Behaviour = g.Behaviour, Device = g.Device, Process = g.Process };
            if (g.Behaviour != GuestBehaviour.Honest) yield return Replace(s, g, g with { Behaviour = GuestBehaviour.Honest });
            if (g.DetachAtNs is not null) yield return Replace(s, g, g with { DetachAtNs = null });
            if (g.Pasid != plain.Pasid) yield return Replace(s, g, g with { Pasid = plain.Pasid });
            if (g.ReadDelayNs != plain.ReadDelayNs || g.AnswerDelayNs != plain.AnswerDelayNs)
                yield return Replace(s, g, g with { ReadDelayNs = plain.ReadDelayNs, AnswerDelayNs = plain.AnswerDelayNs });
        }
        foreach (var d in s.Devices)
        {
            var plain = new DeviceSpec { Name = d.Name, Requester = d.Requester, Iommu = d.Iommu, Bind = d.Bind };
            foreach (var p in d.Bind) yield return Replace(s, d, d with { Bind = Except(d.Bind, p) });
            foreach (var smaller in Smaller((int)d.Capacity, 1)) yield return Replace(s, d, d with { Capacity = (uint)smaller });
            if (d.Credits is not null) yield return Replace(s, d, d with { Credits = null });
            foreach (var simpler in new[]
            {
                d with { PagesPerGroup = plain.PagesPerGroup }, d with { AtcEntries = plain.AtcEntries }, d with { RetryLimit = plain.RetryLimit },
                d with { Ats = plain.Ats }, d with { StopMarkerConsumesCredit = plain.StopMarkerConsumesCredit },
                d with { PrgResponsePasidRequired = plain.PrgResponsePasidRequired },
            })
            {
                if (simpler != d) yield return Replace(s, d, simpler);
            }
        }
        foreach (var m in s.Masters)
        {
            foreach (var p in m.Bind) yield return Replace(s, m, m with { Bind = Except(m.Bind, p) });
            if (m.Owner is not null) yield return Replace(s, m, m with { Owner = null });
            if (m.MaxOutstanding > 1) yield return Replace(s, m, m with { MaxOutstanding = 1 });
        }
        foreach (var p in s.Processes)
        {
            foreach (var v in p.Vmas)
            {
                if (p.Vmas.Count > 1) yield return Replace(s, p, p with { Vmas = Except(p.Vmas, v) });
                foreach (var smaller in Smaller(v.Pages, 1)) yield return Replace(s, p, p with { Vmas = [.. p.Vmas.Select(x => x == v ? v with { Pages = smaller } : x)] });
                if (v.Resident != 0) yield return Replace(s, p, p with { Vmas = [.. p.Vmas.Select(x => x == v ? v with { Resident = 0 } : x)] });
                if (v.Cost != FaultCost.Minor) yield return Replace(s, p, p with { Vmas = [.. p.Vmas.Select(x => x == v ? v with { Cost = FaultCost.Minor } : x)] });
            }
        }
        foreach (var i in s.Iommus)
        {
            var plain = new IommuSpec { Name = i.Name, Type = i.Type };
            foreach (var simpler in new[]
            {
                i with { PageRequestQueueOrder = plain.PageRequestQueueOrder }, i with { QueueLog2 = plain.QueueLog2 }, i with { EventQueueLog2 = plain.EventQueueLog2 },
                i with { StallMax = plain.StallMax }, i with { StallBufferFull = plain.StallBufferFull }, i with { PriService = null },
                i with { DiscardAutoResponse = null }, i with { InterruptBeforeEntryNs = null }, i with { ContextBanks = plain.ContextBanks },
                i with { PageDrainSupported = true },
            })
            {
                if (simpler != i) yield return Replace(s, i, simpler);
            }
        }
        if (s.Host.FailGroupAllocations.Count > 0) yield return s with { Host = s.Host with { FailGroupAllocations = [] } };
        if (s.Host.ResponseDeadlineNs is not null) yield return s with { Host = s.Host with { ResponseDeadlineNs = null } };
        if (s.Host.Workers != new HostSpec().Workers) yield return s with { Host = s.Host with { Workers = new HostSpec().Workers } };
        if (s.Host.Costs != SvaCosts.Default) yield return s with { Host = s.Host with { Costs = SvaCosts.Default } };
        if (s.Timing != new Timing()) yield return s with { Timing = new Timing() };
    }

    /// <summary>Without these devices or masters: their workloads, events and guests go with them.</summary>
    private static Scenario WithoutDevices(Scenario s, HashSet<string> names) => s with
    {
        Devices = [.. s.Devices.Where(d => !names.Contains(d.Name))],
        Masters = [.. s.Masters.Where(m => !names.Contains(m.Name))],
        Guests = [.. s.Guests.Where(g => !names.Contains(g.Device))],
        Workloads = [.. s.Workloads.Where(w => !names.Contains(w.Device))],
        Events = [.. s.Events.Where(e => e switch
        {
            UnbindEvent u => !names.Contains(u.Device),
            BindEvent b => !names.Contains(b.Device),
            RemoveDeviceEvent r => !names.Contains(r.Device),
            _ => true,
        })],
    };

    /// <summary>Without the process: out of every bind list, with its workloads, events and guest.</summary>
    private static Scenario WithoutProcess(Scenario s, string name) => s with
    {
        Processes = [.. s.Processes.Where(p => p.Name != name)],
        Devices = [.. s.Devices.Select(d => d.Bind.Contains(name) ? d with { Bind = Except(d.Bind, name) } : d)],
        Masters = [.. s.Masters.Select(m => m.Bind.Contains(name) ? m with { Bind = Except(m.Bind, name) } : m)],
        Guests = [.. s.Guests.Where(g => g.Process != name)],
        Workloads = [.. s.Workloads.Where(w => w.Process != name)],
        Events = [.. s.Events.Where(e => e switch
        {
            UnbindEvent u => u.Process != name,
            BindEvent b => b.Process != name,
            ExitEvent x => x.Process != name,
            _ => true,
        })],
    };

    private static ScenarioEvent Retimed(ScenarioEvent e, long at) => e switch
    {
        UnbindEvent u => u with { AtNs = at },
        BindEvent b => b with { AtNs = at },
        ExitEvent x => x with { AtNs = at },
        RemoveDeviceEvent r => r with { AtNs = at },
        _ => e,
    };

    /// <summary>The value halved, and the floor, when above it.</summary>
    private static IEnumerable<int> Smaller(int value, int floor)
    {
        if (value <= floor) yield break;
        yield return floor;
        if (value / 2 > floor) yield return value / 2;
    }

    private static List<T> Except<T>(IReadOnlyList<T> items, T item) => [.. items.Where(x => !EqualityComparer<T>.Default.Equals(x, item))];

    private static Scenario Replace<T>(Scenario s, T old, T now) where T : class => s with
    {
        Iommus = Swap(s.Iommus, old, now),
        Processes = Swap(s.Processes, old, now),
        Devices = Swap(s.Devices, old, now),
        Masters = Swap(s.Masters, old, now),
        Guests = Swap(s.Guests, old, now),
        Workloads = Swap(s.Workloads, old, now),
    };

    private static IReadOnlyList<TItem> Swap<TItem, T>(IReadOnlyList<TItem> items, T old, T now) where T : class =>
        old is TItem && now is TItem replacement ? [.. items.Select(x => ReferenceEquals(x, old) ? replacement : x)] : items;
}
