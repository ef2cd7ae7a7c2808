using Faultline.Simulation;

namespace Faultline.Tests.Queueing;

/// <summary>
/// Validation against queueing theory (issue 11 item 7). With every hop at zero, one-page accesses without ATS
/// and one-page groups, the host is an FCFS pool of <c>workers</c> servers fed by the workload's Poisson arrivals:
/// the mean wait before a worker (the report's host-queue stage) must match M/M/c (Erlang C) for exponential
/// service and M/D/c for constant service, and the report's own occupancies must obey Little's law, each within
/// the 95 % confidence interval of independent replications (seeds). The runs are short to keep the suite fast
/// (about 2 s in all); a warm-up of a few relaxation times keeps the empty start from biasing the means.
/// </summary>
public class QueueingTheoryTests
{
    private const int Replications = 6;
    private const double StudentT = 2.571; // Student's t, 0.975 quantile, 5 degrees of freedom
    private const int Accesses = 5_000;
    private const double ServiceNs = 10_000;

    /// <summary>One device, c workers, Poisson arrivals of mean gap <paramref name="gapNs"/>, service <paramref name="service"/>.</summary>
    private static Scenario Pool(int workers, double gapNs, string service, int accesses) => ScenarioReader.Parse($$"""
        name: pool
        warmup: 5ms
        timing: { link: 0, translation: 0, interrupt: 0, report: 0, handler_wakeup: 0, response_command: 0 }
        host:
          workers: {{workers}}
          present_fault: {{service}}
          minor_fault: {{service}}
        iommus:
          - { name: dmar0, prq_order: 8 }
        processes:
          - name: p
            vmas:
              - { start: 0x10000000, pages: 65536, perm: rw }
        devices:
          - { name: d0, rid: "00:02.0", iommu: dmar0, capacity: 512, pages_per_group: 1, ats: false, bind: [p] }
        workloads:
          - { device: d0, process: p, accesses: {{accesses}}, min_pages: 1, max_pages: 1, interval: {{gapNs:0}}ns, concurrency: 512 }
        """, "pool.yaml");

    private static List<RunReport> Replicate(Scenario scenario) =>
        [.. Enumerable.Range(1, Replications).Select(seed => Simulator.Run(scenario, (ulong)seed))];

    /// <param name="slack">Added to the interval's half-width: what the theory itself leaves open in a finite run.</param>
    private static void AssertWithin(double theory, IReadOnlyList<double> replications, string what, double slack = 0)
    {
        var (mean, half) = QueueingTheory.Interval(replications, StudentT);
        Assert.True(Math.Abs(mean - theory) <= half + slack,
            $"{what}: theory {theory:G4}, simulated {mean:G4} ± {half:G3} (95 % CI over {replications.Count} seeds)");
    }

    /// <summary>
    /// M/M/2 at ρ = 0.6 against Erlang C, and Little's law, L = λW, from the same reports alone: the arrival rate is
    /// the measured samples over the measured time; the fault queue's mean occupancy against the host-queue wait,
    /// the credits in use against the whole fault latency (a one-page group holds one credit from its request to its
    /// response), the busy workers against the service time.
    /// </summary>
    [Fact]
    public void Exponential_service_waits_as_erlang_c_and_occupancies_obey_littles_law()
    {
        const int workers = 2;
        double gap = ServiceNs / (0.6 * workers);
        var runs = Replicate(Pool(workers, gap, $"{{ dist: exponential, mean: {ServiceNs:0}ns }}", Accesses));
        Assert.All(runs, r => Assert.Empty(r.Invariants));
        // Each run against the theory at its own drawn service mean: the short runs' service means vary by a few
        // per cent, which moves the wait several times as much at this load.
        AssertWithin(1, [.. runs.Select(r => r.FaultStages.HostQueue.MeanNs / QueueingTheory.MmcWait(1 / gap, r.FaultStages.Service.MeanNs, workers))], "M/M/2 at ρ = 0.6, wait / theory");
        double Ratio(RunReport r, string kind, double wait)
        {
            double lambda = r.FaultLatency.Samples / (double)(r.EndTimeNs - r.WarmupNs);
            return r.Queues.Single(q => q.Kind == kind).MeanOccupancy / (lambda * wait);
        }
        // Little's law holds exactly only over a run that starts and ends empty; the groups in flight when the warm-up
        // ends count in L but not in W, a boundary term of about L/N (well under 0.5 % here).
        const double boundary = 0.005;
        AssertWithin(1, [.. runs.Select(r => Ratio(r, "fault_queue", r.FaultStages.HostQueue.MeanNs))], "fault queue L / λW", boundary);
        AssertWithin(1, [.. runs.Select(r => Ratio(r, "credits_in_use", r.FaultLatency.MeanNs))], "credits L / λW", boundary);
        AssertWithin(1, [.. runs.Select(r => Ratio(r, "workers_busy", r.FaultStages.Service.MeanNs))], "workers L / λW", boundary);
    }

    [Theory]
    [InlineData(1, 0.6)]
    [InlineData(2, 0.6)]
    public void Constant_service_waits_as_m_d_c(int workers, double rho)
    {
        double gap = ServiceNs / (rho * workers);
        var runs = Replicate(Pool(workers, gap, $"{ServiceNs:0}ns", Accesses));
        Assert.All(runs, r => Assert.Empty(r.Invariants));
        AssertWithin(QueueingTheory.MdcWait(1 / gap, ServiceNs, workers), [.. runs.Select(r => r.FaultStages.HostQueue.MeanNs)], $"M/D/{workers} at ρ = {rho}");
    }
}
