using System.Globalization;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using Faultline.Simulation.Distributions;
using Faultline.Sva;
using YamlDotNet.Core;
using Events = YamlDotNet.Core.Events;

namespace Faultline.Simulation;

/// <summary>
/// A scenario file that cannot be used, with the place and key at fault, and the limit it breaks if it breaks one.
/// Values are quoted as the file has them; a reader that prints the message escapes what it must (the command does).
/// </summary>
public sealed class ScenarioException(string file, long line, long column, string key, string problem, string? limit = null)
    : Exception($"{file}:{line}:{column}: {key}: {problem}")
{
    public string File { get; } = file;
    public long Line { get; } = line;
    public long Column { get; } = column;
    public string Key { get; } = key;
    public string Problem { get; } = problem;
    /// <summary>The name of the <see cref="ScenarioLimits"/> entry the file breaks (docs/scenarios.md), or null.</summary>
    public string? Limit { get; } = limit;

    /// <summary>A limit broken at a place: the problem names the limit and its value.</summary>
    internal static ScenarioException Breach(string file, long line, long column, string key, string what, string limit, long max) =>
        new(file, line, column, key, $"{what}, over the '{limit}' limit of {max}", limit);
}

/// <summary>
/// Reads scenario YAML (docs/scenarios.md) strictly: unknown keys, wrong types, out-of-range values
/// and dangling references are errors that name the file, line, column and key. Hostile files are
/// bounded by <see cref="ScenarioLimits"/>: every breach is an error naming the limit, and reading is
/// linear in the file (issue 14).
/// </summary>
public static partial class ScenarioReader
{
    public const string DefaultResource = "Faultline.Scenarios.default.yaml";

    /// <summary>
    /// Reads the file at <paramref name="path"/>, refusing it past <see cref="ScenarioLimits.FileBytes"/> before it is
    /// all in memory (<c>/dev/zero</c> included). I/O errors are the caller's (<see cref="IOException"/>,
    /// <see cref="UnauthorizedAccessException"/>); a directory is an <see cref="IOException"/> that says so.
    /// </summary>
    /// <param name="overrides"><c>--set PATH=VALUE</c> settings applied to the file's tree before it is read (ScenarioOverrides.cs).</param>
    public static Scenario Load(string path, ScenarioLimits? limits = null, IReadOnlyList<ScenarioOverride>? overrides = null)
    {
        limits ??= ScenarioLimits.Default;
        if (Directory.Exists(path)) throw new IOException($"'{path}' is a directory, not a scenario file");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var bytes = new MemoryStream();
        var chunk = new byte[1 << 16];
        for (int n; (n = file.Read(chunk)) > 0;)
        {
            if (bytes.Length + n > limits.FileBytes)
                throw ScenarioException.Breach(path, 1, 1, "(file)", $"more than {limits.FileBytes} bytes", "file_size", limits.FileBytes);
            bytes.Write(chunk, 0, n);
        }
        bytes.Position = 0;
        using var text = new StreamReader(bytes, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return Parse(text.ReadToEnd(), path, limits, overrides);
    }

    /// <summary>The built-in default scenario (the same text as scenarios/default.yaml).</summary>
    public static Scenario Default(IReadOnlyList<ScenarioOverride>? overrides = null)
    {
        using var stream = typeof(ScenarioReader).Assembly.GetManifestResourceStream(DefaultResource)
            ?? throw new InvalidOperationException($"resource {DefaultResource} is missing from the assembly");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd(), "<built-in default>", overrides: overrides);
    }

    /// <summary>Reads scenario text; <paramref name="file"/> names it in messages. Throws only <see cref="ScenarioException"/> for a bad file.</summary>
    /// <param name="overrides">Applied to the tree before it is read; a bad one throws <see cref="ScenarioOverrideException"/> instead.</param>
    public static Scenario Parse(string text, string file, ScenarioLimits? limits = null, IReadOnlyList<ScenarioOverride>? overrides = null)
    {
        limits ??= ScenarioLimits.Default;
        // Characters, not bytes, here: a caller holding the text has it in memory already; the bound is the same.
        if (text.Length > limits.FileBytes)
            throw ScenarioException.Breach(file, 1, 1, "(file)", $"{text.Length} characters", "file_size", limits.FileBytes);
        var tree = YamlTree.Read(text, file, limits);
        return overrides is null or [] ? Read(tree) : ReadOverridden(tree, overrides, Read);

        Scenario Read(YamlTree.Element document) =>
            ReadScenario(Node.Map(file, document, "", "name", "description", "seed", "policy", "kernel", "time_limit", "warmup", "timing", "host", "iommus", "processes", "devices", "masters", "guests", "workloads", "events"), limits);
    }

    private static Scenario ReadScenario(Node root, ScenarioLimits limits)
    {
        var queueEntries = new Budget("queue_entries", limits.QueueEntries, "hardware queue entries");
        var vmaCount = new Budget("vmas", limits.Vmas, "VMAs");
        var vmaPages = new Budget("vma_pages", limits.VmaPages, "VMA pages");
        var residentPages = new Budget("resident_pages", limits.ResidentPages, "resident pages");
        var devicesAndMasters = new Budget("devices", limits.Devices, "devices and masters");

        var timingNode = root.OptionalMap("timing", "link", "translation", "interrupt", "report", "handler_wakeup", "response_command");
        var timing = new Timing();
        if (timingNode is not null)
        {
            // Each hop a duration, or a distribution whose mean stands in for the constant (jitter).
            var drawn = new Dictionary<Hop, Distribution>();
            long HopOf(string key, Hop hop, long fallback)
            {
                if (timingNode.Distribution(key, true, Distribution.Fixed) is not { } d) return fallback;
                if (!d.IsConstant) drawn.Add(hop, d);
                return (long)Math.Round(d.Mean);
            }
            timing = new Timing
            {
                LinkNs = HopOf("link", Hop.Link, timing.LinkNs),
                TranslationNs = HopOf("translation", Hop.Translation, timing.TranslationNs),
                InterruptNs = HopOf("interrupt", Hop.Interrupt, timing.InterruptNs),
                ReportNs = HopOf("report", Hop.Report, timing.ReportNs),
                HandlerWakeupNs = HopOf("handler_wakeup", Hop.HandlerWakeup, timing.HandlerWakeupNs),
                ResponseCommandNs = HopOf("response_command", Hop.ResponseCommand, timing.ResponseCommandNs),
                Drawn = drawn.Count > 0 ? drawn : timing.Drawn,
            };
        }

        var host = new HostSpec();
        var service = new ServiceSpec();
        if (root.OptionalMap("host", "workers", "present_fault", "minor_fault", "major_fault", "handler_overhead", "virtual_address_bits", "fail_group_allocations", "response_deadline") is { } hostNode)
        {
            var d = SvaCosts.Default;
            // A cost given as a distribution is drawn per fault; its mean is the constant the core keeps.
            static Distribution? Drawn(Distribution? d) => d is { IsConstant: false } ? d : null;
            static long MeanOr(Distribution? d, long fallback) => d is null ? fallback : (long)Math.Round(d.Mean);
            var present = hostNode.Distribution("present_fault", true, Distribution.Fixed);
            var minor = hostNode.Distribution("minor_fault", true, Distribution.Fixed);
            var major = hostNode.Distribution("major_fault", true, Distribution.Fixed);
            service = new ServiceSpec
            {
                PresentFault = Drawn(present),
                MinorFault = Drawn(minor),
                MajorFault = Drawn(major),
                HandlerOverhead = hostNode.Distribution("handler_overhead", true, Distribution.Fixed),
            };
            host = new HostSpec
            {
                Workers = (int)hostNode.Integer("workers", host.Workers, 1, 1024),
                Costs = new SvaCosts(MeanOr(present, d.PresentNanoseconds), MeanOr(minor, d.MinorFaultNanoseconds), MeanOr(major, d.MajorFaultNanoseconds)),
                VirtualAddressBits = (int)hostNode.Integer("virtual_address_bits", host.VirtualAddressBits, 39, 57),
                FailGroupAllocations = hostNode.IntegerList("fail_group_allocations", 1, long.MaxValue),
                ResponseDeadlineNs = hostNode.Has("response_deadline") ? hostNode.Duration("response_deadline", 0) : null,
            };
            if (host.ResponseDeadlineNs == 0) hostNode.Fail("response_deadline", "must be above 0");
        }

        var iommus = new List<IommuSpec>();
        var iommuNames = new Names();
        var iommuByName = new Dictionary<string, IommuSpec>(StringComparer.Ordinal);
        var perType = new Dictionary<IommuType, string[]>
        {
            [IommuType.Vtd] = ["prq_order", "discard_auto_response", "page_drain_supported"],
            [IommuType.Smmuv3] = ["priq_log2", "evtq_log2", "discard_auto_response", "stall_max", "stall_full", "pri_service", "pri_series"],
            [IommuType.Amd] = ["ppr_log_log2", "discard_auto_response", "interrupt_before_entry"],
            [IommuType.Smmuv2] = ["context_banks"],
        };
        foreach (var n in root.RequiredList("iommus", new Budget("iommus", limits.Iommus, "IOMMUs"), ["name", "type", .. perType.Values.SelectMany(k => k).Distinct()]))
        {
            var name = n.Name("name", iommuNames);
            var type = n.Choice("type", IommuType.Vtd, ("vtd", IommuType.Vtd), ("smmuv3", IommuType.Smmuv3), ("amd", IommuType.Amd), ("smmuv2", IommuType.Smmuv2));
            foreach (var key in perType.Where(kv => kv.Key != type).SelectMany(kv => kv.Value).Except(perType[type]).Where(n.Has))
                n.Fail(key, $"does not apply to a {n.String("type", "vtd")} IOMMU; its keys: {string.Join(", ", perType[type])}");
            var spec = new IommuSpec
            {
                Name = name,
                Type = type,
                PageRequestQueueOrder = (int)n.Integer("prq_order", 4, 0, 12),
                QueueLog2 = type switch
                {
                    IommuType.Smmuv3 => (int)n.Integer("priq_log2", 8, 1, 19),
                    IommuType.Amd => (int)n.Integer("ppr_log_log2", 9, 8, 15),
                    _ => null,
                },
                EventQueueLog2 = (int)n.Integer("evtq_log2", 7, 1, 19),
                DiscardAutoResponse = n.Has("discard_auto_response")
                    ? n.Choice("discard_auto_response", DiscardAutoResponse.Success, ("success", DiscardAutoResponse.Success), ("none", DiscardAutoResponse.None))
                    : null,
                PageDrainSupported = n.Boolean("page_drain_supported", true),
                StallMax = (int)n.Integer("stall_max", 16, 1, 0xFFFF),
                StallBufferFull = n.Choice("stall_full", Iommu.Smmuv3.StallBufferFullMode.BackPressure,
                    ("back-pressure", Iommu.Smmuv3.StallBufferFullMode.BackPressure), ("abort", Iommu.Smmuv3.StallBufferFullMode.Abort)),
                PriService = n.Has("pri_service")
                    ? n.Choice("pri_service", Iommu.Smmuv3.PriService.Framework, ("deny", Iommu.Smmuv3.PriService.Deny), ("framework", Iommu.Smmuv3.PriService.Framework))
                    : null,
                PriSeries = n.Has("pri_series") ? n.Boolean("pri_series", true) : null,
                InterruptBeforeEntryNs = n.Has("interrupt_before_entry") ? n.Duration("interrupt_before_entry", 0) : null,
                ContextBanks = (int)n.Integer("context_banks", 8, 1, 128),
            };
            // The rings a scenario sizes are allocated whole at start (a PRQ of order 12 is 16 MiB).
            var (queueKey, entries) = type switch
            {
                IommuType.Vtd => ("prq_order", 1L << (spec.PageRequestQueueOrder + 7)),
                IommuType.Smmuv3 => ("priq_log2", (1L << spec.QueueLog2!.Value) + (1L << spec.EventQueueLog2)),
                IommuType.Amd => ("ppr_log_log2", 1L << spec.QueueLog2!.Value),
                _ => ("type", 0L),
            };
            queueEntries.Spend(n, queueKey, entries);
            iommus.Add(spec);
            iommuNames.Add(name);
            iommuByName.Add(name, iommus[^1]);
        }

        var processes = new List<ProcessSpec>();
        var processNames = new Names();
        foreach (var n in root.RequiredList("processes", new Budget("processes", limits.Processes, "processes"), "name", "vmas"))
        {
            var name = n.Name("name", processNames);
            var mappings = ReadVmas(n, name, vmaCount, vmaPages, residentPages);
            if (mappings.Count == 0) n.Fail("vmas", "a process needs at least one VMA");
            processes.Add(new ProcessSpec { Name = name, Vmas = mappings });
            processNames.Add(name);
        }

        var devices = new List<DeviceSpec>();
        // Devices, then masters: the order their names are listed in messages.
        var deviceAndMasterNames = new Names();
        var deviceNames = new Names();
        var deviceByName = new Dictionary<string, DeviceSpec>(StringComparer.Ordinal);
        var deviceByRequester = new Dictionary<(string Iommu, ushort Requester), DeviceSpec>();
        // (device or master, process) for every SVA bind list entry.
        var svaBinds = new HashSet<(string Device, string Process)>();
        // The first device, in file order, whose bind list names the process.
        var firstBinder = new Dictionary<string, DeviceSpec>(StringComparer.Ordinal);
        foreach (var n in root.OptionalList("devices", devicesAndMasters, "name", "rid", "iommu", "capacity", "credits", "pages_per_group", "atc_entries", "retry_limit", "prg_response_pasid_required", "stop_marker_consumes_credit", "omit_last_every", "ats", "bind"))
        {
            var name = n.Name("name", deviceNames);
            var rid = n.RequesterId("rid");
            var iommu = n.Reference("iommu", iommuNames);
            if (iommuByName[iommu].Type == IommuType.Smmuv2)
                n.Fail("iommu", $"'{iommu}' is an SMMUv2: it has no ATS, PRI or PASIDs for PCIe functions; place platform masters behind it (masters)");
            // Requester ids are unique per IOMMU: each sits behind its own root complex (or segment).
            if (deviceByRequester.GetValueOrDefault((iommu, rid.Value)) is { } clash)
                n.Fail("rid", $"{rid} is already the requester id of device '{clash.Name}' behind {iommu}");
            var bind = n.ProcessList("bind", processNames);
            devices.Add(new DeviceSpec
            {
                Name = name,
                Requester = rid,
                Iommu = iommu,
                Capacity = (uint)n.Integer("capacity", 32, 1, uint.MaxValue),
                Credits = n.Has("credits") ? (uint)n.Integer("credits", null, 0, uint.MaxValue) : null,
                PagesPerGroup = (int)n.Integer("pages_per_group", 4, 1, PrgIndex.Count),
                AtcEntries = (int)n.Integer("atc_entries", 1024, 1, 1 << 20),
                RetryLimit = (int)n.Integer("retry_limit", 16, 0, 1 << 20),
                PrgResponsePasidRequired = n.Boolean("prg_response_pasid_required", true),
                StopMarkerConsumesCredit = n.Boolean("stop_marker_consumes_credit", false),
                Ats = n.Boolean("ats", true),
                OmitLastEvery = (int)n.Integer("omit_last_every", 0, 0, int.MaxValue),
                Bind = bind,
            });
            var device = devices[^1];
            deviceNames.Add(name);
            deviceAndMasterNames.Add(name);
            deviceByName.Add(name, device);
            deviceByRequester.Add((iommu, rid.Value), device);
            foreach (var process in bind)
            {
                svaBinds.Add((name, process));
                firstBinder.TryAdd(process, device);
            }
        }

        var masters = new List<MasterSpec>();
        var masterByName = new Dictionary<string, MasterSpec>(StringComparer.Ordinal);
        var masterByStream = new Dictionary<(string Iommu, uint StreamId), MasterSpec>();
        var masterByBank = new Dictionary<(string Iommu, int Bank), MasterSpec>();
        foreach (var n in root.OptionalList("masters", devicesAndMasters, "name", "stream_id", "iommu", "max_outstanding", "owner", "bind", "context_bank", "retry"))
        {
            var name = n.Name("name", deviceAndMasterNames);
            var iommu = n.Reference("iommu", iommuNames);
            var smmu = iommuByName[iommu];
            if (smmu.Type is not (IommuType.Smmuv3 or IommuType.Smmuv2))
                n.Fail("iommu", $"'{iommu}' is not an SMMU: only an SMMUv3 or an SMMUv2 stalls platform masters (H-SMMU-5, H-SMMU-10, H-SMMUv2-3)");
            uint streamId = (uint)n.Integer("stream_id", null, 0, uint.MaxValue);
            if (masterByStream.GetValueOrDefault((iommu, streamId)) is { } clash)
                n.Fail("stream_id", $"0x{streamId:x} is already the StreamID of master '{clash.Name}'");
            if (streamId <= ushort.MaxValue && deviceByRequester.GetValueOrDefault((iommu, (ushort)streamId)) is { } function)
                n.Fail("stream_id", $"0x{streamId:x} is the StreamID of PCIe function '{function.Name}' (its requester id)");
            var bind = n.ProcessList("bind", processNames);
            int? bank = null;
            if (smmu.Type == IommuType.Smmuv2)
            {
                if (bind.Count != 1)
                    n.Fail("bind", $"a master behind SMMUv2 '{iommu}' is bound to exactly one process: its context bank has one page table and its faults carry no PASID");
                if (n.Has("context_bank"))
                {
                    bank = (int)n.Integer("context_bank", null, 0, smmu.ContextBanks - 1);
                    if (masterByBank.GetValueOrDefault((iommu, bank.Value)) is { } sharer)
                        n.Fail("context_bank", $"context bank {bank} of '{iommu}' already belongs to master '{sharer.Name}': one master per context bank");
                }
            }
            else if (n.Has("context_bank"))
            {
                n.Fail("context_bank", $"applies to a master behind an SMMUv2; '{iommu}' is an SMMUv3");
            }
            masters.Add(new MasterSpec
            {
                Name = name,
                StreamId = streamId,
                Iommu = iommu,
                MaxOutstanding = (int)n.Integer("max_outstanding", 4, 1, 4096),
                Owner = n.Has("owner") ? n.String("owner", null) : null,
                Bind = bind,
                ContextBank = bank,
                Retry = n.OptionalMap("retry", "times", "after") is { } retry
                    ? new MasterRetry((int)retry.Integer("times", null, 1, 1_000_000), retry.Duration("after", 0))
                    : null,
            });
            var master = masters[^1];
            deviceAndMasterNames.Add(name);
            masterByName.Add(name, master);
            masterByStream.Add((iommu, streamId), master);
            if (bank is { } b) masterByBank.Add((iommu, b), master);
            foreach (var process in bind) svaBinds.Add((name, process));
        }
        // SMMUv2 masters without a context bank get the lowest one no master of their SMMU names.
        // Banks are only ever taken, so the lowest free one of an SMMU only moves up: a cursor per SMMU.
        var lowestFree = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < masters.Count; i++)
        {
            var m = masters[i];
            var smmu = iommuByName[m.Iommu];
            if (m.ContextBank is not null || smmu.Type != IommuType.Smmuv2) continue;
            int free = lowestFree.GetValueOrDefault(m.Iommu);
            while (free < smmu.ContextBanks && masterByBank.ContainsKey((m.Iommu, free))) free++;
            if (free == smmu.ContextBanks)
                root.Fail("masters", $"master '{m.Name}': all {smmu.ContextBanks} context banks of '{m.Iommu}' already have a master (context_banks)");
            masters[i] = m with { ContextBank = free };
            masterByName[m.Name] = masters[i];
            masterByBank.Add((m.Iommu, free), masters[i]);
            lowestFree[m.Iommu] = free + 1;
        }

        if (devices.Count == 0 && masters.Count == 0) root.Fail("devices", "a scenario needs at least one PCIe function (devices) or platform master (masters)");

        var guests = new List<GuestSpec>();
        var guestNames = new Names();
        var guestByDevice = new Dictionary<string, GuestSpec>(StringComparer.Ordinal);
        var guestByProcess = new Dictionary<string, GuestSpec>(StringComparer.Ordinal);
        foreach (var n in root.OptionalList("guests", null, "name", "behaviour", "device", "process", "pasid", "read_delay", "answer_delay", "detach_at"))
        {
            // Tenants are named by guest or process in the report: one name, one tenant.
            var name = n.Name("name", guestNames, processNames);
            var device = n.Reference("device", deviceNames);
            if (deviceByName[device].Bind.Count > 0)
                n.Fail("device", $"device '{device}' has processes bound through SVA; a guest owns its device alone");
            if (guestByDevice.GetValueOrDefault(device) is { } owner)
                n.Fail("device", $"device '{device}' already belongs to guest '{owner.Name}'");
            var process = n.Reference("process", processNames);
            if (firstBinder.GetValueOrDefault(process) is { } svaDevice)
                n.Fail("process", $"process '{process}' is bound to device '{svaDevice.Name}' through SVA; a guest's address space is its own");
            if (guestByProcess.GetValueOrDefault(process) is { } sharer)
                n.Fail("process", $"process '{process}' is already the address space of guest '{sharer.Name}'");
            guests.Add(new GuestSpec
            {
                Name = name,
                Behaviour = n.Choice("behaviour", GuestBehaviour.Honest,
                    ("honest", GuestBehaviour.Honest), ("never-answers", GuestBehaviour.NeverAnswers), ("answers-twice", GuestBehaviour.AnswersTwice),
                    ("random-cookies", GuestBehaviour.RandomCookies), ("stale-cookies", GuestBehaviour.StaleCookies), ("bad-codes", GuestBehaviour.BadCodes),
                    ("flood", GuestBehaviour.Flood), ("answers-after-detach", GuestBehaviour.AnswersAfterDetach), ("reads-nothing", GuestBehaviour.ReadsNothing)),
                Device = device,
                Process = process,
                Pasid = (uint)n.Integer("pasid", 1, 1, Pasid.Mask),
                ReadDelayNs = n.Duration("read_delay", 5_000),
                AnswerDelayNs = n.Duration("answer_delay", 5_000),
                DetachAtNs = n.Has("detach_at") ? n.Duration("detach_at", 0) : null,
            });
            // iommu_attach_device_pasid: a PASID at or past the IOMMU's max_pasids is -EINVAL; Linux's AMD
            // driver stops at 16 bits (H-AMD-6), where a wider one would be answered FAILURE (R35).
            var guestIommu = iommuByName[deviceByName[device].Iommu];
            if (guestIommu.Type == IommuType.Amd && guests[^1].Pasid >= 0xFFFF)
                n.Fail("pasid", $"{guests[^1].Pasid} is past the 16-bit PASIDs of AMD IOMMU '{guestIommu.Name}' (H-AMD-6)");
            if (guests[^1].Behaviour == GuestBehaviour.AnswersAfterDetach && guests[^1].DetachAtNs is null)
                n.Fail("detach_at", "is required for behaviour answers-after-detach");
            guestNames.Add(name);
            guestByDevice.Add(device, guests[^1]);
            guestByProcess.Add(process, guests[^1]);
        }

        var events = new List<ScenarioEvent>();
        var bindEvents = new HashSet<(string Device, string Process)>();
        foreach (var n in root.OptionalList("events", new Budget("events", limits.Events, "events"), "at", "unbind", "bind", "exit", "remove_device"))
        {
            long at = n.Duration("at", -1);
            if (at < 0) n.Fail("at", "is required");
            var actions = new[] { "unbind", "bind", "exit", "remove_device" }.Where(n.Has).ToList();
            if (actions.Count != 1) n.Fail("at", $"an event needs exactly one of unbind, bind, exit, remove_device; found {(actions.Count == 0 ? "none" : string.Join(", ", actions))}");
            switch (actions[0])
            {
                case "unbind":
                {
                    var a = n.OptionalMap("unbind", "device", "process", "stop")!;
                    var device = a.Reference("device", deviceNames);
                    events.Add(new UnbindEvent(at, device, a.Reference("process", processNames), StopMode(a)));
                    break;
                }
                case "bind":
                {
                    var a = n.OptionalMap("bind", "device", "process")!;
                    var target = a.Reference("device", deviceAndMasterNames);
                    if (guestByDevice.GetValueOrDefault(target) is { } owner)
                        a.Fail("device", $"device '{target}' belongs to guest '{owner.Name}'; SVA cannot bind to it");
                    if (masterByName.GetValueOrDefault(target) is { } v2 && iommuByName[v2.Iommu].Type == IommuType.Smmuv2)
                        a.Fail("device", $"master '{target}' is behind SMMUv2 '{v2.Iommu}': it is bound to its one process in its bind list, not by an event");
                    var bind = new BindEvent(at, target, a.Reference("process", processNames));
                    events.Add(bind);
                    bindEvents.Add((bind.Device, bind.Process));
                    break;
                }
                case "exit":
                {
                    var a = n.OptionalMap("exit", "process", "stop")!;
                    events.Add(new ExitEvent(at, a.Reference("process", processNames), StopMode(a)));
                    break;
                }
                default:
                {
                    var a = n.OptionalMap("remove_device", "device")!;
                    events.Add(new RemoveDeviceEvent(at, a.Reference("device", deviceAndMasterNames)));
                    break;
                }
            }
        }

        var workloads = new List<WorkloadSpec>();
        foreach (var n in root.RequiredList("workloads", new Budget("workloads", limits.Workloads, "workloads"), "device", "process", "accesses", "min_pages", "max_pages", "write_fraction", "interval", "concurrency", "start", "stream",
            "batch", "burst", "think", "pages", "start_offset", "trace"))
        {
            var device = n.Reference("device", deviceAndMasterNames);
            var process = n.Reference("process", processNames);
            if (!svaBinds.Contains((device, process))
                && !bindEvents.Contains((device, process))
                && guestByDevice.GetValueOrDefault(device)?.Process != process)
                n.Fail("process", $"process '{process}' is not bound to device '{device}' (add it to the device's bind list or a bind event, or make it the address space of the guest that owns the device)");
            var w = new WorkloadSpec
            {
                Device = device,
                Process = process,
                Accesses = (int)n.Integer("accesses", 100, 0, 100_000_000),
                MinPages = (int)n.Integer("min_pages", 1, 1, 1 << 16),
                MaxPages = (int)n.Integer("max_pages", 8, 1, 1 << 16),
                WriteFraction = n.Fraction("write_fraction", 0.5),
                Concurrency = (int)n.Integer("concurrency", 4, 1, 1 << 16),
                StartNs = n.Duration("start", 0),
                Stream = n.Has("stream") ? n.String("stream", null) : null,
            };
            if (w.MaxPages < w.MinPages) n.Fail("max_pages", $"{w.MaxPages} is below min_pages ({w.MinPages})");
            w = ReadArrivals(n, w);
            workloads.Add(w);
        }

        var scenario = new Scenario
        {
            Name = root.String("name", null),
            Description = root.String("description", ""),
            Seed = (ulong)root.Integer("seed", 1, 0, long.MaxValue),
            Policy = ReadPolicy(root),
            TimeLimitNs = root.Duration("time_limit", 10_000_000_000),
            WarmupNs = root.Duration("warmup", 0),
            Service = service,
            Timing = timing,
            Host = host,
            Iommus = iommus,
            Processes = processes,
            Devices = devices,
            Workloads = workloads,
            Events = events,
            Guests = guests,
            Masters = masters,
        };
        if (scenario.MissingIn(FaultPolicy.ByName(scenario.Policy)!.Kernel) is { } missing)
        {
            string key = root.Has("kernel") ? "kernel" : "policy";
            root.Fail(key, $"{root.String(key, null)}: {missing}");
        }
        return scenario;
    }

    /// <summary>
    /// <c>policy</c>, and <c>kernel</c>, which pins the <c>linux</c> policy to a release: the policy is then named after
    /// it (<c>linux@6.12</c>, <see cref="FaultPolicy.LinuxAt"/>), a name <c>policy</c> also takes, so a resolved
    /// scenario reads back. <c>hardened</c> is the newest release and takes none.
    /// </summary>
    private static string ReadPolicy(Node root)
    {
        var policy = root.String("policy", "hardened");
        if (!(policy.StartsWith("linux@", StringComparison.Ordinal) && FaultPolicy.ByName(policy) is not null))
            policy = root.Reference("policy", ["linux", "hardened"], "hardened");
        if (!root.Has("kernel")) return FaultPolicy.ByName(policy)!.Name;
        if (policy != "linux") root.Fail("kernel", $"pins the linux policy to a release; the scenario's policy is {policy} (hardened is {KernelRelease.Newest} with the POLs)");
        if (!KernelRelease.TryParseModelled(root.String("kernel", null), out var release, out var error)) root.Fail("kernel", error);
        return FaultPolicy.LinuxAt(release).Name;
    }

    /// <summary>A workload's arrival process and access sizes beyond the one-number form (docs/scenarios.md, "Distributions").</summary>
    private static WorkloadSpec ReadArrivals(Node n, WorkloadSpec w)
    {
        var interval = n.Distribution("interval", true, Distribution.Exponential); // one number: Poisson, as always
        var pages = n.Distribution("pages", false, Distribution.Fixed);
        if (pages is not null)
            foreach (var key in new[] { "min_pages", "max_pages" }.Where(n.Has)) n.Fail(key, "does not go with pages (a distribution of the pages per access)");
        var think = n.Distribution("think", true, Distribution.Fixed);
        List<long>? trace = null;
        string? traceFile = null;
        if (n.Has("trace"))
        {
            foreach (var key in new[] { "interval", "think", "burst" }.Where(n.Has)) n.Fail(key, "does not go with trace (the arrivals are the file's)");
            (traceFile, trace) = n.Csv("trace", true);
            for (int i = 1; i < trace.Count; i++)
                if (trace[i] < trace[i - 1]) n.Fail("trace", $"arrival times must not decrease: value {i + 1} ({trace[i]} ns) is before the one before it");
        }
        if (think is not null)
            foreach (var key in new[] { "interval", "burst" }.Where(n.Has)) n.Fail(key, "does not go with think (a closed loop: each access that ends starts the next)");
        BurstSpec? burst = null;
        if (n.OptionalMap("burst", "on", "off") is { } b)
        {
            foreach (var key in new[] { "on", "off" }.Where(k => !b.Has(k))) b.Fail(key, "is required (how long the source stays in that state; one number: exponential of that mean)");
            burst = new BurstSpec
            {
                On = b.Distribution("on", true, Distribution.Exponential)!,
                Off = b.Distribution("off", true, Distribution.Exponential)!,
            };
        }
        return w with
        {
            IntervalNs = interval is null ? w.IntervalNs : (long)Math.Round(interval.Mean),
            Interval = interval is { Kind: DistributionKind.Exponential } ? null : interval,
            Batch = n.Distribution("batch", false, Distribution.Fixed),
            Burst = burst,
            Think = think,
            Pages = pages,
            StartOffset = n.Distribution("start_offset", true, Distribution.Fixed),
            Trace = trace,
            TraceFile = traceFile,
            // A trace ends the workload when it ends; accesses, if given, may end it sooner.
            Accesses = trace is not null && !n.Has("accesses") ? 100_000_000 : w.Accesses,
        };
    }

    /// <summary>
    /// A process's VMAs. The first that overlaps one before it (in file order) is refused at its own
    /// place, ahead of any error in the VMAs after it, as mapping them one by one would; but it is
    /// found once every VMA is read, in O(n log n) (issue 9: mapping each into a fresh address space
    /// was cubic), with the address space's own reasons (<see cref="AddressSpace.Refusal"/>).
    /// </summary>
    private static List<VmaSpec> ReadVmas(Node process, string name, Budget vmaCount, Budget vmaPages, Budget residentPages)
    {
        var specs = new List<VmaSpec>();
        var nodes = new List<Node>();
        System.Runtime.ExceptionServices.ExceptionDispatchInfo? later = null;
        try
        {
            foreach (var v in process.RequiredList("vmas", vmaCount, "start", "pages", "perm", "backing", "resident"))
            {
                var spec = new VmaSpec
                {
                    Start = v.Address("start"),
                    Pages = (int)v.Integer("pages", null, 1, 1 << 24),
                    Permissions = v.Permissions("perm"),
                    Cost = v.Choice("backing", FaultCost.Minor, ("anon", FaultCost.Minor), ("file", FaultCost.Major)),
                    Resident = v.Fraction("resident", 0),
                };
                // The run draws residency page by page at start, and maps each resident page.
                vmaPages.Spend(v, "pages", spec.Pages);
                residentPages.Spend(v, "resident", (long)Math.Ceiling(spec.Pages * spec.Resident));
                specs.Add(spec);
                nodes.Add(v);
            }
        }
        catch (ScenarioException e)
        {
            later = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e); // unless a VMA read before it is refused
        }
        var vmas = specs.ConvertAll(v => new Vma(v.Start, (ulong)v.Pages << 12, v.Permissions, v.Cost));
        if (FirstRefused(vmas, name) is var (index, problem)) nodes[index].Fail("start", problem);
        later?.Throw();
        return specs;
    }

    /// <summary>
    /// The first VMA that <see cref="AddressSpace.Map"/> would refuse, mapping them in order into
    /// an empty address space named <paramref name="name"/>, and why; null if it takes them all.
    /// </summary>
    private static (int Index, string Problem)? FirstRefused(List<Vma> vmas, string name)
    {
        // A VMA refused on its own ends the search there; before it, the first k VMAs are disjoint
        // for every k up to some point and for none after, so that point is found by bisection,
        // each test one pass over the VMAs sorted by start once.
        int limit = vmas.FindIndex(v => AddressSpace.Refusal(v, null, null, name) is not null);
        if (limit < 0) limit = vmas.Count;
        var byStart = Enumerable.Range(0, limit).OrderBy(i => vmas[i].Start).ToArray();
        bool Disjoint(int k)
        {
            ulong end = 0;
            bool any = false;
            foreach (int i in byStart)
            {
                if (i >= k) continue;
                if (any && end > vmas[i].Start) return false;
                end = vmas[i].End;
                any = true;
            }
            return true;
        }
        int lo = 0, hi = limit;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) >>> 1;
            if (Disjoint(mid)) lo = mid;
            else hi = mid - 1;
        }
        if (lo == vmas.Count) return null;
        // The VMA at lo meets the ones before it as Map would: between its neighbours among them.
        Vma? below = null, above = null;
        var vma = vmas[lo];
        for (int i = 0; i < lo; i++)
        {
            var v = vmas[i];
            if (v.Start < vma.Start)
            {
                if (below is not { } b || v.Start > b.Start) below = v;
            }
            else if (above is not { } a || v.Start < a.Start)
            {
                above = v;
            }
        }
        return (lo, AddressSpace.Refusal(vma, below, above, name)!);
    }

    /// <summary>Names in file order, for messages that list them, with O(1) lookup (issue 9).</summary>
    private sealed class Names
    {
        private readonly List<string> _inOrder = [];
        private readonly HashSet<string> _set = new(StringComparer.Ordinal);

        public void Add(string name)
        {
            if (_set.Add(name)) _inOrder.Add(name);
        }

        public bool Contains(string name) => _set.Contains(name);

        /// <summary>The first names, and how many in all past them: a message stays short whatever the file lists.</summary>
        public override string ToString() =>
            _inOrder.Count <= Listed ? string.Join(", ", _inOrder) : $"{string.Join(", ", _inOrder.Take(Listed))}, ... ({_inOrder.Count} in all)";

        private const int Listed = 16;
    }

    private static Devices.PasidStopMode StopMode(Node n) =>
        n.Choice("stop", Devices.PasidStopMode.WaitForResponses, ("wait", Devices.PasidStopMode.WaitForResponses), ("marker", Devices.PasidStopMode.StopMarker));

    /// <summary>A mapping node with its path; keys outside its declared set are errors, found before anything is read.</summary>
    private sealed class Node
    {
        /// <summary>The most a distribution's or arrival trace's CSV file may hold.</summary>
        private const long CsvBytes = 16L << 20;

        private readonly string _file;
        private readonly YamlTree.Mapping _map;
        private readonly string _path;

        private Node(string file, YamlTree.Mapping map, string path, string[] keys)
        {
            _file = file;
            _map = map;
            _path = path;
            foreach (var (key, _) in map.Entries)
            {
                if (!keys.Contains(key.Value))
                    throw new ScenarioException(file, key.Start.Line, key.Start.Column, Path(key.Value), $"unknown key; expected one of: {string.Join(", ", keys)}");
            }
        }

        public static Node Map(string file, YamlTree.Element node, string path, params string[] keys) =>
            node is YamlTree.Mapping map
                ? new Node(file, map, path, keys)
                : throw new ScenarioException(file, node.Start.Line, node.Start.Column, path == "" ? "(root)" : path, "expected a mapping of keys to values");

        public bool Has(string key) => Get(key) is not null;

        public Node? OptionalMap(string key, params string[] keys) => Get(key) is { } node ? Map(_file, node, Path(key), keys) : null;

        /// <summary>The list's items as mappings of <paramref name="itemKeys"/>; their number is spent from <paramref name="budget"/>, if any, first.</summary>
        public IEnumerable<Node> RequiredList(string key, Budget? budget, params string[] itemKeys)
        {
            var node = Get(key) ?? throw Error(_map, key, "is required");
            if (node is not YamlTree.Sequence seq) throw Error(node, key, "expected a list");
            budget?.Spend(this, key, seq.Items.Count);
            int i = 0;
            foreach (var item in seq.Items) yield return Map(_file, item, $"{Path(key)}[{i++}]", itemKeys);
        }

        public IEnumerable<Node> OptionalList(string key, Budget? budget, params string[] itemKeys) =>
            Has(key) ? RequiredList(key, budget, itemKeys) : [];

        public IReadOnlyList<long> IntegerList(string key, long min, long max)
        {
            var node = Get(key);
            if (node is null) return [];
            if (node is not YamlTree.Sequence seq) throw Error(node, key, "expected a list of integers");
            var values = new List<long>();
            foreach (var item in seq.Items)
            {
                var text = item is YamlTree.Scalar { Value: var v } ? v : "";
                if (!TryInteger(text, out long value) || value < min || value > max)
                    throw new ScenarioException(_file, item.Start.Line, item.Start.Column, $"{Path(key)}[{values.Count}]", $"expected an integer in [{min}, {max}], got '{text}'");
                values.Add(value);
            }
            return values;
        }

        public IEnumerable<(string Value, string Path, YamlTree.Element Node)> StringList(string key)
        {
            var node = Get(key);
            if (node is null) yield break;
            if (node is not YamlTree.Sequence seq) throw Error(node, key, "expected a list");
            int i = 0;
            foreach (var item in seq.Items)
            {
                var path = $"{Path(key)}[{i++}]";
                if (item is not YamlTree.Scalar { Value: var v }) throw new ScenarioException(_file, item.Start.Line, item.Start.Column, path, "expected a name");
                yield return (v, path, item);
            }
        }

        /// <summary>A list of process names, each known and none twice.</summary>
        public List<string> ProcessList(string key, Names processes)
        {
            var names = new List<string>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (value, path, at) in StringList(key))
            {
                if (!processes.Contains(value)) FailAt(at, path, $"no process named '{value}'; processes: {processes}");
                if (!seen.Add(value)) FailAt(at, path, $"process '{value}' is bound twice");
                names.Add(value);
            }
            return names;
        }

        public string String(string key, string? fallback)
        {
            var node = Get(key);
            if (node is null) return fallback ?? throw Error(_map, key, "is required");
            return node is YamlTree.Scalar { Value: var v } ? v : throw Error(node, key, "expected a string");
        }

        /// <summary>A new name: not empty, printable (it heads rows and lines of the outputs), and in none of <paramref name="taken"/>.</summary>
        public string Name(string key, params Names[] taken)
        {
            var name = String(key, null);
            if (name.Length == 0) Fail(key, "must not be empty");
            if (name.Any(char.IsControl)) Fail(key, $"'{name}' holds a control character (a newline, a tab, ...)");
            if (taken.Any(t => t.Contains(name))) Fail(key, $"'{name}' is used twice");
            return name;
        }

        public string Reference(string key, Names names)
        {
            var value = String(key, null);
            if (!names.Contains(value)) Fail(key, $"'{value}' is not one of: {names}");
            return value;
        }

        public string Reference(string key, IEnumerable<string> names, string? fallback = null)
        {
            var value = String(key, fallback);
            var known = names.ToList();
            if (!known.Contains(value)) Fail(key, $"'{value}' is not one of: {string.Join(", ", known)}");
            return value;
        }

        public T Choice<T>(string key, T fallback, params (string Name, T Value)[] choices)
        {
            if (Get(key) is null) return fallback;
            var value = String(key, null);
            foreach (var (name, v) in choices) if (name == value) return v;
            Fail(key, $"'{value}' is not one of: {string.Join(", ", choices.Select(c => c.Name))}");
            return fallback;
        }

        public long Integer(string key, long? fallback, long min, long max)
        {
            var node = Get(key);
            if (node is null) return fallback ?? throw Error(_map, key, "is required");
            var text = Scalar(node, key);
            if (!TryInteger(text, out long value)) throw Error(node, key, $"expected an integer, got '{text}'");
            if (value < min || value > max) throw Error(node, key, $"{value} is outside [{min}, {max}]");
            return value;
        }

        public ulong Address(string key)
        {
            var node = Get(key) ?? throw Error(_map, key, "is required");
            var text = Scalar(node, key);
            if (!TryInteger(text, out long value) || value < 0) throw Error(node, key, $"expected an address such as 0x10000000, got '{text}'");
            if ((value & 0xFFF) != 0) throw Error(node, key, $"0x{value:x} is not 4 KiB aligned");
            return (ulong)value;
        }

        public double Fraction(string key, double fallback)
        {
            var node = Get(key);
            if (node is null) return fallback;
            var text = Scalar(node, key);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= 0 && value <= 1)) // NaN too
                throw Error(node, key, $"expected a number between 0 and 1, got '{text}'");
            return value;
        }

        public bool Boolean(string key, bool fallback)
        {
            var node = Get(key);
            if (node is null) return fallback;
            return Scalar(node, key) switch
            {
                "true" => true,
                "false" => false,
                var t => throw Error(node, key, $"expected true or false, got '{t}'"),
            };
        }

        /// <summary>A duration: an integer of nanoseconds, or a number with ns, us, ms or s.</summary>
        public long Duration(string key, long fallback)
        {
            var node = Get(key);
            if (node is null) return fallback;
            var text = Scalar(node, key).Trim();
            if (!TryDuration(text, out long value)) throw Error(node, key, $"expected a duration such as 250ns, 2us or 1ms, got '{text}'");
            return value;
        }

        /// <summary>
        /// A duration or a count drawn from a distribution: the one-number form (<paramref name="oneNumber"/> of it), or a
        /// mapping <c>{ dist: lognormal, mean: 3us, cv: 0.5 }</c> (docs/scenarios.md, "Distributions"); null when absent.
        /// </summary>
        public Distribution? Distribution(string key, bool duration, Func<long, Distribution> oneNumber)
        {
            var node = Get(key);
            if (node is null) return null;
            if (node is YamlTree.Scalar) return oneNumber(duration ? Duration(key, 0) : Integer(key, null, 0, 1L << 40));
            var d = Map(_file, node, Path(key), "dist", "mean", "cv", "min", "max", "k", "file");
            var kind = d.Choice("dist", DistributionKind.Constant,
                ("constant", DistributionKind.Constant), ("exponential", DistributionKind.Exponential), ("uniform", DistributionKind.Uniform),
                ("normal", DistributionKind.Normal), ("lognormal", DistributionKind.Lognormal), ("erlang", DistributionKind.Erlang),
                ("empirical", DistributionKind.Empirical));
            if (!d.Has("dist")) d.Fail("dist", "is required: constant, exponential, uniform, normal, lognormal, erlang or empirical");
            string[] keys = kind switch
            {
                DistributionKind.Uniform => ["min", "max"],
                DistributionKind.Normal or DistributionKind.Lognormal => ["mean", "cv"],
                DistributionKind.Erlang => ["mean", "k"],
                DistributionKind.Empirical => ["file"],
                _ => ["mean"],
            };
            foreach (var extra in new[] { "mean", "cv", "min", "max", "k", "file" }.Except(keys).Where(d.Has))
                d.Fail(extra, $"does not apply to a {d.String("dist", null)} distribution; its keys: {string.Join(", ", keys)}");
            double Amount(string k) => duration ? d.Duration(k, -1) : d.Integer(k, -1, 0, 1L << 40);
            foreach (var k in keys.Where(k => k is not ("cv" or "k" or "file")))
                if (!d.Has(k)) d.Fail(k, "is required");
            switch (kind)
            {
                case DistributionKind.Uniform:
                {
                    double min = Amount("min"), max = Amount("max");
                    if (max < min) d.Fail("max", $"is below min");
                    return new() { Kind = kind, Min = min, Max = max, Mean = (min + max) / 2 };
                }
                case DistributionKind.Normal or DistributionKind.Lognormal:
                {
                    double mean = Amount("mean");
                    if (!d.Has("cv")) d.Fail("cv", "is required (the standard deviation over the mean)");
                    double cv = d.Number("cv", 0, 100);
                    if (kind == DistributionKind.Lognormal && mean <= 0) d.Fail("mean", "must be above 0 for a lognormal");
                    return new() { Kind = kind, Mean = mean, Cv = cv };
                }
                case DistributionKind.Erlang:
                {
                    double mean = Amount("mean");
                    return new() { Kind = kind, Mean = mean, Shape = (int)d.Integer("k", null, 1, 1000) };
                }
                case DistributionKind.Empirical:
                {
                    var (file, values) = d.Csv("file", duration);
                    return new() { Kind = kind, File = file, Values = values, Mean = values.Average() };
                }
                default:
                    return new() { Kind = kind, Mean = Amount("mean") };
            }
        }

        /// <summary>
        /// The first column of a CSV file beside the scenario: one duration (or count) a line, a header line and
        /// lines starting with # skipped; its errors name the CSV line.
        /// </summary>
        public (string File, List<long> Values) Csv(string key, bool duration)
        {
            var name = String(key, null);
            var path = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(_file) ?? "", name);
            string[] lines;
            try
            {
                if (new FileInfo(path).Length > CsvBytes) Fail(key, $"'{name}' is over {CsvBytes} bytes");
                lines = File.ReadAllLines(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Fail(key, $"cannot read '{name}' (from '{path}'): {e.Message}");
                throw;
            }
            var values = new List<long>();
            bool headerAllowed = true;
            for (int i = 0; i < lines.Length; i++)
            {
                var cell = lines[i].Split(',')[0].Trim();
                if (cell.Length == 0 || cell.StartsWith('#')) continue;
                bool ok = duration ? TryDuration(cell, out long v) : TryInteger(cell, out v) && v >= 0;
                if (ok) values.Add(v);
                else if (!headerAllowed) Fail(key, $"{name}:{i + 1}: expected {(duration ? "a duration such as 250ns or 2us" : "a whole number")}, got '{cell}'");
                headerAllowed = false;
            }
            if (values.Count == 0) Fail(key, $"'{name}' holds no values");
            return (name, values);
        }

        public double Number(string key, double min, double max)
        {
            var node = Get(key) ?? throw Error(_map, key, "is required");
            var text = Scalar(node, key);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= min && value <= max))
                throw Error(node, key, $"expected a number in [{min}, {max}], got '{text}'");
            return value;
        }

        private static bool TryDuration(string text, out long nanoseconds)
        {
            (string number, double scale) = text switch
            {
                _ when text.EndsWith("ns", StringComparison.Ordinal) => (text[..^2], 1.0),
                _ when text.EndsWith("us", StringComparison.Ordinal) => (text[..^2], 1e3),
                _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 1e6),
                _ when text.EndsWith('s') => (text[..^1], 1e9),
                _ => (text, 1.0),
            };
            nanoseconds = 0;
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !(value >= 0 && value * scale <= 1e15)) // NaN and infinities too
                return false;
            nanoseconds = (long)Math.Round(value * scale);
            return true;
        }

        public VmaPermissions Permissions(string key)
        {
            var node = Get(key) ?? throw Error(_map, key, "is required");
            var text = Scalar(node, key);
            var perms = VmaPermissions.None;
            foreach (char c in text)
            {
                perms |= c switch
                {
                    'r' => VmaPermissions.Read,
                    'w' => VmaPermissions.Write,
                    'x' => VmaPermissions.Exec,
                    _ => throw Error(node, key, $"'{text}' is not a permission string such as r, rw or rx"),
                };
            }
            if (perms == VmaPermissions.None) throw Error(node, key, "must grant at least one of r, w, x");
            return perms;
        }

        public Pcie.RequesterId RequesterId(string key)
        {
            var node = Get(key) ?? throw Error(_map, key, "is required");
            var text = Scalar(node, key);
            var parts = text.Split(':', '.');
            if (parts.Length == 3
                && int.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int bus) && bus <= 0xFF
                && int.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int dev) && dev <= 0x1F
                && int.TryParse(parts[2], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int fn) && fn <= 7)
                return Pcie.RequesterId.From(bus, dev, fn);
            throw Error(node, key, $"expected a requester id bus:device.function such as 00:01.0, got '{text}'");
        }

        public void Fail(string key, string problem) => throw Error(Get(key) ?? _map, key, problem);

        public void FailAt(YamlTree.Element at, string path, string problem) => throw new ScenarioException(_file, at.Start.Line, at.Start.Column, path, problem);

        /// <summary>A <see cref="ScenarioLimits"/> entry broken at <paramref name="key"/> (or at this mapping when the key is absent).</summary>
        public void Breach(string key, string what, string limit, long max)
        {
            var at = Get(key) ?? _map;
            throw ScenarioException.Breach(_file, at.Start.Line, at.Start.Column, Path(key), what, limit, max);
        }

        private YamlTree.Element? Get(string key) => _map.Get(key);

        private string Scalar(YamlTree.Element node, string key) =>
            node is YamlTree.Scalar { Value: var v } ? v : throw Error(node, key, "expected a single value");

        private ScenarioException Error(YamlTree.Element at, string key, string problem) =>
            new(_file, at.Start.Line, at.Start.Column, Path(key), problem);

        private string Path(string key) => _path == "" ? key : $"{_path}.{key}";

        private static bool TryInteger(string text, out long value) =>
            text.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                ? long.TryParse(text.AsSpan(2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value)
                : long.TryParse(text.Replace("_", "", StringComparison.Ordinal), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>A count the whole scenario may reach at most (a <see cref="ScenarioLimits"/> entry), spent as the file is read.</summary>
    private sealed class Budget(string limit, long max, string what)
    {
        private long _spent;

        /// <summary>Spends <paramref name="amount"/> (at most 2^24 a time, so the sum cannot overflow) at <paramref name="key"/> of <paramref name="node"/>.</summary>
        public void Spend(Node node, string key, long amount)
        {
            _spent += amount;
            if (_spent > max) node.Breach(key, $"{_spent} {what} so far", limit, max);
        }
    }

    /// <summary>
    /// The YAML document as the reader walks it (scalars, lists, mappings, each with its place), built from
    /// YamlDotNet's parser events in one pass under <see cref="ScenarioLimits"/>. Not YamlDotNet's representation
    /// model: it recursed once per nesting level (a stack overflow at ~40 000 '['), hashed a mapping key whole
    /// (an alias bomb as a key ran for ever) and placed an undefined alias at 1:1 (issue 14).
    /// </summary>
    private static class YamlTree
    {
        public abstract class Element(Mark start)
        {
            public Mark Start { get; } = start;
        }

        public sealed class Scalar(Mark start, string value) : Element(start)
        {
            public string Value { get; } = value;
        }

        public sealed class Sequence(Mark start) : Element(start)
        {
            public List<Element> Items { get; } = [];
        }

        public sealed class Mapping(Mark start) : Element(start)
        {
            private readonly Dictionary<string, Element> _byKey = new(StringComparer.Ordinal);

            /// <summary>In file order, for the first unknown key.</summary>
            public List<(Scalar Key, Element Value)> Entries { get; } = [];

            public Element? Get(string key) => _byKey.GetValueOrDefault(key);

            /// <summary>False if the mapping has the key already.</summary>
            public bool Add(Scalar key, Element value)
            {
                if (!_byKey.TryAdd(key.Value, value)) return false;
                Entries.Add((key, value));
                return true;
            }
        }

        /// <summary>A list or mapping being read: where its node count started, its anchor, a mapping's key awaiting its value.</summary>
        private sealed class Open(Element node, long nodesBefore, string? anchor)
        {
            public Element Node { get; } = node;
            public long NodesBefore { get; } = nodesBefore;
            public string? Anchor { get; } = anchor;
            public Scalar? Key { get; set; }
        }

        /// <summary>
        /// The one document in <paramref name="text"/>. An alias stands for its anchor's node (shared, not copied) and
        /// counts as that node's size towards <see cref="ScenarioLimits.Nodes"/>, so the count is the document's with
        /// every alias expanded, kept in one running sum: a node's size is the sum's growth between its start and end.
        /// </summary>
        public static Element Read(string text, string file, ScenarioLimits limits)
        {
            var scanner = new Scanner(new StringReader(text), skipComments: true);
            var parser = new Parser(scanner);
            var anchors = new Dictionary<string, (Element Node, long Size)>(StringComparer.Ordinal);
            var open = new Stack<Open>();
            Element? root = null;
            long nodes = 0;
            int documents = 0;

            void Count(long size, Mark at)
            {
                nodes += size; // each size was within the limit, so the sum stays far from overflow
                if (nodes > limits.Nodes)
                    throw ScenarioException.Breach(file, at.Line, at.Column, "(nodes)", "the document, aliases expanded, has more nodes", "nodes", limits.Nodes);
            }

            void Place(Element node, bool alias, Mark at)
            {
                if (open.Count == 0)
                {
                    root = node;
                    return;
                }
                var parent = open.Peek();
                if (parent.Node is Sequence list)
                {
                    list.Items.Add(node);
                }
                else if (parent.Key is null)
                {
                    // Every key of a scenario is a name; a list, a mapping or an alias as a key is refused before it is hashed.
                    if (alias || node is not Scalar key)
                        throw new ScenarioException(file, at.Line, at.Column, "(key)", alias ? "a key is a name written out, not an alias" : "a key is a name, not a list or a mapping");
                    parent.Key = key;
                }
                else
                {
                    // An empty key's own place is where the parser stopped before it: its value's is the one to show.
                    if (parent.Key.Value.Length == 0)
                        throw new ScenarioException(file, at.Line, at.Column, "(key)", "a value without a key (a name before the ':')");
                    if (!((Mapping)parent.Node).Add(parent.Key, node))
                        throw new ScenarioException(file, parent.Key.Start.Line, parent.Key.Start.Column, parent.Key.Value, "appears twice in the same mapping");
                    parent.Key = null;
                }
            }

            while (Next(parser, scanner, file) is { } e)
            {
                switch (e)
                {
                    case Events.DocumentStart when ++documents > 1:
                        throw new ScenarioException(file, e.Start.Line, e.Start.Column, "(document)", "a second YAML document; a scenario is one document");
                    case Events.AnchorAlias alias:
                    {
                        string name = alias.Value.Value;
                        if (!anchors.TryGetValue(name, out var target))
                        {
                            throw new ScenarioException(file, e.Start.Line, e.Start.Column, "(alias)", open.Any(o => o.Anchor == name)
                                ? $"*{name} refers to the node that contains it"
                                : $"*{name} refers to no anchor &{name} before it");
                        }
                        Count(target.Size, e.Start);
                        Place(target.Node, alias: true, e.Start);
                        break;
                    }
                    case Events.Scalar scalar:
                    {
                        Count(1, e.Start);
                        var node = new Scalar(e.Start, scalar.Value);
                        if (!scalar.Anchor.IsEmpty) anchors[scalar.Anchor.Value] = (node, 1);
                        Place(node, alias: false, e.Start);
                        break;
                    }
                    case Events.NodeEvent collection and (Events.SequenceStart or Events.MappingStart):
                    {
                        if (open.Count == limits.Depth)
                            throw ScenarioException.Breach(file, e.Start.Line, e.Start.Column, "(nesting)", "lists and mappings nested more deeply", "depth", limits.Depth);
                        Count(1, e.Start);
                        Element node = collection is Events.SequenceStart ? new Sequence(e.Start) : new Mapping(e.Start);
                        open.Push(new Open(node, nodes - 1, collection.Anchor.IsEmpty ? null : collection.Anchor.Value));
                        break;
                    }
                    case Events.SequenceEnd or Events.MappingEnd:
                    {
                        var done = open.Pop();
                        if (done.Anchor is { } anchor) anchors[anchor] = (done.Node, nodes - done.NodesBefore);
                        Place(done.Node, alias: false, done.Node.Start);
                        break;
                    }
                }
            }
            return root ?? throw new ScenarioException(file, 1, 1, "(document)", "the file holds no YAML document");
        }

        /// <summary>The next parser event, or null at the end; whatever the parser throws on the text is a located syntax error.</summary>
        private static Events.ParsingEvent? Next(Parser parser, Scanner scanner, string file)
        {
            try
            {
                return parser.MoveNext() ? parser.Current : null;
            }
            catch (YamlException e)
            {
                throw new ScenarioException(file, e.Start.Line, e.Start.Column, "(syntax)", SyntaxProblem(e));
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // YamlDotNet 16.3 throws InvalidOperationException on some truncated flows ("name: [" then "x"):
                // still the file's fault, placed where the scanner stopped.
                var at = scanner.CurrentPosition;
                throw new ScenarioException(file, at.Line, at.Column, "(syntax)", $"the YAML cannot be read on from here (YamlDotNet: {e.Message})");
            }
        }

        /// <summary>YamlDotNet's message without the "(Line: .., Col: .., Idx: ..) - (...): " it starts with; the place is ours to give.</summary>
        private static string SyntaxProblem(YamlException e)
        {
            var message = e.InnerException?.Message ?? e.Message;
            int cut = message.IndexOf("): ", StringComparison.Ordinal);
            return message.StartsWith("(Line: ", StringComparison.Ordinal) && cut >= 0 ? message[(cut + 3)..] : message;
        }
    }
}
