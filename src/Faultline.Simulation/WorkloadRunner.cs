using Faultline.Devices;
using Faultline.Pcie;
using Faultline.Sva;

using Faultline.Host;
using Faultline.Simulation.Distributions;

namespace Faultline.Simulation;

/// <summary>
/// Drives one workload: accesses arrive (Poisson by default; or gaps from any distribution, in batches, from an
/// on/off source, from a trace, or in a closed loop with a think time), wait while the workload already has
/// <see cref="WorkloadSpec.Concurrency"/> in flight, and each covers a random page range inside one VMA of the
/// process (chosen in proportion to its size), written with the given probability.
/// </summary>
internal sealed class WorkloadRunner
{
    private readonly Platform platform;
    private readonly int index;
    private readonly DeviceNode device;
    private readonly SimRandom random;
    // Every distribution draws from its own fork, so adding one does not move the draws of the others; a
    // Poisson interval and the addresses keep the workload's own stream, as before distributions existed.
    private readonly Arrivals _arrivals;
    private readonly Distribution? _pages;
    private readonly SimRandom? _pagesRandom;
    private int _arrived;
    private int _waiting;
    private int _inFlight;
    private bool _starting;
    // The process's PASID on the device as last looked up (null: not bound), valid while the device's bindings
    // have not changed since (a lookup by name per access was a hash and cache misses at 10 000 functions, issue 9).
    private uint? _pasid;
    private int _pasidAt = -1;

    public WorkloadRunner(Platform platform, int index, WorkloadSpec spec, DeviceNode device, AddressSpace mm, SimRandom random)
    {
        this.platform = platform;
        this.index = index;
        this.device = device;
        this.random = random;
        Spec = spec;
        Process = mm;
        _arrivals = new Arrivals(spec, random);
        _pages = spec.Pages;
        if (_pages is not null) _pagesRandom = random.Fork("pages");
    }

    public WorkloadSpec Spec { get; }
    public AddressSpace Process { get; }

    /// <summary>Arrivals that found the process not bound to the device (before a bind, after an unbind or exit).</summary>
    public long Skipped { get; private set; }

    public void Start()
    {
        if (Spec.Accesses > 0) platform.Scheduler.At(Spec.StartNs + _arrivals.FirstOffset(), new SimEvent { Kind = SimEventKind.WorkloadArrival, Target = index });
    }

    public long Completed { get; private set; }
    public long Failed { get; private set; }
    public LatencyRecorder AccessLatency { get; } = new();
    /// <summary>The first access start and the last access end, for throughput.</summary>
    public long? FirstStartNs { get; private set; }
    public long LastEndNs { get; private set; }
    /// <summary>The first access start after the warm-up.</summary>
    public long? FirstMeasuredStartNs { get; private set; }

    public void Ended(AccessResult result, long latency, long now)
    {
        _inFlight--;
        if (result == AccessResult.Completed) Completed++;
        else Failed++;
        if (platform.Measured(now - latency))
        {
            AccessLatency.Add(latency);
            if (result == AccessResult.Completed) CompletedMeasured++;
        }
        LastEndNs = Math.Max(LastEndNs, now);
        // Closed loop: the access's credits are free again; the next one comes after a think time.
        if (Spec.Think is not null && _arrived < Spec.Accesses)
            platform.Scheduler.After(_arrivals.Think(), new SimEvent { Kind = SimEventKind.WorkloadArrival, Target = index });
        TryStart();
    }

    /// <summary>Accesses completed that started after the warm-up.</summary>
    public long CompletedMeasured { get; private set; }

    public void Arrive()
    {
        // A closed loop starts with one access per slot of its concurrency; each end brings the next.
        int count = Spec.Think is not null && _arrived == 0 ? Spec.Concurrency : _arrivals.BatchSize();
        count = Math.Min(count, Spec.Accesses - _arrived);
        _arrived += count;
        _waiting += count;
        if (_arrived < Spec.Accesses && Spec.Think is null && _arrivals.NextGap(platform.Now) is { } gap)
            platform.Scheduler.After(gap, new SimEvent { Kind = SimEventKind.WorkloadArrival, Target = index });
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
            if (Process.Exiting || BoundPasid() is not { } pasid)
            {
                Skipped++;
                continue;
            }
            _inFlight++;
            var access = Next(pasid);
            FirstStartNs ??= platform.Now;
            if (platform.Measured(platform.Now)) FirstMeasuredStartNs ??= platform.Now;
            platform.OwnAccess(access.Id, this);
            device.StartAccess(access, platform.Now);
        }
    }

    private uint? BoundPasid()
    {
        var port = device.Port;
        if (_pasidAt != port.BindingChanges)
        {
            _pasid = port.Pasids.TryGetValue(Process.Name, out uint pasid) ? pasid : null;
            _pasidAt = port.BindingChanges;
        }
        return _pasid;
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
        long drawn = _pages is { } sizes ? Math.Clamp(sizes.Sample(_pagesRandom!), 1, 1 << 16) : random.NextInclusive(Spec.MinPages, Spec.MaxPages);
        long count = Math.Min(drawn, vmaPages);
        long first = random.NextInclusive(0, vmaPages - count);
        bool write = random.Chance(Spec.WriteFraction);
        var prefix = new PasidPrefix(new Pasid(pasid), false, false);
        return new DmaAccess(platform.NextAccessId(), prefix, vma.Start + ((ulong)first << 12), (int)count, write);
    }
}
