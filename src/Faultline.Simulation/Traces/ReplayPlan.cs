using System.Globalization;
using System.Text;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Sva;

namespace Faultline.Simulation.Traces;

/// <summary>A page request of a capture, to be sent again at its time.</summary>
public readonly record struct ReplayRequest(long TimeNs, string Device, uint Pasid, ushort Index, bool Last, bool Read, bool Write, bool Execute, bool Privileged, ulong Address);

/// <summary>A response of a capture, or of the model: to a device, at a PRG index (stall or PPR tag), with a code.</summary>
public readonly record struct ReplayResponse(long TimeNs, string Device, ushort Index, ResponseCode Code);

/// <summary>
/// What <c>faultline replay</c> derives from a capture: a topology as a <see cref="Scenario"/> (one IOMMU per IOMMU
/// the capture names, one function per device, one process per PASID bound to every device that used it, whose VMAs
/// are the pages the capture answered Success, with the rights asked; a PASID whose non-last requests were answered
/// is left unbound, as R10's no-handler path is what answers those), the page requests in time order, and the
/// responses the capture shows. The scenario has no workload: the requests are the workload, sent as captured (device,
/// PASID, address, rights, PRG index, last flag) at the time the driver read them. The requests are held in memory.
/// </summary>
public sealed class ReplayPlan
{
    private ReplayPlan(Scenario scenario, List<ReplayRequest> requests, List<ReplayResponse> responses, CheckReport read, IReadOnlyList<string> stallMasters)
    {
        StallMasters = stallMasters;
        Scenario = scenario;
        Requests = requests;
        Responses = responses;
        Capture = read;
    }

    public Scenario Scenario { get; }
    public IReadOnlyList<ReplayRequest> Requests { get; }
    public IReadOnlyList<ReplayResponse> Responses { get; }
    /// <summary>Platform masters whose stalls the capture shows: not replayed (their faults are SMMU event records, not page requests).</summary>
    public IReadOnlyList<string> StallMasters { get; }
    /// <summary>What reading the capture found (lines, malformed ones), as <c>check</c> reports it.</summary>
    public CheckReport Capture { get; }

    /// <summary>The same requests on another topology: <paramref name="scenario"/>, an edited <see cref="ToYaml"/>.</summary>
    public ReplayPlan With(Scenario scenario) => new(scenario, [.. Requests], [.. Responses], Capture, StallMasters);

    /// <summary>Derives the plan from the capture <paramref name="input"/> holds.</summary>
    public static ReplayPlan FromCapture(TextReader input)
    {
        var reader = new TraceReader(input);
        var checker = new TraceChecker();
        var builder = new Builder();
        foreach (var line in reader.Read())
        {
            if (CaptureDecoder.Decode(line, out bool malformed) is not { } e)
            {
                if (malformed) reader.MarkMalformed(line.Number);
                continue;
            }
            checker.Consume(e);
            builder.Take(e);
        }
        return builder.Build(checker.Finish(reader));
    }

    /// <summary>The scenario as YAML that <see cref="ScenarioReader"/> reads back (docs/scenarios.md), for the user to edit.</summary>
    public string ToYaml()
    {
        var inv = CultureInfo.InvariantCulture;
        var s = Scenario;
        var yaml = new StringBuilder();
        yaml.Append(inv, $"# Derived by faultline replay: the topology a capture shows. The page requests come from the capture itself:\n");
        yaml.Append(inv, $"# edit this file (queue sizes, policy, VMAs) and rerun with: faultline replay TRACE --scenario THIS_FILE\n");
        yaml.Append(inv, $"name: {Quote(s.Name)}\npolicy: {s.Policy}\niommus:\n");
        foreach (var i in s.Iommus) yaml.Append(inv, $"  - {{ name: {Quote(i.Name)}, type: {i.Type.ToString().ToLowerInvariant()} }}\n");
        yaml.Append("processes:\n");
        foreach (var p in s.Processes)
        {
            yaml.Append(inv, $"  - name: {Quote(p.Name)}\n    vmas:\n");
            foreach (var v in p.Vmas) yaml.Append(inv, $"      - {{ start: 0x{v.Start:x}, pages: {v.Pages}, perm: {Perm(v.Permissions)} }}\n");
        }
        yaml.Append("devices:\n");
        foreach (var d in s.Devices)
            yaml.Append(inv, $"  - {{ name: {Quote(d.Name)}, rid: \"{d.Requester}\", iommu: {Quote(d.Iommu)}, capacity: {d.Capacity}, bind: [{string.Join(", ", d.Bind.Select(Quote))}] }}\n");
        yaml.Append("workloads: []\n");
        return yaml.ToString();
    }

    private static string Quote(string name) => $"\"{name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"";

    private static string Perm(VmaPermissions p) =>
        ((p & VmaPermissions.Read) != 0 ? "r" : "") + ((p & VmaPermissions.Write) != 0 ? "w" : "") + ((p & VmaPermissions.Exec) != 0 ? "x" : "");

    /// <summary>The process standing for a PASID of the capture.</summary>
    internal static string ProcessOf(uint pasid) => string.Create(CultureInfo.InvariantCulture, $"pasid-{pasid}");

    private sealed class Builder
    {
        private readonly List<ReplayRequest> _requests = [];
        private readonly List<ReplayResponse> _responses = [];
        private readonly Dictionary<string, (string Iommu, ushort? Requester)> _devices = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _iommuKinds = new(StringComparer.Ordinal);
        private readonly Dictionary<(string Iommu, ushort Rid), string> _byRequester = new();
        private readonly Dictionary<(string Device, ushort Index), List<ReplayRequest>> _open = new();
        private readonly SortedDictionary<uint, SortedDictionary<ulong, VmaPermissions>> _pages = new(); // by PASID, then page
        private readonly SortedDictionary<uint, SortedSet<string>> _users = new();
        private readonly SortedSet<uint> _noHandler = new();
        private readonly SortedSet<string> _stallMasters = new(StringComparer.Ordinal);
        private bool _amdSeen;

        public void Take(in CaptureEvent e)
        {
            switch (e.Kind)
            {
                case CaptureEventKind.PageRequest when e.Stall:
                    _stallMasters.Add(e.Device);
                    break;
                case CaptureEventKind.PageRequest:
                    string device = e.Device;
                    ushort? requester = e.Requester ?? (e.DeniedByDriver ? SidOf(e.Device) : null);
                    if (!_devices.ContainsKey(device)) _devices.Add(device, (e.Iommu, requester));
                    if (e.Requester is { } rid) _byRequester[(e.Iommu, rid)] = device;
                    if (e.IommuKind is { Length: > 0 } kind) _iommuKinds[e.Iommu] = kind;
                    var request = new ReplayRequest(e.TimeNs, device, e.HasPasid ? e.Pasid : 0, e.Index, e.Last, e.Read, e.Write, e.Execute, e.Privileged, e.Address);
                    _requests.Add(request);
                    if (!_open.TryGetValue((device, e.Index), out var group)) _open.Add((device, e.Index), group = []);
                    group.Add(request);
                    if (request.Pasid != 0)
                    {
                        if (!_users.TryGetValue(request.Pasid, out var users)) _users.Add(request.Pasid, users = new SortedSet<string>(StringComparer.Ordinal));
                        users.Add(device);
                    }
                    if (e.DeniedByDriver && e.Last) Respond(device, e.Index, ResponseCode.InvalidRequest, e.TimeNs);
                    break;
                case CaptureEventKind.Response:
                    string? target = e.Requester is { } r ? _byRequester.GetValueOrDefault((e.Iommu, r)) : e.Device;
                    if (target is not null && !_stallMasters.Contains(target)) Respond(target, e.Index, e.Code, e.TimeNs);
                    break;
                case CaptureEventKind.Overflow or CaptureEventKind.OverflowCleared when e.IommuKind == "amd":
                    _amdSeen = true;
                    break;
            }
        }

        /// <summary>A response closes the group open at its index; a Success maps its pages with the rights asked.</summary>
        private void Respond(string device, ushort index, ResponseCode code, long time)
        {
            _responses.Add(new ReplayResponse(time, device, index, code));
            if (!_open.Remove((device, index), out var group)) return;
            if (!group.Any(q => q.Last)) foreach (var q in group) if (q.Pasid != 0) _noHandler.Add(q.Pasid);
            if (code != ResponseCode.Success) return;
            foreach (var q in group)
            {
                if (q.Pasid == 0) continue;
                if (!_pages.TryGetValue(q.Pasid, out var pages)) _pages.Add(q.Pasid, pages = new SortedDictionary<ulong, VmaPermissions>());
                var perm = (q.Read ? VmaPermissions.Read : 0) | (q.Write ? VmaPermissions.Write : 0) | (q.Execute ? VmaPermissions.Exec : 0);
                pages[q.Address & PageRequest.PageMask] = pages.GetValueOrDefault(q.Address & PageRequest.PageMask) | perm;
            }
        }

        private static ushort? SidOf(string device) =>
            device.StartsWith("sid 0x", StringComparison.Ordinal) && ushort.TryParse(device.AsSpan(6), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ushort sid) ? sid : null;

        public ReplayPlan Build(CheckReport read)
        {
            var iommus = _devices.Values.Select(d => d.Iommu).Distinct().Order(StringComparer.Ordinal).Select(name => new IommuSpec
            {
                Name = name.Length > 0 ? name : "iommu0",
                Type = _iommuKinds.GetValueOrDefault(name) switch
                {
                    "vtd" => IommuType.Vtd,
                    "smmuv3" => IommuType.Smmuv3,
                    "amd" => IommuType.Amd,
                    _ => _amdSeen ? IommuType.Amd : IommuType.Smmuv3, // a capture without Faultline's kind= (a patched kernel's dev_fault)
                },
            }).ToList();
            var processes = _users.Keys.Select(pasid => new ProcessSpec
            {
                Name = ProcessOf(pasid),
                Vmas = Vmas(_pages.GetValueOrDefault(pasid)),
            }).ToList();
            var taken = new HashSet<(string, ushort)>();
            var devices = new List<DeviceSpec>();
            foreach (var (name, (iommu, requester)) in _devices.OrderBy(d => d.Key, StringComparer.Ordinal))
            {
                string unit = iommu.Length > 0 ? iommu : "iommu0";
                ushort rid = requester ?? 0x10;
                while (!taken.Add((unit, rid))) rid += 8; // a device the capture gives no id: the next free device number
                devices.Add(new DeviceSpec
                {
                    Name = name,
                    Requester = new RequesterId(rid),
                    Iommu = unit,
                    Capacity = 512,
                    Bind = [.. _users.Where(u => u.Value.Contains(name) && !_noHandler.Contains(u.Key)).Select(u => ProcessOf(u.Key))],
                });
            }
            var scenario = new Scenario { Name = "replay", Iommus = iommus, Processes = processes, Devices = devices, Workloads = [] };
            return new ReplayPlan(scenario, _requests, _responses, read, [.. _stallMasters]);
        }

        /// <summary>Runs of pages with the same rights, one VMA each; a PASID answered no Success gets one page of no rights (the reader wants a VMA).</summary>
        private static List<VmaSpec> Vmas(SortedDictionary<ulong, VmaPermissions>? pages)
        {
            var vmas = new List<VmaSpec>();
            if (pages is null || pages.Count == 0) return [new VmaSpec { Start = 0x1000, Pages = 1, Permissions = VmaPermissions.None }];
            ulong start = 0, next = 0;
            var perm = VmaPermissions.None;
            int count = 0;
            foreach (var (page, p) in pages)
            {
                if (count > 0 && page == next && p == perm)
                {
                    count++;
                    next += 1UL << PageRequest.PageShift;
                    continue;
                }
                if (count > 0) vmas.Add(new VmaSpec { Start = start, Pages = count, Permissions = perm });
                start = page;
                next = page + (1UL << PageRequest.PageShift);
                perm = p;
                count = 1;
            }
            vmas.Add(new VmaSpec { Start = start, Pages = count, Permissions = perm });
            return vmas;
        }
    }
}
