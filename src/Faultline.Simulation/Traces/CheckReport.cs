namespace Faultline.Simulation.Traces;

/// <summary>One thing <c>faultline check</c> found: a protocol violation, or a warning worth a look.</summary>
/// <param name="Rule">The rule it concerns (H-PCI-10, R8, R33, ...), as docs/rules and the run's invariants name them.</param>
/// <param name="Violation">True for a broken rule (exit 1); false for a sign or an oddity.</param>
/// <param name="Device">The device, or the IOMMU, it is about.</param>
/// <param name="Line">The capture line that shows it (for a group never answered, its first request).</param>
public sealed record TraceFinding(string Rule, bool Violation, string Device, long Line, long TimeNs, string Message);

/// <summary>What a capture shows of one device: its groups as the host saw them and the responses it sent.</summary>
public sealed record DeviceCheck
{
    public required string Name { get; init; }
    /// <summary>The IOMMU, where the capture names it.</summary>
    public required string Iommu { get; init; }
    public long PageRequests { get; init; }
    public long Groups { get; init; }
    public long ResponsesSuccess { get; init; }
    public long ResponsesInvalid { get; init; }
    public long ResponsesFailure { get; init; }
    /// <summary>Groups still outstanding at the end of the capture: never answered.</summary>
    public long Unanswered { get; init; }
    /// <summary>Responses for no outstanding group (the function sets UPRGI, H-PCI-10); <see cref="Duplicates"/> among them.</summary>
    public long UnexpectedResponses { get; init; }
    /// <summary>Responses for a group already answered.</summary>
    public long Duplicates { get; init; }
    /// <summary>Responses to a group whose last request had not been seen (R10, POL-1).</summary>
    public long NonLastResponses { get; init; }
    /// <summary>Responses to requests the capture does not show (a driver answering a bad request itself: R31, R35).</summary>
    public long UnreportedAnswered { get; init; }
    /// <summary>From the group's last request read to its response sent.</summary>
    public required LatencyReport Latency { get; init; }
}

/// <summary>What a capture shows of one IOMMU.</summary>
public sealed record IommuCheck
{
    public required string Name { get; init; }
    /// <summary>vtd, smmuv3, amd, or "" where nothing in the capture says.</summary>
    public required string Kind { get; init; }
    public long PageRequests { get; init; }
    public long Responses { get; init; }
    /// <summary>prq_report sequence numbers skipped: lost trace events, or reports the capture missed.</summary>
    public long SequenceGaps { get; init; }
    public long Overflows { get; init; }
    public long OverflowsCleared { get; init; }
    /// <summary>R33 drains seen (fence wait, IOTLB, device-TLB, drain wait), and those out of order.</summary>
    public long Drains { get; init; }
    public long DrainsOutOfOrder { get; init; }
}

/// <summary>The result of <c>faultline check</c>: what was read, per device and IOMMU, and the findings.</summary>
public sealed record CheckReport
{
    public long Lines { get; init; }
    public long Events { get; init; }
    public long LogLines { get; init; }
    public long Malformed { get; init; }
    public required IReadOnlyList<long> MalformedAt { get; init; }
    public long Reordered { get; init; }
    public long LateLines { get; init; }
    /// <summary>Why the input could not be read to its end, or null.</summary>
    public string? ReadError { get; init; }
    public required IReadOnlyList<DeviceCheck> Devices { get; init; }
    public required IReadOnlyList<IommuCheck> Iommus { get; init; }
    /// <summary>Violations by rule (all of them, whether or not listed in <see cref="Findings"/>).</summary>
    public required IReadOnlyDictionary<string, long> ViolationCounts { get; init; }
    public long Warnings { get; init; }
    /// <summary>The first findings, in capture order of their discovery (at most <see cref="TraceChecker.FindingsKept"/>).</summary>
    public required IReadOnlyList<TraceFinding> Findings { get; init; }

    /// <summary>Whether a protocol violation was found.</summary>
    public bool HasViolations => ViolationCounts.Count > 0;
}
