using Faultline.Faults;

namespace Faultline.Iommu.Smmuv2;

/// <summary>What the SMMUv2 driver's stall path counted.</summary>
public sealed class Smmuv2DriverCounters
{
    /// <summary>Context fault interrupts handled.</summary>
    public long Interrupts { get; internal set; }
    /// <summary>The handler found no fault in FSR (Linux returns IRQ_NONE).</summary>
    public long SpuriousInterrupts { get; internal set; }
    /// <summary>H-SMMUv2-11: stalled faults reported to the framework as one-fault groups.</summary>
    public long Reported { get; internal set; }
    /// <summary>Terminate-model faults (no SS): FSR cleared, nothing to resume.</summary>
    public long NonStallFaults { get; internal set; }
    /// <summary>FSR.MULTI seen: a fault whose syndrome was lost.</summary>
    public long MultiSeen { get; internal set; }
    /// <summary>A stall whose StreamID (CBFRSYNRA) belongs to no master: terminated at once.</summary>
    public long UnknownStreams { get; internal set; }
    /// <summary>H-SMMUv2-12: RESUME written with TnR = 0 (response Success).</summary>
    public long Retries { get; internal set; }
    /// <summary>H-SMMUv2-12: RESUME written with TnR = 1 (any other response).</summary>
    public long Terminates { get; internal set; }
    /// <summary>A response that does not name the bank's outstanding stall: no RESUME written.</summary>
    public long StaleResponses { get; internal set; }
}

/// <summary>
/// The SMMUv2 stall path as Linux runs it for Adreno (docs/smmuv2.md §5): the context fault handler
/// (<c>arm_smmu_context_fault</c>) reads FSR, FAR, FSYNR0 and CBFRSYNRA; a stalled fault goes to the fault
/// framework as a one-fault group, and its response becomes a RESUME write (<c>resume_translation</c>).
/// Upstream arm-smmu has no IOPF support for SMMUv2: this is the shape the GPU path has, reached through
/// the framework so the same handlers serve it.
/// </summary>
public sealed class Smmuv2Driver : IPageResponder
{
    private const long NoStall = -1;

    private readonly Smmuv2 _smmu;
    private readonly FaultFramework _framework;
    private readonly bool _hitUnderPreviousFault;
    private readonly Dictionary<uint, FaultDevice> _byStream = new();
    private readonly Dictionary<FaultDevice, int> _bankOf = new();
    private readonly long[] _outstanding; // per bank: the group id of the stall reported, or NoStall
    private uint _nextGroupId;

    /// <param name="smmu">The SMMU whose context banks this driver sets up and services.</param>
    /// <param name="framework">The fault framework its masters' faults are reported to, through this driver's own IOPF queue.</param>
    /// <param name="hitUnderPreviousFault">SCTLR.HUPCF for the banks this driver sets up (Adreno sets it; H-SMMUv2-4).</param>
    public Smmuv2Driver(Smmuv2 smmu, FaultFramework framework, bool hitUnderPreviousFault = false)
    {
        _smmu = smmu;
        _framework = framework;
        _hitUnderPreviousFault = hitUnderPreviousFault;
        _outstanding = new long[smmu.ContextBanks.Count];
        Array.Fill(_outstanding, NoStall);
        Queue = FaultFramework.AllocateQueue($"{smmu.Name}-iopfq");
    }

    /// <summary>The SMMU this driver runs.</summary>
    public Smmuv2 Smmu => _smmu;
    /// <summary>This SMMU's IOPF queue (<c>&lt;name&gt;-iopfq</c>), where its masters' faults go.</summary>
    public FaultQueue Queue { get; }
    /// <summary>What the driver counted.</summary>
    public Smmuv2DriverCounters Counters { get; } = new();

    /// <summary>
    /// Attaches a platform master: its StreamID maps to <paramref name="contextBank"/>, whose SCTLR gets
    /// M, CFRE, CFIE and, when <paramref name="stall"/>, CFCFG (Adreno's <c>set_stall</c>); the device joins
    /// this SMMU's fault queue. A StreamID already attached is <see cref="FaultStatus.Busy"/>.
    /// </summary>
    public (FaultStatus Status, FaultDevice? Device) AddMaster(uint streamId, int contextBank, string name, long now, bool stall = true)
    {
        if ((uint)contextBank >= (uint)_outstanding.Length) return (FaultStatus.Invalid, null);
        if (_byStream.ContainsKey(streamId)) return (FaultStatus.Busy, null);
        var device = new FaultDevice(name, this);
        // A stalled master has one transaction outstanding per context bank (H-SMMUv2-3): never a partial group.
        var status = FaultFramework.AddDevice(Queue, device, partialLimit: 1);
        if (status != FaultStatus.Ok) return (status, null);
        _byStream.Add(streamId, device);
        _bankOf.Add(device, contextBank);
        _smmu.MapStream(streamId, contextBank);
        var sctlr = new Sctlr(M: true, Cfre: true, Cfie: true, Cfcfg: stall, Hupcf: _hitUnderPreviousFault);
        _smmu.ContextBanks[contextBank].Write(ContextBankRegisters.Sctlr, sctlr.Encode(), now);
        return (FaultStatus.Ok, device);
    }

    /// <summary>The context bank <paramref name="device"/> was attached to, or null for a device this driver did not add.</summary>
    public int? ContextBankOf(FaultDevice device) => _bankOf.TryGetValue(device, out int bank) ? bank : null;

    /// <summary>
    /// The context fault interrupt handler (H-SMMUv2-11). Returns false when FSR holds no fault (IRQ_NONE).
    /// For a stall: CFIE is cleared first so the still-set SS does not interrupt again, FSR is cleared, then
    /// the fault is reported; the RESUME write waits for the response (<see cref="PageResponse"/>).
    /// </summary>
    public bool HandleContextFault(int contextBank, long now)
    {
        Counters.Interrupts++;
        var bank = _smmu.ContextBanks[contextBank];
        uint fsrValue = bank.Read(ContextBankRegisters.Fsr);
        var fsr = Fsr.Decode(fsrValue);
        if (!fsr.IsOk || !fsr.Value.IsFault)
        {
            Counters.SpuriousInterrupts++;
            return false;
        }
        ulong far = bank.ReadFar();
        var fsynr0 = Fsynr0.Decode(bank.Read(ContextBankRegisters.Fsynr0));
        var cbfrsynra = Cbfrsynra.Decode(_smmu.ReadGr1(Cbfrsynra.Offset(contextBank)));
        if (fsr.Value.Multi) Counters.MultiSeen++;

        if (!fsr.Value.Ss)
        {
            bank.Write(ContextBankRegisters.Fsr, fsrValue, now);
            Counters.NonStallFaults++;
            return true;
        }

        // H-SMMUv2-6: the same register order as Linux, FSR before RESUME. Linux clears FSR after
        // report_iommu_fault returns; the framework may answer inside Report, so FSR is cleared first.
        WriteCfie(bank, false, now);
        bank.Write(ContextBankRegisters.Fsr, fsrValue, now);
        if (!cbfrsynra.IsOk || !_byStream.TryGetValue(cbfrsynra.Value.StreamId, out var device) || !fsynr0.IsOk)
        {
            Counters.UnknownStreams++;
            Resume(bank, terminate: true, now);
            return true;
        }

        uint groupId = _nextGroupId++;
        _outstanding[contextBank] = groupId;
        var syndrome = fsynr0.Value;
        var perm = syndrome.Wnr ? FaultPermissions.Write : FaultPermissions.Read;
        if (syndrome.Ind) perm |= FaultPermissions.Exec;
        if (syndrome.Pnu) perm |= FaultPermissions.Priv;
        Counters.Reported++;
        _framework.Report(device, new Fault(FaultFlags.LastPage, 0, groupId, perm, far), now);
        return true;
    }

    /// <summary>H-SMMUv2-12: Success retries the stalled transaction, anything else terminates it; CFIE goes back on.</summary>
    public void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response, long now)
    {
        int contextBank = _bankOf[device];
        if (_outstanding[contextBank] != response.GroupId)
        {
            Counters.StaleResponses++;
            return;
        }
        Resume(_smmu.ContextBanks[contextBank], terminate: response.Code != PageResponseCode.Success, now);
    }

    private void Resume(ContextBank bank, bool terminate, long now)
    {
        _outstanding[bank.Index] = NoStall;
        if (terminate) Counters.Terminates++;
        else Counters.Retries++;
        bank.Write(ContextBankRegisters.Resume, new Resume(terminate).Encode(), now);
        WriteCfie(bank, true, now);
    }

    /// <summary>Linux <c>arm_smmu_context_fault</c> / <c>qcom_adreno_smmu_resume_translation</c>: SCTLR read-modify-write of CFIE.</summary>
    private static void WriteCfie(ContextBank bank, bool enable, long now)
    {
        uint sctlr = bank.Read(ContextBankRegisters.Sctlr);
        sctlr = enable ? sctlr | Sctlr.CfieBit : sctlr & ~Sctlr.CfieBit;
        bank.Write(ContextBankRegisters.Sctlr, sctlr, now);
    }
}
