using System.Globalization;
using System.Text;
using Faultline.Devices;
using Faultline.Host;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv3;
using Faultline.Simulation;
using Faultline.Sva;

namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// Writes a <see cref="Scenario"/> as scenario YAML (docs/scenarios.md) that <see cref="ScenarioReader"/> reads
/// back to the same scenario: a generated or shrunk scenario becomes a file a user runs with <c>faultline run</c>.
/// Keys at their default are left out, so a minimized reproducer shows only what matters.
/// </summary>
internal static class ScenarioWriter
{
    public static string Write(Scenario s, string? comment = null)
    {
        var w = new StringBuilder();
        if (comment is not null)
            foreach (var line in comment.Split('\n')) w.Append("# ").Append(line).Append('\n');
        w.Append("name: ").Append(s.Name).Append('\n');
        if (s.Description != "") w.Append("description: ").Append(Quoted(s.Description)).Append('\n');
        w.Append("seed: ").Append(s.Seed.ToString(CultureInfo.InvariantCulture)).Append('\n');
        w.Append("policy: ").Append(s.Policy).Append('\n');
        if (s.TimeLimitNs != new Scenario { Name = "", Iommus = [], Processes = [], Devices = [], Workloads = [] }.TimeLimitNs)
            w.Append("time_limit: ").Append(Ns(s.TimeLimitNs)).Append('\n');

        var timing = Fields(new Timing(), s.Timing,
            ("link", t => Ns(t.LinkNs)), ("translation", t => Ns(t.TranslationNs)), ("interrupt", t => Ns(t.InterruptNs)),
            ("report", t => Ns(t.ReportNs)), ("handler_wakeup", t => Ns(t.HandlerWakeupNs)), ("response_command", t => Ns(t.ResponseCommandNs)));
        if (timing.Count > 0) w.Append("timing: ").Append(Flow(timing)).Append('\n');

        var host = Fields(new HostSpec(), s.Host,
            ("workers", h => h.Workers.ToString(CultureInfo.InvariantCulture)),
            ("present_fault", h => Ns(h.Costs.PresentNanoseconds)), ("minor_fault", h => Ns(h.Costs.MinorFaultNanoseconds)),
            ("major_fault", h => Ns(h.Costs.MajorFaultNanoseconds)),
            ("virtual_address_bits", h => h.VirtualAddressBits.ToString(CultureInfo.InvariantCulture)),
            ("fail_group_allocations", h => h.FailGroupAllocations.Count == 0 ? null : $"[{string.Join(", ", h.FailGroupAllocations)}]"),
            ("response_deadline", h => h.ResponseDeadlineNs is { } d ? Ns(d) : null));
        if (host.Count > 0) w.Append("host: ").Append(Flow(host)).Append('\n');

        w.Append("iommus:\n");
        foreach (var i in s.Iommus) w.Append("  - ").Append(Flow(Iommu(i))).Append('\n');

        w.Append("processes:\n");
        foreach (var p in s.Processes)
        {
            w.Append("  - name: ").Append(p.Name).Append("\n    vmas:\n");
            foreach (var v in p.Vmas)
            {
                var vma = new List<(string, string)> { ("start", $"0x{v.Start:x}"), ("pages", Int(v.Pages)), ("perm", Perm(v.Permissions)) };
                if (v.Cost == FaultCost.Major) vma.Add(("backing", "file"));
                if (v.Resident != 0) vma.Add(("resident", v.Resident.ToString("R", CultureInfo.InvariantCulture)));
                w.Append("      - ").Append(Flow(vma)).Append('\n');
            }
        }

        if (s.Devices.Count > 0) w.Append("devices:\n");
        foreach (var d in s.Devices)
        {
            var fields = new List<(string, string)> { ("name", d.Name), ("rid", Quoted(d.Requester.ToString())), ("iommu", d.Iommu) };
            fields.AddRange(Fields(new DeviceSpec { Name = "", Requester = default, Iommu = "", Bind = [] }, d,
                ("capacity", x => Int(x.Capacity)), ("credits", x => x.Credits is { } c ? Int(c) : null),
                ("pages_per_group", x => Int(x.PagesPerGroup)), ("atc_entries", x => Int(x.AtcEntries)), ("retry_limit", x => Int(x.RetryLimit)),
                ("prg_response_pasid_required", x => Bool(x.PrgResponsePasidRequired)),
                ("stop_marker_consumes_credit", x => Bool(x.StopMarkerConsumesCredit)), ("ats", x => Bool(x.Ats)),
                ("omit_last_every", x => Int(x.OmitLastEvery))));
            fields.Add(("bind", $"[{string.Join(", ", d.Bind)}]"));
            w.Append("  - ").Append(Flow(fields)).Append('\n');
        }

        if (s.Masters.Count > 0) w.Append("masters:\n");
        foreach (var m in s.Masters)
        {
            var fields = new List<(string, string)> { ("name", m.Name), ("stream_id", $"0x{m.StreamId:x}"), ("iommu", m.Iommu) };
            fields.AddRange(Fields(new MasterSpec { Name = "", StreamId = 0, Iommu = "", Bind = [] }, m,
                ("max_outstanding", x => Int(x.MaxOutstanding)), ("owner", x => x.Owner), ("context_bank", x => x.ContextBank is { } b ? Int(b) : null)));
            if (m.Retry is { } retry) fields.Add(("retry", $"{{ times: {Int(retry.Times)}, after: {Ns(retry.AfterNs)} }}"));
            fields.Add(("bind", $"[{string.Join(", ", m.Bind)}]"));
            w.Append("  - ").Append(Flow(fields)).Append('\n');
        }

        if (s.Guests.Count > 0) w.Append("guests:\n");
        foreach (var g in s.Guests)
        {
            var fields = new List<(string, string)> { ("name", g.Name), ("behaviour", Simulator.BehaviourName(g.Behaviour)), ("device", g.Device), ("process", g.Process) };
            fields.AddRange(Fields(new GuestSpec { Name = "", Behaviour = default, Device = "", Process = "" }, g,
                ("pasid", x => Int(x.Pasid)), ("read_delay", x => Ns(x.ReadDelayNs)), ("answer_delay", x => Ns(x.AnswerDelayNs)),
                ("detach_at", x => x.DetachAtNs is { } at ? Ns(at) : null)));
            w.Append("  - ").Append(Flow(fields)).Append('\n');
        }

        w.Append(s.Workloads.Count == 0 ? "workloads: []\n" : "workloads:\n");
        foreach (var l in s.Workloads)
        {
            var fields = new List<(string, string)> { ("device", l.Device), ("process", l.Process) };
            fields.AddRange(Fields(new WorkloadSpec { Device = "", Process = "" }, l,
                ("accesses", x => Int(x.Accesses)), ("min_pages", x => Int(x.MinPages)), ("max_pages", x => Int(x.MaxPages)),
                ("write_fraction", x => x.WriteFraction.ToString("R", CultureInfo.InvariantCulture)), ("interval", x => Ns(x.IntervalNs)),
                ("concurrency", x => Int(x.Concurrency)), ("start", x => Ns(x.StartNs)), ("stream", x => x.Stream)));
            w.Append("  - ").Append(Flow(fields)).Append('\n');
        }

        if (s.Events.Count > 0) w.Append("events:\n");
        foreach (var e in s.Events)
        {
            string action = e switch
            {
                UnbindEvent u => $"unbind: {{ device: {u.Device}, process: {u.Process}, stop: {Stop(u.Stop)} }}",
                ExitEvent x => $"exit: {{ process: {x.Process}, stop: {Stop(x.Stop)} }}",
                BindEvent b => $"bind: {{ device: {b.Device}, process: {b.Process} }}",
                RemoveDeviceEvent r => $"remove_device: {{ device: {r.Device} }}",
                _ => throw new ArgumentException($"no YAML for event {e.GetType().Name}", nameof(s)),
            };
            w.Append("  - { at: ").Append(Ns(e.AtNs)).Append(", ").Append(action).Append(" }\n");
        }
        return w.ToString();
    }

    private static List<(string, string)> Iommu(IommuSpec i)
    {
        var fields = new List<(string, string)> { ("name", i.Name), ("type", i.Type.ToString().ToLowerInvariant()) };
        var d = new IommuSpec { Name = "" };
        // The reader fills QueueLog2 with the architecture's default: priq_log2 8, ppr_log_log2 9 (docs/scenarios.md).
        switch (i.Type)
        {
            case IommuType.Vtd:
                if (i.PageRequestQueueOrder != d.PageRequestQueueOrder) fields.Add(("prq_order", Int(i.PageRequestQueueOrder)));
                if (!i.PageDrainSupported) fields.Add(("page_drain_supported", "false"));
                break;
            case IommuType.Smmuv3:
                if (i.QueueLog2 is { } priq and not 8) fields.Add(("priq_log2", Int(priq)));
                if (i.EventQueueLog2 != d.EventQueueLog2) fields.Add(("evtq_log2", Int(i.EventQueueLog2)));
                if (i.StallMax != d.StallMax) fields.Add(("stall_max", Int(i.StallMax)));
                if (i.StallBufferFull == StallBufferFullMode.Abort) fields.Add(("stall_full", "abort"));
                if (i.PriService is { } service) fields.Add(("pri_service", service.ToString().ToLowerInvariant()));
                if (i.PriSeries is { } series) fields.Add(("pri_series", series ? "true" : "false"));
                break;
            case IommuType.Amd:
                if (i.QueueLog2 is { } log and not 9) fields.Add(("ppr_log_log2", Int(log)));
                if (i.InterruptBeforeEntryNs is { } early) fields.Add(("interrupt_before_entry", Ns(early)));
                break;
            case IommuType.Smmuv2:
                if (i.ContextBanks != d.ContextBanks) fields.Add(("context_banks", Int(i.ContextBanks)));
                break;
        }
        if (i.DiscardAutoResponse is { } auto) fields.Add(("discard_auto_response", auto.ToString().ToLowerInvariant()));
        return fields;
    }

    /// <summary>The fields of <paramref name="value"/> that differ from <paramref name="defaults"/>; a null rendering is left out.</summary>
    private static List<(string, string)> Fields<T>(T defaults, T value, params (string Key, Func<T, string?> Render)[] fields) =>
        [.. fields.Select(f => (f.Key, Value: f.Render(value), Default: f.Render(defaults)))
            .Where(f => f.Value is not null && f.Value != f.Default)
            .Select(f => (f.Key, f.Value!))];

    private static string Flow(IEnumerable<(string Key, string Value)> fields) =>
        "{ " + string.Join(", ", fields.Select(f => $"{f.Key}: {f.Value}")) + " }";

    private static string Ns(long ns) => ns.ToString(CultureInfo.InvariantCulture) + "ns";

    private static string Int<T>(T value) where T : IFormattable => value.ToString(null, CultureInfo.InvariantCulture);

    private static string Bool(bool value) => value ? "true" : "false";

    private static string Quoted(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static string Stop(PasidStopMode mode) => mode == PasidStopMode.StopMarker ? "marker" : "wait";

    private static string Perm(VmaPermissions p) =>
        (p.HasFlag(VmaPermissions.Read) ? "r" : "") + (p.HasFlag(VmaPermissions.Write) ? "w" : "") + (p.HasFlag(VmaPermissions.Exec) ? "x" : "");
}
