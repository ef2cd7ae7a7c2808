using Faultline.Pcie;

namespace Faultline.Simulation.Traces;

/// <summary>
/// Rebuilds, from a capture's events, the page request groups of each function and the responses the host sent,
/// the way the function itself keeps them (one outstanding group per PRG index, whatever the PASID: H-PCI-10), and
/// finds what breaks the protocol:
/// <list type="bullet">
/// <item>R8: a group with requests in the capture and no response by its end;</item>
/// <item>H-PCI-10: a response for a group already answered (the function sets UPRGI);</item>
/// <item>R33: a VT-d drain whose descriptors are not fence wait, IOTLB, device-TLB, drain wait;</item>
/// </list>
/// and warns of what deserves a look: responses to non-last requests (R10, POL-1: each later request of the group
/// then draws an unexpected response), Response Failure (H-PCI-9), queue overflows, gaps in prq_report sequence
/// numbers, responses to requests the capture does not show (R31), groups left open by an overflow whose hardware
/// answers lost requests itself (H-VTD-5, H-SMMU-3).
/// <para>
/// Linux traces a VT-d request after reporting it (prq.c), so a response the framework sends at once (R10's
/// no-handler path) comes one line before its request: an unmatched VT-d response waits for the next report of its
/// IOMMU at the same time stamp before it is judged.
/// </para>
/// </summary>
public sealed class TraceChecker
{
    /// <summary>How many findings are kept in detail; all are counted.</summary>
    public const int FindingsKept = 1000;

    private readonly Dictionary<(string Iommu, string Device), DeviceState> _devices = new();
    private readonly Dictionary<(string Iommu, ushort Requester), DeviceState> _byRequester = new();
    private readonly Dictionary<string, IommuState> _iommus = new(StringComparer.Ordinal);
    private readonly List<TraceFinding> _findings = [];
    private readonly SortedDictionary<string, long> _violations = new(StringComparer.Ordinal);
    private long _warnings;

    /// <summary>Checks the capture <paramref name="input"/> holds, line by line.</summary>
    public static CheckReport Check(TextReader input)
    {
        var reader = new TraceReader(input);
        var checker = new TraceChecker();
        foreach (var line in reader.Read())
        {
            if (CaptureDecoder.Decode(line, out bool malformed) is { } e) checker.Consume(e);
            else if (malformed) reader.MarkMalformed(line.Number);
        }
        return checker.Finish(reader);
    }

    /// <summary>Takes the next event, in time order.</summary>
    public void Consume(in CaptureEvent e)
    {
        var iommu = Iommu(e.Iommu);
        if (e.IommuKind is { Length: > 0 } kind) iommu.Kind = kind;
        switch (e.Kind)
        {
            case CaptureEventKind.PageRequest:
                if (e.Sequence >= 0) Sequence(iommu, e);
                iommu.PageRequests++;
                var device = Device(e.Iommu, e.Device);
                if (e.Requester is { } rid) _byRequester[(e.Iommu, rid)] = device;
                var answer = iommu.Pending;
                iommu.Pending = null;
                if (answer is { } pending && (pending.TimeNs != e.TimeNs || pending.Requester != e.Requester || pending.Index != e.Index))
                {
                    Resolve(pending);
                    answer = null;
                }
                Request(device, e);
                if (answer is { } own) Respond(device, own); // the response the framework sent while reporting this request
                // R38: SMMUv3 answers a last PRI request Deny itself; its log line stands for both.
                if (e.DeniedByDriver && e.Last)
                {
                    Respond(device, e with { Kind = CaptureEventKind.Response, Code = ResponseCode.InvalidRequest });
                }
                break;
            case CaptureEventKind.Response:
                iommu.Responses++;
                if (e.Requester is not null)
                {
                    if (iommu.Pending is { } earlier)
                    {
                        iommu.Pending = null;
                        Resolve(earlier);
                    }
                    DrainStep(iommu, e);
                    var target = DeviceOf(e);
                    if (!target.Open.ContainsKey(e.Index)) iommu.Pending = e; // its request may be the next line (prq.c order)
                    else Respond(target, e);
                }
                else
                {
                    Respond(Device(e.Iommu, e.Device), e);
                }
                break;
            case CaptureEventKind.Invalidation:
                DrainStep(iommu, e);
                break;
            case CaptureEventKind.Overflow:
                iommu.Overflows++;
                Warn("overflow", e.Iommu, e, $"{Named(e.Iommu)} queue overflowed: page requests were lost");
                break;
            case CaptureEventKind.OverflowCleared:
                iommu.OverflowsCleared++;
                if (e.Iommu.Length > 0) iommu.Overflows = Math.Max(iommu.Overflows, iommu.OverflowsCleared);
                break;
            case CaptureEventKind.PriReset:
                string reset = e.Device;
                foreach (var d in _devices.Values.Where(d => d.Name == reset))
                {
                    int voided = d.Open.Count;
                    foreach (var index in d.Open.Keys) d.State[index] = IndexState.Idle;
                    d.Open.Clear();
                    if (voided > 0) Warn("H-PCI-12", d.Name, e, $"PRI reset: {voided} outstanding groups void (their credits come back)");
                }
                break;
        }
    }

    /// <summary>Ends the capture: what is still outstanding was never answered.</summary>
    public CheckReport Finish(TraceReader reader)
    {
        foreach (var iommu in _iommus.Values)
        {
            if (iommu.Pending is { } pending)
            {
                iommu.Pending = null;
                Resolve(pending);
            }
            if (iommu.DrainStep > 0) Violate("R33", iommu.Name, iommu.DrainLine, iommu.DrainTime, "drain cut short: the capture ends inside its descriptors");
        }
        foreach (var device in _devices.Values)
        {
            var open = device.Open.Values.OrderBy(g => g.FirstLine).ToList();
            if (open.Count == 0) continue;
            var iommu = Iommu(device.Iommu);
            // H-VTD-5, H-SMMU-3: after an overflow the hardware answers a lost last request itself; the capture cannot show it.
            bool autoAnswered = iommu.Overflows + iommu.OverflowsCleared > 0 && iommu.Kind is "vtd" or "smmuv3";
            var incomplete = open.Where(g => !g.Last).ToList();
            var unanswered = autoAnswered ? open.Where(g => g.Last).ToList() : open;
            if (autoAnswered && incomplete.Count > 0)
                Warn("H-VTD-5", device.Name, incomplete[0].FirstLine, incomplete[0].FirstTime,
                    $"{incomplete.Count} groups without their last request after {iommu.Name}'s overflow: the hardware answered them if it auto-responds");
            device.Unanswered = unanswered.Count;
            if (unanswered.Count == 0) continue;
            int withoutLast = unanswered.Count(g => !g.Last);
            Violate("R8", device.Name, unanswered[0].FirstLine, unanswered[0].FirstTime,
                $"{unanswered.Count} page request groups never answered (first: index 0x{unanswered[0].Index:x}, pasid {unanswered[0].Pasid})" +
                (withoutLast > 0 ? $"; {withoutLast} of them without a last request in the capture (lost, or never sent: R14)" : ""));
        }
        return new CheckReport
        {
            Lines = reader.Lines,
            Events = reader.Events,
            LogLines = reader.LogLines,
            Malformed = reader.Malformed,
            MalformedAt = reader.MalformedAt,
            Reordered = reader.Reordered,
            LateLines = reader.LateLines,
            ReadError = reader.ReadError,
            Devices = _devices.Values.OrderBy(d => d.Iommu, StringComparer.Ordinal).ThenBy(d => d.Name, StringComparer.Ordinal).Select(d => new DeviceCheck
            {
                Name = d.Name,
                Iommu = d.Iommu,
                PageRequests = d.Requests,
                Groups = d.Groups,
                ResponsesSuccess = d.Success,
                ResponsesInvalid = d.Invalid,
                ResponsesFailure = d.Failure,
                Unanswered = d.Unanswered,
                UnexpectedResponses = d.Unexpected,
                Duplicates = d.Duplicates,
                NonLastResponses = d.NonLast,
                UnreportedAnswered = d.Unreported,
                Latency = LatencyReport.From(d.Latency),
            }).ToList(),
            Iommus = _iommus.Values.Where(i => i.PageRequests + i.Responses + i.Overflows + i.OverflowsCleared + i.Drains > 0)
                .OrderBy(i => i.Name, StringComparer.Ordinal).Select(i => new IommuCheck
                {
                    Name = i.Name,
                    Kind = i.Kind,
                    PageRequests = i.PageRequests,
                    Responses = i.Responses,
                    SequenceGaps = i.SequenceGaps,
                    Overflows = i.Overflows,
                    OverflowsCleared = i.OverflowsCleared,
                    Drains = i.Drains,
                    DrainsOutOfOrder = i.DrainsOutOfOrder,
                }).ToList(),
            ViolationCounts = new SortedDictionary<string, long>(_violations, StringComparer.Ordinal),
            Warnings = _warnings,
            Findings = _findings,
        };
    }

    // ---- groups, as the function keeps them ----

    private static void Request(DeviceState device, in CaptureEvent e)
    {
        device.Requests++;
        var group = device.Open.GetValueOrDefault(e.Index);
        if (group is null && device.State.GetValueOrDefault(e.Index) == IndexState.AnsweredEarly)
        {
            // A later request of a group answered before its last request (R10): it belongs to that group, which
            // the function no longer has outstanding; its response will be unexpected.
            if (e.Last) device.State[e.Index] = IndexState.Answered;
            return;
        }
        if (group is null)
        {
            device.Open[e.Index] = group = new Group { Index = e.Index, Pasid = e.Pasid, FirstLine = e.Line, FirstTime = e.TimeNs };
            device.State[e.Index] = IndexState.Idle;
            device.Groups++;
        }
        group.LastTime = e.TimeNs;
        if (e.Last) group.Last = true;
    }

    private void Respond(DeviceState device, in CaptureEvent e)
    {
        if (device.ResponseFailure) return; // H-PCI-9: the function ignores responses once RF is set
        Count(device, e.Code);
        if (device.Open.Remove(e.Index, out var group))
        {
            device.Latency.Add(Math.Max(0, e.TimeNs - group.LastTime));
            if (group.Last)
            {
                device.State[e.Index] = IndexState.Answered;
            }
            else
            {
                device.State[e.Index] = IndexState.AnsweredEarly;
                device.NonLast++;
                Warn("R10", device.Name, e, $"response ({e.Code.Name()}) to group 0x{e.Index:x} before its last request: the function takes it for the group's (POL-1)");
            }
            if (e.Code == ResponseCode.ResponseFailure) Fail(device, e);
            return;
        }
        if (device.State.GetValueOrDefault(e.Index) != IndexState.Idle)
        {
            device.Unexpected++;
            device.Duplicates++;
            Violate("H-PCI-10", device.Name, e.Line, e.TimeNs,
                $"response ({e.Code.Name()}) for group 0x{e.Index:x}, already answered: the function has none outstanding there and sets {(e.Code == ResponseCode.ResponseFailure ? "RF" : "UPRGI")}");
            if (e.Code == ResponseCode.ResponseFailure) device.ResponseFailure = true;
            return;
        }
        device.Unreported++;
        Warn("R31", device.Name, e, $"response ({e.Code.Name()}) for index 0x{e.Index:x}, whose request the capture does not show (the driver answered a bad request itself)");
        if (e.Code == ResponseCode.ResponseFailure) Fail(device, e);
    }

    private void Fail(DeviceState device, in CaptureEvent e)
    {
        device.ResponseFailure = true;
        Warn("H-PCI-9", device.Name, e, "Response Failure: the function stops PRI and ignores later responses");
    }

    /// <summary>A VT-d response no request followed: judged on its own.</summary>
    private void Resolve(in CaptureEvent pending) => Respond(DeviceOf(pending), pending);

    private static void Count(DeviceState device, ResponseCode code)
    {
        switch (code)
        {
            case ResponseCode.Success: device.Success++; break;
            case ResponseCode.InvalidRequest: device.Invalid++; break;
            default: device.Failure++; break;
        }
    }

    // ---- VT-d: sequence numbers and R33 drains ----

    private void Sequence(IommuState iommu, in CaptureEvent e)
    {
        if (iommu.LastSequence >= 0 && e.Sequence != iommu.LastSequence + 1)
        {
            iommu.SequenceGaps++;
            Warn("seq", iommu.Name, e, $"prq_report seq# {e.Sequence} after {iommu.LastSequence}: reports missing from the capture (lost events?)");
        }
        iommu.LastSequence = e.Sequence;
    }

    /// <summary>R33 as Linux submits it (intel_drain_pasid_prq): fence wait, (PASID-)IOTLB, (PASID-)device-TLB, wait with status write and drain.</summary>
    private void DrainStep(IommuState iommu, in CaptureEvent e)
    {
        var (qw0, _, _, _) = e.Descriptor;
        int type = (int)(qw0 & 0xF);
        bool fenceWait = type == 5 && (qw0 & (1 << 6)) != 0 && (qw0 & (1 << 5)) == 0;
        if (iommu.DrainStep == 0)
        {
            if (!fenceWait) return;
            iommu.DrainStep = 1;
            iommu.DrainLine = e.Line;
            iommu.DrainTime = e.TimeNs;
            return;
        }
        bool expected = iommu.DrainStep switch
        {
            1 => type is 6 or 2,
            2 => type is 8 or 3,
            _ => type == 5 && (qw0 & (1 << 5)) != 0,
        };
        if (!expected)
        {
            iommu.DrainsOutOfOrder++;
            Violate("R33", iommu.Name, e.Line, e.TimeNs, $"drain begun at line {iommu.DrainLine} goes on with {FtraceWriter.QiTypeName(type) ?? $"type {type}"} where R33 puts {(iommu.DrainStep == 1 ? "the IOTLB invalidation" : iommu.DrainStep == 2 ? "the device-TLB invalidation" : "the drain wait")}");
            iommu.DrainStep = fenceWait ? 1 : 0;
            return;
        }
        if (iommu.DrainStep < 3)
        {
            iommu.DrainStep++;
            return;
        }
        iommu.DrainStep = 0;
        iommu.Drains++;
        if ((qw0 & (1 << 7)) == 0) Warn("H-VTD-14", iommu.Name, e, "drain wait without page-request drain (PD): requests in flight are not waited for");
    }

    // ---- findings ----

    private void Violate(string rule, string subject, long line, long time, string message)
    {
        _violations[rule] = _violations.GetValueOrDefault(rule) + 1;
        if (_findings.Count < FindingsKept) _findings.Add(new TraceFinding(rule, true, subject, line, time, message));
    }

    private void Warn(string rule, string subject, in CaptureEvent e, string message) => Warn(rule, subject, e.Line, e.TimeNs, message);

    private void Warn(string rule, string subject, long line, long time, string message)
    {
        _warnings++;
        if (_findings.Count < FindingsKept) _findings.Add(new TraceFinding(rule, false, subject, line, time, message));
    }

    private string Named(string iommu) => iommu.Length > 0 ? iommu : "the IOMMU's";

    private IommuState Iommu(string name)
    {
        if (!_iommus.TryGetValue(name, out var state)) _iommus.Add(name, state = new IommuState(name));
        return state;
    }

    private DeviceState Device(string iommu, string name)
    {
        if (!_devices.TryGetValue((iommu, name), out var state)) _devices.Add((iommu, name), state = new DeviceState(iommu, name));
        return state;
    }

    /// <summary>The device a VT-d response's requester id names: the one whose requests carried it, else one named by the id.</summary>
    private DeviceState DeviceOf(in CaptureEvent e)
    {
        if (e.Requester is not { } rid) return Device(e.Iommu, e.Device);
        if (_byRequester.TryGetValue((e.Iommu, rid), out var device)) return device;
        device = Device(e.Iommu, $"rid {new RequesterId(rid)}");
        _byRequester.Add((e.Iommu, rid), device);
        return device;
    }

    private enum IndexState : byte { Idle, Answered, AnsweredEarly }

    private sealed class Group
    {
        public ushort Index;
        public uint Pasid;
        public long FirstLine, FirstTime, LastTime;
        public bool Last;
    }

    private sealed class DeviceState(string iommu, string name)
    {
        public string Iommu { get; } = iommu;
        public string Name { get; } = name;
        // By PRG index (or stall tag): the group outstanding there, and what became of the last one.
        public Dictionary<ushort, Group> Open { get; } = new();
        public Dictionary<ushort, IndexState> State { get; } = new();
        public LatencyRecorder Latency { get; } = new();
        public long Requests, Groups, Success, Invalid, Failure, Unanswered, Unexpected, Duplicates, NonLast, Unreported;
        public bool ResponseFailure;
    }

    private sealed class IommuState(string name)
    {
        public string Name { get; } = name;
        public string Kind = "";
        public long PageRequests, Responses, SequenceGaps, Overflows, OverflowsCleared, Drains, DrainsOutOfOrder;
        public long LastSequence = -1;
        public CaptureEvent? Pending;
        public int DrainStep;
        public long DrainLine, DrainTime;
    }
}
