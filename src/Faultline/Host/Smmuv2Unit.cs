using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv2;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>
/// An Arm SMMUv2 and the arm-smmu driver (docs/smmuv2.md): platform stall masters only, one per context bank.
/// Each bank's context interrupt runs the driver's handler on a thread of its own (arm-smmu requests one IRQ per
/// context bank). A stall holds every later transaction of its bank and none of another bank's (H-SMMUv2-3,
/// H-SMMUv2-4); RESUME is a register write, so a response takes effect at once. No ATS, PRI or PASIDs: a master's
/// one process is bound at the RID and its address space is the bank's page table.
/// </summary>
public sealed class Smmuv2Unit : IommuUnit, ISmmuv2Platform
{
    private readonly HashSet<int> _banksInUse = [];

    internal Smmuv2Unit(HostKernel kernel, IommuSpec spec) : base(kernel, spec, threads: spec.ContextBanks)
    {
        Hardware = new Smmuv2(new Smmuv2Config { Name = spec.Name, ContextBanks = spec.ContextBanks }, this);
        Driver = new Smmuv2Driver(Hardware, kernel.Framework, hitUnderPreviousFault: true); // H-SMMUv2-4: the Adreno driver sets HUPCF on every bank
    }

    /// <inheritdoc />
    public override string Kind => "smmuv2";
    /// <summary>The SMMU hardware: its context banks and their fault registers.</summary>
    public Smmuv2 Hardware { get; }
    /// <summary>The context fault handler (<c>arm_smmu_context_fault</c>) and its RESUME writes, as the Adreno path runs them.</summary>
    public Smmuv2Driver Driver { get; }
    /// <inheritdoc />
    public override IReadOnlyList<FaultQueue> FaultQueues => _faultQueues ??= [Driver.Queue];
    private FaultQueue[]? _faultQueues; // asked on every batch and work item: made once

    /// <inheritdoc />
    public override string ThreadName(int thread) => $"cb{thread} irq";
    /// <inheritdoc />
    public override RingQueue? ThreadQueue(int thread) => null;
    private protected override int HandleThread(int thread, long now) => Driver.HandleContextFault(thread, now) ? 1 : 0;

    // ---- PCIe functions: none (the scenario reader refuses them; a programmatic one gets no IOPF) ----

    internal override TranslationCompletion Translate(in TranslationRequest request) =>
        new(request.Tag, TranslationStatus.UnsupportedRequest, false, false, false);

    internal override void OnPageRequest(in PageRequest request, long now) =>
        throw new InvalidOperationException($"SMMUv2 {Name} enables no PRI, so no function can send it page requests");

    /// <inheritdoc />
    public override bool HasPasids => false;
    internal override string IopfRefusal => "an SMMUv2 has no ATS, PRI or PASIDs: it serves platform masters only";

    internal override (PciEnableError Probe, FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddFunction(PriFunction function, uint? credits, long now) =>
        (PciEnableError.None, FaultStatus.NoDevice, null, null);

    internal override bool RingHolds(RequesterId requester, uint pasid) => false;
    internal override bool CommandsIdle => true;
    internal override RequesterId? RequesterOf(FaultDevice device) => null;
    internal override string UnansweredDiscards => "";

    // ---- platform stall masters ----

    /// <summary>The master's StreamID maps to its context bank (the one asked for, else the lowest free one), stall-on-fault set.</summary>
    internal override (FaultStatus Status, FaultDevice? Device, IPasidTable? Table) AddStallMaster(string name, uint streamId, string? owner, int? contextBank, long now)
    {
        int bank = contextBank ?? Enumerable.Range(0, Hardware.ContextBanks.Count).FirstOrDefault(b => !_banksInUse.Contains(b), -1);
        if (bank < 0 || !_banksInUse.Add(bank)) return (FaultStatus.Busy, null, null); // one master per context bank
        var (status, device) = Driver.AddMaster(streamId, bank, name, now);
        if (status != FaultStatus.Ok)
        {
            _banksInUse.Remove(bank);
            return (status, null, null);
        }
        return (status, device, new ContextBankTable(Hardware.ContextBanks[bank]));
    }

    internal override void OnTransaction(in StallTransaction transaction, long now) => Hardware.OnTransaction(transaction, now);

    internal override int? ContextBankOf(FaultDevice device) => Driver.ContextBankOf(device);

    // ---- reporting ----

    internal override void CheckEnd(InvariantLog invariants, long now)
    {
        foreach (var bank in Hardware.ContextBanks)
            if (bank.Stalled is not null || bank.HeldCount > 0)
                invariants.Report("H-SMMUv2-5", now, $"{Name} context bank {bank.Index}",
                    $"{(bank.Stalled is null ? 0 : 1)} transaction still stalled and {bank.HeldCount} held behind it: every stall must be resumed or terminated");
        base.CheckEnd(invariants, now);
    }

    /// <inheritdoc />
    public override IommuReport Report(long now)
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

    void ISmmuv2Platform.RaiseContextInterrupt(Smmuv2 smmu, int contextBank) => WakeThread(contextBank);

    void ISmmuv2Platform.TransactionEnded(Smmuv2 smmu, in StallTransaction transaction, TransactionOutcome outcome) =>
        CompleteTransaction(transaction, outcome, "H-SMMUv2-2");

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
