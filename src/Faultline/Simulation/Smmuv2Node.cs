using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv2;
using Faultline.Pcie;

namespace Faultline.Simulation;

/// <summary>
/// An Arm SMMUv2 (docs/smmuv2.md): platform stall masters only, one per context bank. Each bank's context
/// interrupt runs the driver's handler on a thread of its own (arm-smmu requests one IRQ per context bank).
/// A stall holds every later transaction of its bank and none of another bank's (H-SMMUv2-3, H-SMMUv2-4);
/// RESUME is a register write, so a response takes effect at once. No ATS, PRI or PASIDs: a master's one
/// process is bound at the RID and its address space is the bank's page table.
/// </summary>
internal sealed class Smmuv2Node : IommuNode, ISmmuv2Platform
{
    private readonly DriverThread[] _contextThreads;
    private readonly HashSet<int> _banksInUse = [];

    public Smmuv2Node(Platform platform, IommuSpec spec) : base(platform, spec)
    {
        Hardware = new Smmuv2(new Smmuv2Config { Name = spec.Name, ContextBanks = spec.ContextBanks }, this);
        Driver = new Smmuv2Driver(Hardware, platform.Framework, platform.Scheduler.Time);
        _contextThreads = new DriverThread[spec.ContextBanks];
        for (int i = 0; i < _contextThreads.Length; i++)
        {
            int bank = i;
            _contextThreads[bank] = new DriverThread(platform, this, $"cb{bank} irq", null, () => Driver.HandleContextFault(bank, Platform.Now) ? 1 : 0);
        }
    }

    public override string Kind => "smmuv2";
    public Smmuv2 Hardware { get; }
    public Smmuv2Driver Driver { get; }
    public override IReadOnlyList<FaultQueue> FaultQueues => [Driver.Queue];

    // ---- PCIe functions: none (the scenario reader refuses them; a programmatic one gets no IOPF) ----

    public override TranslationCompletion Translate(in TranslationRequest request) =>
        new(request.Tag, TranslationStatus.UnsupportedRequest, false, false, false);

    public override void OnPageRequest(in PageRequest request) =>
        throw new InvalidOperationException($"SMMUv2 {Name} enables no PRI, so no function can send it page requests");

    public override bool HasPasids => false;
    public override string IopfRefusal => "an SMMUv2 has no ATS, PRI or PASIDs: it serves platform masters only";

    public override (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, DeviceSpec spec) =>
        (PciEnableError.None, FaultStatus.NoDevice, null, null);

    public override bool RingHolds(RequesterId requester, uint pasid) => false;
    public override bool CommandsIdle => true;
    public override RequesterId? RequesterOf(FaultDevice device) => null;


    public override string UnansweredDiscards => "";

    // ---- platform stall masters ----

    /// <summary>The master's StreamID maps to its context bank (the spec's, else the lowest free one), stall-on-fault set.</summary>
    public override (FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddStallMaster(MasterSpec spec)
    {
        int bank = spec.ContextBank ?? Enumerable.Range(0, Hardware.ContextBanks.Count).FirstOrDefault(b => !_banksInUse.Contains(b), -1);
        if (bank < 0 || !_banksInUse.Add(bank)) return (FaultStatus.Busy, null, null); // one master per context bank
        var (status, device) = Driver.AddMaster(spec.StreamId, bank, spec.Name, Platform.Now);
        if (status != FaultStatus.Ok)
        {
            _banksInUse.Remove(bank);
            return (status, null, null);
        }
        return (status, device, new ContextBankTable(Hardware.ContextBanks[bank]));
    }

    public override void OnTransaction(in StallTransaction transaction, long now) => Hardware.OnTransaction(transaction, now);

    // ---- reporting ----

    public override void CheckEnd(InvariantLog invariants, long now)
    {
        foreach (var bank in Hardware.ContextBanks)
            if (bank.Stalled is not null || bank.HeldCount > 0)
                invariants.Report("H-SMMUv2-5", now, $"{Name} context bank {bank.Index}",
                    $"{(bank.Stalled is null ? 0 : 1)} transaction still stalled and {bank.HeldCount} held behind it: every stall must be resumed or terminated");
        base.CheckEnd(invariants, now);
    }

    public override IommuReport Report()
    {
        var hw = Hardware.Counters;
        var drv = Driver.Counters;
        return new IommuReport
        {
            Name = Name,
            Kind = Kind,
            RingEntries = 0, // no queue in memory: a context bank's fault registers hold one fault
            RingHighWater = 0,
            PageRequestsReceived = 0,
            Queued = 0,
            RefusedAtGate = 0,
            DiscardedFull = 0,
            DiscardedWhileOverflowed = 0,
            AutoResponses = 0,
            Events = hw.ContextInterrupts,
            DriverBatches = drv.Interrupts,
            Reported = drv.Reported,
            StopMarkersDropped = 0,
            BadRequestsAnswered = drv.UnknownStreams, // terminated at once (H-SMMUv2-11)
            BadRequestsDropped = 0,
            OverflowsCleared = 0,
            PrgResponsesSent = 0,
            Smmuv2 = new Smmuv2Report
            {
                ContextBanks = Hardware.ContextBanks.Count,
                BanksInUse = _banksInUse.Count,
                Stalls = hw.Stalls,
                Retries = hw.Retries,
                ResumeTerminations = hw.ResumeTerminations,
                FaultTerminations = hw.FaultTerminations + hw.TerminatedUnderFault,
                HeldBehind = hw.HeldBehind,
                MultiFaults = hw.MultiFaults,
                LongestHoldNs = hw.LongestHold,
            },
        };
    }

    // ---- ISmmuv2Platform ----

    public void RaiseContextInterrupt(Smmuv2 smmu, int contextBank) => _contextThreads[contextBank].Wake();

    public void TransactionEnded(Smmuv2 smmu, in StallTransaction transaction, TransactionOutcome outcome)
    {
        if (Masters.TryGetValue(transaction.StreamId, out var master)) master.Complete(transaction, outcome);
        else Platform.Invariants.Report("H-SMMUv2-2", Platform.Now, Name, $"transaction of stream 0x{transaction.StreamId:x} ended, but no master has that StreamID");
    }

    /// <summary>
    /// A context bank seen as the PASID table SVA binding writes: SMMUv2 has no PASIDs, so the one entry is
    /// the RID's (0), and it is the bank's stage-1 page table (TTBR0).
    /// </summary>
    private sealed class ContextBankTable(ContextBank bank) : IPasidTable
    {
        public void Install(uint pasid, IPageTable table)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(pasid, 0u);
            bank.PageTable = table;
        }

        public void Remove(uint pasid)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(pasid, 0u);
            bank.PageTable = null;
        }
    }
}
