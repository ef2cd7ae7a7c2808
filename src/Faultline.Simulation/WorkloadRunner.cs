using Faultline.Devices;
using Faultline.Pcie;
using Faultline.Sva;

using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>
/// Drives one workload: accesses arrive with exponential gaps, wait while the workload already has
/// <see cref="WorkloadSpec.Concurrency"/> in flight, and each covers a random page range inside one
/// VMA of the process (chosen in proportion to its size), written with the given probability.
/// </summary>
internal sealed class WorkloadRunner(Platform platform, int index, WorkloadSpec spec, DeviceNode device, AddressSpace mm, SimRandom random)
{
    private readonly Dictionary<long, long> _startedAt = new();
    private int _arrived;
    private int _waiting;
    private int _inFlight;
    private bool _starting;

    public WorkloadSpec Spec { get; } = spec;
    public AddressSpace Process { get; } = mm;

    /// <summary>Arrivals that found the process not bound to the device (before a bind, after an unbind or exit).</summary>
    public long Skipped { get; private set; }

    public void Start()
    {
        if (Spec.Accesses > 0) platform.Scheduler.At(Spec.StartNs, new SimEvent { Kind = SimEventKind.WorkloadArrival, Target = index });
    }

    public long Completed { get; private set; }
    public long Failed { get; private set; }
    public LatencyRecorder AccessLatency { get; } = new();
    /// <summary>The first access start and the last access end, for throughput.</summary>
    public long? FirstStartNs { get; private set; }
    public long LastEndNs { get; private set; }

    public long StartedAt(long id) => _startedAt[id];

    public void Ended(long id, AccessResult result, long latency, long now)
    {
        _startedAt.Remove(id);
        _inFlight--;
        if (result == AccessResult.Completed) Completed++;
        else Failed++;
        AccessLatency.Add(latency);
        LastEndNs = Math.Max(LastEndNs, now);
        TryStart();
    }

    public void Arrive()
    {
        _arrived++;
        _waiting++;
        if (_arrived < Spec.Accesses) platform.Scheduler.After(random.NextExponential(Spec.IntervalNs), new SimEvent { Kind = SimEventKind.WorkloadArrival, Target = index });
        TryStart();
    }

    private void TryStart()
    {
        // An access can end inside StartAccess (every page in the ATC); the outer loop starts the next
        // one, so a long run of such accesses does not recurse.
        if (_starting) return;
        _starting = true;
        try
        {
            StartWaiting();
        }
        finally
        {
            _starting = false;
        }
    }

    private void StartWaiting()
    {
        while (_waiting > 0 && _inFlight < Spec.Concurrency)
        {
            _waiting--;
            if (Process.Exiting || !device.Port.Pasids.TryGetValue(Process.Name, out uint pasid))
            {
                Skipped++;
                continue;
            }
            _inFlight++;
            var access = Next(pasid);
            _startedAt.Add(access.Id, platform.Now);
            FirstStartNs ??= platform.Now;
            platform.OwnAccess(access.Id, this);
            device.StartAccess(access, platform.Now);
        }
    }

    private DmaAccess Next(uint pasid)
    {
        // Index loops: an enumerator over the interface would be boxed on every access.
        var vmas = Process.Vmas;
        long totalPages = 0;
        for (int i = 0; i < vmas.Count; i++) totalPages += (long)(vmas[i].Length >> 12);
        long pick = random.NextInclusive(0, totalPages - 1);
        var vma = vmas[0];
        for (int i = 0; i < vmas.Count; i++)
        {
            long pages = (long)(vmas[i].Length >> 12);
            if (pick < pages) { vma = vmas[i]; break; }
            pick -= pages;
        }
        long vmaPages = (long)(vma.Length >> 12);
        long count = Math.Min(random.NextInclusive(Spec.MinPages, Spec.MaxPages), vmaPages);
        long first = random.NextInclusive(0, vmaPages - count);
        bool write = random.Chance(Spec.WriteFraction);
        var prefix = new PasidPrefix(new Pasid(pasid), false, false);
        return new DmaAccess(platform.NextAccessId(), prefix, vma.Start + ((ulong)first << 12), (int)count, write);
    }
}
