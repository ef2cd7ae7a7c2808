using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>Everything a run reports; the summary and the JSON are two renderings of it.</summary>
public sealed record RunReport
{
    public required string Scenario { get; init; }
    public required ulong Seed { get; init; }
    public required string Policy { get; init; }
    public required long EndTimeNs { get; init; }
    public required long Events { get; init; }
    public required bool Quiesced { get; init; }
    /// <summary>Stopped on request (Ctrl-C) before its end: the report covers what ran. In the JSON only when true.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool Partial { get; init; }
    public required IReadOnlyList<DeviceReport> Devices { get; init; }
    public required IReadOnlyList<IommuReport> Iommus { get; init; }
    public required IReadOnlyList<MasterReport> Masters { get; init; }
    public required FrameworkReport Framework { get; init; }
    public required LatencyReport FaultLatency { get; init; }
    public required LatencyReport AccessLatency { get; init; }
    public required IReadOnlyList<Violation> Invariants { get; init; }
    public required IReadOnlyDictionary<string, long> InvariantCounts { get; init; }
    public required IReadOnlyList<string> Notes { get; init; }
    public required IReadOnlyList<TeardownReport> Teardowns { get; init; }
    /// <summary>Per tenant (host processes and guests): what each got out of the shared IOMMU.</summary>
    public required IReadOnlyList<TenantReport> Tenants { get; init; }
    /// <summary>The faultline version that ran it (without the build's commit, so equal runs stay equal bytes).</summary>
    public required string Version { get; init; }
    /// <summary>Samples that started before it are left out of every latency, occupancy and throughput figure.</summary>
    public required long WarmupNs { get; init; }
    /// <summary>Fault latency of groups a handler answered (a host worker, a guest): what a device waits for a page.</summary>
    public required LatencyReport FaultLatencyHandler { get; init; }
    /// <summary>Fault latency of groups answered without a handler (IOMMU auto-responses, the host on a handler's behalf).</summary>
    public required LatencyReport FaultLatencyAuto { get; init; }
    /// <summary>Handler-answered fault latency by stage.</summary>
    public required StageLatencyReport FaultStages { get; init; }
    /// <summary>Time-averaged and peak occupancy of every queue.</summary>
    public required IReadOnlyList<QueueReport> Queues { get; init; }
    /// <summary>The scenario as the run read it: every default filled in, every distribution resolved.</summary>
    public required Scenario ResolvedScenario { get; init; }
}

/// <summary>
/// A handler-answered group's latency split where the simulator sees the group pass: link (its requests sent to the
/// last one at the IOMMU), host queue (from there to a handler starting: IOMMU queue, driver, fault queue, wake-up),
/// service (the handler's work) and response path (response command and link back). They add up to its latency. The
/// host queue's parts add up to it: IOMMU queue (to the driver thread reporting the group: interrupt, thread wake-up,
/// entries ahead), driver (the rest of that thread's batch, after which the workers are woken) and fault queue (waiting
/// for a worker, or in an iommufd fault queue for the guest's read).
/// </summary>
public sealed record StageLatencyReport(LatencyReport Link, LatencyReport HostQueue, LatencyReport Service, LatencyReport ResponsePath,
    LatencyReport IommuQueue, LatencyReport Driver, LatencyReport FaultQueue);

/// <summary>One queue's level over the run after the warm-up.</summary>
public sealed record QueueReport
{
    /// <summary>The queue: its IOMMU or function, then what it holds.</summary>
    public required string Name { get; init; }
    /// <summary>iommu_queue, fault_queue, workers_busy, stall_buffer or credits_in_use.</summary>
    public required string Kind { get; init; }
    /// <summary>The IOMMU or function it belongs to.</summary>
    public required string Owner { get; init; }
    /// <summary>Its size (ring entries, workers, STALL_MAX, credits allocated); 0: unbounded.</summary>
    public required long Capacity { get; init; }
    public required double MeanOccupancy { get; init; }
    public required long PeakOccupancy { get; init; }
}

public sealed record TenantReport
{
    public required string Name { get; init; }
    /// <summary>host (an SVA process) or guest (a fault queue's user).</summary>
    public required string Kind { get; init; }
    /// <summary>sva, or the guest's behaviour (honest, never-answers, ...).</summary>
    public required string Behaviour { get; init; }
    public required bool Hostile { get; init; }
    public required IReadOnlyList<string> Devices { get; init; }
    public required long AccessesCompleted { get; init; }
    public required long AccessesFailed { get; init; }
    public required long AccessesSkipped { get; init; }
    /// <summary>Completed accesses per millisecond between the tenant's first start and last end.</summary>
    public required double ThroughputPerMs { get; init; }
    /// <summary>Against the same scenario without hostile guests; null for hostile tenants or without any.</summary>
    public double? ThroughputRatio { get; init; }
    public required LatencyReport AccessLatency { get; init; }
    public required LatencyReport FaultLatency { get; init; }
    /// <summary>PRI credits still held on the tenant's devices at the end: requests no response will answer.</summary>
    public required long CreditsLeaked { get; init; }
    /// <summary>POL-9: credits a PRI reset gave back after the guest's domain change.</summary>
    public required long CreditsRecoveredByReset { get; init; }
    public required bool Uprgi { get; init; }
    public required bool ResponseFailure { get; init; }
    /// <summary>Responses the host did not apply, by reason (R47, POL-7).</summary>
    public required IReadOnlyDictionary<string, long> Rejected { get; init; }
    /// <summary>POL-5: groups the host answered INVALID at the deadline.</summary>
    public required long Expired { get; init; }
    /// <summary>POL-6: groups past the queue depth, answered SUCCESS.</summary>
    public required long LostEvents { get; init; }
    /// <summary>R43: groups answered INVALID when the device was detached.</summary>
    public required long AnsweredAtDetach { get; init; }
}

/// <param name="Cdf">The 5th, 10th, ... 100th percentiles (nearest rank): the 20-point summary (the report draws <see cref="Quantiles"/>).</param>
/// <param name="MeanNs">The mean (exact), rounded to 0.001 ns.</param>
/// <param name="StddevNs">The sample standard deviation, rounded to 0.001 ns.</param>
public sealed record LatencyReport(long Samples, long P50Ns, long P99Ns, long MaxNs, IReadOnlyList<long> Cdf, double MeanNs, double StddevNs, long P90Ns, long P999Ns)
{
    public const int CdfSteps = 20;

    /// <summary>
    /// The 1st, 2nd, ... 100th percentiles (nearest rank, from the histogram past <see cref="LatencyRecorder.ExactLimit"/>
    /// samples): the distribution the HTML report draws (issue 13: 20 points were too coarse). Null in a report read
    /// from JSON written before it.
    /// </summary>
    public IReadOnlyList<long>? Quantiles { get; init; }

    // What a report reads of a recorder, in one pass: p50, p90, p99, p99.9, the 20-point Cdf, then the 100 quantiles.
    private static readonly double[] Percents =
        [50, 90, 99, 99.9, .. Enumerable.Range(1, CdfSteps).Select(i => 100.0 * i / CdfSteps), .. Enumerable.Range(1, 100).Select(i => (double)i)];

    public static LatencyReport From(LatencyRecorder r)
    {
        var p = r.Percentiles(Percents);
        return new(r.Count, p[0], p[2], r.Max, p[4..(4 + CdfSteps)], Math.Round(r.Mean, 3), Math.Round(r.StandardDeviation, 3), p[1], p[3])
        {
            Quantiles = p[(4 + CdfSteps)..],
        };
    }
}

public sealed record DeviceReport
{
    public required string Name { get; init; }
    public required string Requester { get; init; }
    public required string Iommu { get; init; }
    public required IReadOnlyDictionary<string, uint> Pasids { get; init; }
    public required uint Allocation { get; init; }
    public required long PageRequests { get; init; }
    public required long Groups { get; init; }
    public required long ResponsesSuccess { get; init; }
    public required long ResponsesInvalid { get; init; }
    public required long ResponsesFailure { get; init; }
    public required long ResponsesReserved { get; init; }
    public required long CreditsHighWater { get; init; }
    public required long UnexpectedResponses { get; init; }
    public required bool Uprgi { get; init; }
    public required bool ResponseFailure { get; init; }
    public required long Retries { get; init; }
    public required long TranslationRequests { get; init; }
    public required long AtcHits { get; init; }
    public required long AccessesStarted { get; init; }
    /// <summary>Arrivals that found the process not bound (before a bind, after an unbind or exit).</summary>
    public required long AccessesSkipped { get; init; }
    public required long StopMarkers { get; init; }
    /// <summary>H-PCI-22: late responses for groups abandoned by a Stop Marker.</summary>
    public required long DiscardedAfterStop { get; init; }
    /// <summary>H-PCI-12: outstanding groups forgotten by a PRI reset (POL-9, POL-13, POL-14).</summary>
    public required long GroupsForgotten { get; init; }
    /// <summary>PRI credits still in use at the end (outstanding groups, and Stop Markers that keep theirs, H-PCI-21).</summary>
    public required long CreditsHeld { get; init; }
    public required long AccessesCompleted { get; init; }
    public required IReadOnlyDictionary<string, long> AccessesFailed { get; init; }
    public required LatencyReport FaultLatency { get; init; }
    /// <summary>Accesses completed per millisecond (started after the warm-up), from the first such start to the last end.</summary>
    public required double ThroughputPerMs { get; init; }
}

/// <summary>A platform stall master: how its accesses ended and how long they took (stalls included).</summary>
public sealed record MasterReport
{
    public required string Name { get; init; }
    public required uint StreamId { get; init; }
    public required string Iommu { get; init; }
    public required string Owner { get; init; }
    public required IReadOnlyDictionary<string, uint> Pasids { get; init; }
    /// <summary>Behind an SMMUv2: the master's context bank.</summary>
    public int? ContextBank { get; init; }
    public required long Transactions { get; init; }
    public required long Accesses { get; init; }
    public required long Completed { get; init; }
    public required long Aborted { get; init; }
    public required long TerminatedRazWi { get; init; }
    /// <summary>Aborted transactions the master sent again (<c>masters[].retry</c>).</summary>
    public long Retried { get; init; }
    public required long AccessesSkipped { get; init; }
    public required LatencyReport AccessLatency { get; init; }
    /// <summary>Accesses completed per millisecond (started after the warm-up), from the first such start to the last end.</summary>
    public required double ThroughputPerMs { get; init; }
}

public sealed record FrameworkReport
{
    public required long Reports { get; init; }
    public required long Partials { get; init; }
    public required long Groups { get; init; }
    public required long ResponsesSuccess { get; init; }
    public required long ResponsesInvalid { get; init; }
    public required long ResponsesFailure { get; init; }
    public required long NoHandlerAnswers { get; init; }
    public required long NoHandlerDrops { get; init; }
    public required long AbortedGroups { get; init; }
    public required long Deferrals { get; init; }
    public required long StaleResponsesDropped { get; init; }
    public required long StaleResponsesRejected { get; init; }
    public required long DiscardedPartials { get; init; }
    /// <summary>POL-4: incomplete groups dropped whole because a device held too many partials.</summary>
    public required long EvictedPartialGroups { get; init; }
    /// <summary>POL-10: partials of a detached PASID freed at detach.</summary>
    public required long PurgedPartials { get; init; }
    /// <summary>Queued groups of a PASID being torn down answered INVALID before running (hardened).</summary>
    public required long CancelledAtTeardown { get; init; }
    public required long Flushes { get; init; }
    public required long RemovedGroups { get; init; }
}
