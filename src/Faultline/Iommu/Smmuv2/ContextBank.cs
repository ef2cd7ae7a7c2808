using Faultline.Devices;

namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// One SMMUv2 translation context bank with its fault model (docs/smmuv2.md §4): SCTLR, the fault
/// registers FSR / FAR / FSYNR0 (and CBFRSYNRA in global space 1), and at most one stalled transaction.
/// Sans-IO: the caller passes the time; outcomes and interrupts go out through <see cref="ISmmuv2Platform"/>.
/// </summary>
public sealed class ContextBank
{
    private readonly Smmuv2 _smmu;
    private readonly Queue<Held> _held = new();
    private Sctlr _sctlr;
    private uint _fsr;
    private ulong _far;
    private uint _fsynr0;
    private uint _cbfrsynra;
    private Held? _stalled;
    private bool _line;

    internal ContextBank(Smmuv2 smmu, int index)
    {
        _smmu = smmu;
        Index = index;
    }

    /// <summary>The bank's number n (SMMU_CBn).</summary>
    public int Index { get; }

    /// <summary>The stage-1 tables the bank walks (TTBR0); null translates nothing.</summary>
    public IPageTable? PageTable { get; set; }

    /// <summary>SCTLR's modelled fields as last written.</summary>
    public Sctlr Sctlr => _sctlr;

    /// <summary>The stalled transaction (FSR.SS), if any: H-SMMUv2-3 allows one per bank.</summary>
    public StallTransaction? Stalled => _stalled?.Transaction;

    /// <summary>Transactions held behind the stalled one, in arrival order (H-SMMUv2-4).</summary>
    public int HeldCount => _held.Count;

    /// <summary>The context interrupt line: CFIE and a fault in FSR (H-SMMUv2-8).</summary>
    public bool InterruptAsserted => _line;

    /// <summary>A 32-bit register read at <paramref name="offset"/> in the bank's page; other offsets read as 0.</summary>
    public uint Read(int offset) => offset switch
    {
        ContextBankRegisters.Sctlr => _sctlr.Encode(),
        ContextBankRegisters.Fsr => _fsr,
        ContextBankRegisters.Far => (uint)_far,
        ContextBankRegisters.Far + 4 => (uint)(_far >> 32),
        ContextBankRegisters.Fsynr0 => _fsynr0,
        _ => 0, // FSYNR1 is IMPLEMENTATION DEFINED; RESUME is write-only
    };

    /// <summary>FAR as one 64-bit read (Linux <c>arm_smmu_cb_readq(..., ARM_SMMU_CB_FAR)</c>).</summary>
    public ulong ReadFar() => _far;

    internal uint Cbfrsynra => _cbfrsynra;

    /// <summary>
    /// A 32-bit register write. SCTLR: reserved bits reject the write. FSR: write-1-to-clear, except SS,
    /// which only a RESUME write clears (H-SMMUv2-6). RESUME: retry or terminate the stalled transaction,
    /// then the held ones go on in order (H-SMMUv2-4, H-SMMUv2-5). Other offsets are ignored.
    /// </summary>
    public void Write(int offset, uint value, long now)
    {
        switch (offset)
        {
            case ContextBankRegisters.Sctlr:
                var sctlr = Sctlr.Decode(value);
                if (!sctlr.IsOk)
                {
                    _smmu.Counters.RejectedWrites++;
                    return;
                }
                _sctlr = sctlr.Value;
                break;
            case ContextBankRegisters.Fsr:
                _fsr &= ~(value & (Fsr.FaultTypeBits | Fsr.MultiBit));
                if (_stalled is null) _fsr &= ~(value & Fsr.SsBit);
                break;
            case ContextBankRegisters.Resume:
                var resume = Resume.Decode(value);
                if (!resume.IsOk)
                {
                    _smmu.Counters.RejectedWrites++;
                    return;
                }
                OnResume(resume.Value, now);
                break;
            default:
                return;
        }
        UpdateLine();
    }

    internal void OnTransaction(in StallTransaction transaction, long now) => Process(new Held(transaction, now), now);

    private void Process(Held held, long now)
    {
        var counters = _smmu.Counters;
        var t = held.Transaction;
        if (!_sctlr.M)
        {
            counters.Bypassed++;
            End(held, TransactionOutcome.Completed, now);
            return;
        }
        if (_stalled is not null)
        {
            // H-SMMUv2-4: one stall per bank; with HUPCF = 0 everything queues behind it, with HUPCF = 1
            // only what faults does (and MULTI says its syndrome was lost).
            uint hitFault = _sctlr.Hupcf ? FaultOf(t) : 0;
            if (_sctlr.Hupcf && hitFault == 0)
            {
                counters.Completed++;
                End(held, TransactionOutcome.Completed, now);
                return;
            }
            if (hitFault != 0) SetMulti();
            counters.HeldBehind++;
            _held.Enqueue(held);
            return;
        }
        if (!_sctlr.Hupcf && (_fsr & Fsr.FaultTypeBits) != 0)
        {
            counters.TerminatedUnderFault++; // H-SMMUv2-10: the fault model still applies to the context
            End(held, TerminateOutcome, now);
            return;
        }
        uint fault = FaultOf(t);
        if (fault == 0)
        {
            counters.Completed++;
            End(held, TransactionOutcome.Completed, now);
            return;
        }
        bool recorded = Record(t, fault, stall: _sctlr.Cfcfg);
        if (recorded && _sctlr.Cfcfg)
        {
            counters.Stalls++; // H-SMMUv2-3
            _stalled = held;
        }
        else
        {
            counters.FaultTerminations++; // H-SMMUv2-9 (or H-SMMUv2-7: a stall that FSR could not record)
            End(held, TerminateOutcome, now);
        }
        UpdateLine(); // last: the platform may run the handler, which reads and writes this bank
    }

    private void OnResume(Resume resume, long now)
    {
        if (_stalled is not { } stalled)
        {
            _smmu.Counters.ResumesWithoutStall++;
            return;
        }
        _stalled = null;
        _fsr &= ~Fsr.SsBit;
        if (resume.Terminate)
        {
            _smmu.Counters.ResumeTerminations++;
            End(stalled, TerminateOutcome, now);
        }
        else
        {
            _smmu.Counters.Retries++; // H-SMMUv2-5: translated again; it may fault and stall again
            Process(stalled, now);
        }
        while (_stalled is null && _held.TryDequeue(out var next)) Process(next, now);
    }

    /// <summary>The FSR fault-type bit a translation of <paramref name="t"/> raises, or 0.</summary>
    private uint FaultOf(in StallTransaction t)
    {
        var translation = PageTable?.Translate(t.Address) ?? Translation.NotPresent;
        if (!translation.Present) return Fsr.TfBit;
        bool allowed = t.Write ? translation.Write : translation.Read && (!t.Instruction || translation.Execute);
        return allowed ? 0 : Fsr.PfBit;
    }

    /// <summary>H-SMMUv2-7: FSR records one fault; a fault while one is recorded only sets MULTI.</summary>
    private bool Record(in StallTransaction t, uint fault, bool stall)
    {
        if ((_fsr & (Fsr.FaultTypeBits | Fsr.SsBit)) != 0)
        {
            SetMulti();
            return false;
        }
        _fsr |= fault | (stall ? Fsr.SsBit : 0);
        _far = t.Address;
        _fsynr0 = new Fsynr0(0, t.Write, t.Privileged, t.Instruction, false, false, false, false, 0).Encode();
        _cbfrsynra = new Cbfrsynra((ushort)t.StreamId, 0).Encode();
        return true;
    }

    private void SetMulti()
    {
        _fsr |= Fsr.MultiBit;
        _smmu.Counters.MultiFaults++;
    }

    /// <summary>CFRE = 1 returns an abort to the master; CFRE = 0 terminates quietly (RAZ/WI) [UNVERIFIED, docs/smmuv2.md §4].</summary>
    private TransactionOutcome TerminateOutcome => _sctlr.Cfre ? TransactionOutcome.Aborted : TransactionOutcome.TerminatedRazWi;

    private void End(in Held held, TransactionOutcome outcome, long now)
    {
        long waited = now - held.Arrived;
        if (waited > _smmu.Counters.LongestHold) _smmu.Counters.LongestHold = waited;
        _smmu.End(held.Transaction, outcome);
    }

    /// <summary>H-SMMUv2-8: a level interrupt; the platform hears of each rising edge.</summary>
    private void UpdateLine()
    {
        bool line = _sctlr.Cfie && (_fsr & Fsr.FaultBits) != 0;
        bool rose = line && !_line;
        _line = line;
        if (rose) _smmu.RaiseContextInterrupt(Index);
    }

    private readonly record struct Held(StallTransaction Transaction, long Arrived);
}
