using Faultline.Devices;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Iommu.Smmuv3;

/// <summary>
/// The hardware side of one Arm SMMUv3 (smmuv3.md): ID and control registers, the PRI queue (H-SMMU-1..3),
/// the event queue (H-SMMU-12), the command queue (CMD_PRI_RESP, CMD_RESUME, CMD_STALL_TERM, CMD_SYNC),
/// ATS translation for PCIe functions, and the stall model for platform masters with its shared stall
/// buffer (H-SMMU-5, -6, -9, -11). Streams are set up directly (the STE and CD contents that matter).
/// </summary>
public sealed class Smmuv3Iommu
{
    /// <summary>IDR0.ATS, bit 10.</summary>
    public const uint Idr0Ats = 1 << 10;
    /// <summary>IDR0.PRI, bit 16.</summary>
    public const uint Idr0Pri = 1 << 16;
    /// <summary>IDR0.STALL_MODEL, bits 25:24.</summary>
    public const int Idr0StallModelShift = 24;

    /// <summary>CR0.SMMUEN, bit 0.</summary>
    public const uint Cr0SmmuEnable = 1 << 0;
    /// <summary>CR0.PRIQEN, bit 1.</summary>
    public const uint Cr0PriQueueEnable = 1 << 1;
    /// <summary>CR0.EVENTQEN, bit 2.</summary>
    public const uint Cr0EventQueueEnable = 1 << 2;
    /// <summary>CR0.CMDQEN, bit 3.</summary>
    public const uint Cr0CommandQueueEnable = 1 << 3;

    /// <summary>IRQ_CTRL.GERROR_IRQEN, bit 0.</summary>
    public const uint IrqCtrlGerror = 1 << 0;
    /// <summary>IRQ_CTRL.PRIQ_IRQEN, bit 1.</summary>
    public const uint IrqCtrlPriQueue = 1 << 1;
    /// <summary>IRQ_CTRL.EVENTQ_IRQEN, bit 2.</summary>
    public const uint IrqCtrlEventQueue = 1 << 2;

    /// <summary>C_BAD_STREAMID and C_BAD_SUBSTREAMID (Linux <c>EVT_ID_BAD_STREAMID_CONFIG</c>, <c>EVT_ID_BAD_SUBSTREAMID_CONFIG</c>).</summary>
    public const byte BadStreamIdEvent = 0x02;
    /// <summary>C_BAD_SUBSTREAMID, 0x08: the SubstreamID selects no CD.</summary>
    public const byte BadSubstreamIdEvent = 0x08;

    /// <summary>Event CLASS for a fault on the input address (the stage-1 walk of the transaction itself).</summary>
    private const byte ClassInput = 0b10;

    private readonly ISmmuv3Platform _platform;
    private readonly Dictionary<uint, StreamTableEntry> _streams = new();
    private readonly StallBuffer _stalls;
    private readonly Queue<StallTransaction> _input = new();
    private readonly byte[] _priScratch = new byte[PriQueueEntry.Size];
    private readonly byte[] _eventScratch = new byte[FaultEvent.Size];

    /// <summary>An SMMU with empty PRIQ, EVTQ and CMDQ, a free stall buffer of STALL_MAX slots, no streams, CR0 and IRQ_CTRL clear.</summary>
    public Smmuv3Iommu(Smmuv3Config config, ISmmuv3Platform platform)
    {
        Config = config;
        _platform = platform;
        PriQueue = new RingQueue(config.PriQueueEntries, PriQueueEntry.Size, RingFullRule.WrapBit, RingOverflowMode.ToggleFlag);
        EventQueue = new RingQueue(config.EventQueueEntries, FaultEvent.Size, RingFullRule.WrapBit, RingOverflowMode.ToggleFlag);
        // Software checks for room before writing a command; a full CMDQ refuses the write.
        CommandQueue = new RingQueue(config.CommandQueueEntries, Smmuv3Command.Size, RingFullRule.WrapBit, RingOverflowMode.Latch);
        _stalls = new StallBuffer(config.StallMax);
    }

    /// <summary>The SMMU's configuration.</summary>
    public Smmuv3Config Config { get; }
    /// <summary>The SMMU's name (<see cref="Smmuv3Config.Name"/>).</summary>
    public string Name => Config.Name;
    /// <summary>What the hardware model counted.</summary>
    public Smmuv3Counters Counters { get; } = new();
    /// <summary>The PRI queue: 16-byte entries, a wrap bit, PROD.OVFLG toggling on overflow (H-SMMU-3).</summary>
    public RingQueue PriQueue { get; }
    /// <summary>The event queue: 32-byte records, a wrap bit, PROD.OVFLG toggling on overflow (H-SMMU-12).</summary>
    public RingQueue EventQueue { get; }
    /// <summary>The command queue: 16-byte commands software writes at CMDQ_PROD.</summary>
    public RingQueue CommandQueue { get; }

    /// <summary>IDR0: ATS 10, PRI 16, STALL_MODEL 25:24.</summary>
    public uint Idr0 => (Config.AtsSupported ? Idr0Ats : 0) | (Config.PriSupported ? Idr0Pri : 0) | ((uint)Config.StallModel << Idr0StallModelShift);

    /// <summary>IDR1: CMDQS 25:21, EVENTQS 20:16, PRIQS 15:11.</summary>
    public uint Idr1 => ((uint)Config.CommandQueueShift << 21) | ((uint)Config.EventQueueShift << 16) | ((uint)Config.PriQueueShift << 11);

    /// <summary>IDR5: STALL_MAX 31:16.</summary>
    public uint Idr5 => (uint)Config.StallMax << 16;

    /// <summary>CR0: SMMUEN, PRIQEN, EVENTQEN and CMDQEN as last written.</summary>
    public uint Cr0 { get; private set; }

    /// <summary>CR0ACK follows CR0 at once: the model has no enable latency.</summary>
    public uint Cr0Ack => Cr0;

    /// <summary>IRQ_CTRL: the GERROR, PRIQ and EVENTQ interrupt enables.</summary>
    public uint IrqCtrl { get; private set; }

    /// <summary>Writes CR0; PRIQEN sticks only with IDR0.PRI (H-SMMU-1).</summary>
    public void WriteCr0(uint value)
    {
        if (!Config.PriSupported) value &= ~Cr0PriQueueEnable;
        Cr0 = value & (Cr0SmmuEnable | Cr0PriQueueEnable | Cr0EventQueueEnable | Cr0CommandQueueEnable);
    }

    /// <summary>Writes IRQ_CTRL; bits other than the three enables are dropped.</summary>
    public void WriteIrqCtrl(uint value) => IrqCtrl = value & (IrqCtrlGerror | IrqCtrlPriQueue | IrqCtrlEventQueue);

    private bool Enabled(uint bit) => (Cr0 & bit) != 0;

    // Register page 1: the queues' PROD and CONS in the SMMUv3 encoding (index | wrap | bit 31 flag).
    /// <summary>PRIQ_PROD: index | wrap | OVFLG (bit 31).</summary>
    public uint PriQueueProducer => PriQueue.ProducerRegister;
    /// <summary>PRIQ_CONS: index | wrap | OVACKFLG (bit 31).</summary>
    public uint PriQueueConsumer => PriQueue.ConsumerRegister;
    /// <summary>Software writes PRIQ_CONS; false, and nothing changes, if index and wrap do not lie between CONS and PROD.</summary>
    public bool WritePriQueueConsumer(uint value) => PriQueue.TryWriteConsumerRegister(value);
    /// <summary>EVENTQ_PROD: index | wrap | OVFLG (bit 31).</summary>
    public uint EventQueueProducer => EventQueue.ProducerRegister;
    /// <summary>EVENTQ_CONS: index | wrap | OVACKFLG (bit 31).</summary>
    public uint EventQueueConsumer => EventQueue.ConsumerRegister;
    /// <summary>Software writes EVENTQ_CONS; false, and nothing changes, if index and wrap do not lie between CONS and PROD.</summary>
    public bool WriteEventQueueConsumer(uint value) => EventQueue.TryWriteConsumerRegister(value);

    /// <summary>Software reads the PRIQ entry at an index|wrap register value between CONS and PROD.</summary>
    public ReadOnlySpan<byte> ReadPriQueue(uint index) => Read(PriQueue, index);

    /// <summary>Software reads the event at an index|wrap register value between CONS and PROD.</summary>
    public ReadOnlySpan<byte> ReadEventQueue(uint index) => Read(EventQueue, index);

    private static ReadOnlySpan<byte> Read(RingQueue ring, uint index) =>
        ring.TryPositionFromWrapIndex(index, out uint position) && position != ring.Producer
            ? ring.At(position)
            : throw new ArgumentOutOfRangeException(nameof(index), index, "no entry there");

    // ---- Stream table -------------------------------------------------------------------------

    /// <summary>The STE of a PCIe function: StreamID = requester id, ATS and PRI allowed; returns its CD (PASID) table.</summary>
    public IPasidTable SetPciStream(RequesterId requester)
    {
        var entry = new StreamTableEntry(isPci: true, new StallStreamConfig { Stall = false });
        _streams[requester.Value] = entry;
        return entry;
    }

    /// <summary>The STE and CD of a platform master (H-SMMU-10: not PCIe). Returns its CD table.</summary>
    public IPasidTable SetStallStream(uint streamId, StallStreamConfig config)
    {
        if (Config.StallModel == StallModel.StallForced && (!config.Stall || config.StallDisabled))
            throw new ArgumentException("STALL_MODEL 0b10 (stall forced): CD.S = 0 or STE.S1STALLD = 1 is illegal", nameof(config));
        _streams.TryGetValue(streamId, out var old);
        var entry = new StreamTableEntry(isPci: false, config) { Stalled = old?.Stalled ?? 0 };
        _streams[streamId] = entry;
        return entry;
    }

    /// <summary>Whether <paramref name="streamId"/> has an STE (PCIe function or platform master).</summary>
    public bool HasStream(uint streamId) => _streams.ContainsKey(streamId);

    /// <summary>
    /// STE.S1STALLD of a platform stream: with it set, new faults of the stream are recorded and terminated
    /// instead of stalled (what a driver uses to enforce a per-owner stall budget, POL-12). False for an
    /// unknown stream, and under STALL_MODEL = stall forced, where the field cannot turn stalling off.
    /// </summary>
    public bool SetStallDisabled(uint streamId, bool disabled)
    {
        if (Config.StallModel == StallModel.StallForced || !_streams.TryGetValue(streamId, out var entry) || entry.IsPci) return false;
        entry.Config = entry.Config with { StallDisabled = disabled };
        return true;
    }

    /// <summary>STE.S1STALLD of the stream; false for an unknown stream.</summary>
    public bool StallDisabled(uint streamId) => _streams.TryGetValue(streamId, out var entry) && entry.Config.StallDisabled;

    /// <summary>Transactions of <paramref name="streamId"/> held in the stall buffer now.</summary>
    public int StalledCount(uint streamId) => _streams.TryGetValue(streamId, out var entry) ? entry.Stalled : 0;

    // ---- PCIe: ATS and PRI -------------------------------------------------------------------

    /// <summary>The ATS translation agent for PCIe functions (pcie.md §1 step 2), as VT-d's.</summary>
    public TranslationCompletion Translate(in TranslationRequest request)
    {
        Counters.TranslationRequests++;
        return Config.AtsSupported && _streams.TryGetValue(request.Requester.Value, out var entry) && entry.IsPci
            ? entry.Translate(request)
            : TranslationCompletion.Unsupported(request.Tag);
    }

    /// <summary>A Page Request message arrives (H-SMMU-1..3). Null when refused at the gate.</summary>
    public RingWrite? OnPageRequest(in PageRequest request)
    {
        Counters.PageRequestsReceived++;
        uint streamId = request.Requester.Value;
        if (!Config.PriSupported || !Enabled(Cr0PriQueueEnable) || !_streams.TryGetValue(streamId, out var entry) || !entry.IsPci)
        {
            // H-SMMU-1: no entry. [UNVERIFIED] default, as VT-d's H-VTD-1: a last request is answered Invalid Request.
            Counters.RefusedAtGate++;
            AutoRespond(request, ResponseCode.InvalidRequest);
            return null;
        }

        PriQueueEntry.From(request, streamId).Encode(_priScratch);
        bool wasEmpty = PriQueue.IsEmpty;
        long overflows = PriQueue.Overflows;
        var write = PriQueue.TryProduce(_priScratch);
        if (write == RingWrite.Written)
        {
            Counters.PriEntries++;
            if (wasEmpty) RaisePriQueueInterrupt();
            return write;
        }
        // H-SMMU-3: discarded; OVFLG toggled if it equalled OVACKFLG.
        Counters.PriDiscarded++;
        if (PriQueue.Overflows != overflows) RaisePriQueueInterrupt();
        if (Config.DiscardAutoResponse == DiscardAutoResponse.Success) AutoRespond(request, ResponseCode.Success);
        return write;
    }

    // ---- Command queue ------------------------------------------------------------------------

    /// <summary>Software writes one command at CMDQ_PROD; false if the queue is full.</summary>
    public bool SubmitCommand(ReadOnlySpan<byte> command)
    {
        if (CommandQueue.TryProduce(command) != RingWrite.Written) return false;
        _platform.CommandQueued(this);
        return true;
    }

    /// <summary>
    /// The SMMU consumes commands from CMDQ_CONS to CMDQ_PROD, in order, while CMDQEN is set. A malformed
    /// or unknown command is a CERROR: counted and skipped, never executed (Linux would find CONS stopped
    /// at it and replace it with a CMD_SYNC; the outcome for the rest of the queue is the same).
    /// </summary>
    public void ProcessCommandQueue(long now)
    {
        var queue = CommandQueue;
        while (Enabled(Cr0CommandQueueEnable) && !queue.IsEmpty)
        {
            Counters.Commands++;
            Execute(queue.At(queue.Consumer), now);
            queue.TryConsumeTo(queue.Consumer + 1);
        }
        DrainInput(now);
    }

    private void Execute(ReadOnlySpan<byte> bytes, long now)
    {
        switch (Smmuv3Command.OpcodeOf(bytes).Value)
        {
            case Smmuv3Command.PriResponseOpcode:
            {
                var decoded = PriResponseCommand.Decode(bytes);
                if (!decoded.IsOk || !_streams.TryGetValue(decoded.Value.StreamId, out var entry) || !entry.IsPci)
                {
                    Counters.CommandErrors++;
                    return;
                }
                var c = decoded.Value;
                // The PASID prefix goes out iff SSV.
                Send(new PrgResponse(new RequesterId((ushort)c.StreamId), c.Index, c.Code, c.SubstreamValid ? c.SubstreamId : null));
                return;
            }
            case Smmuv3Command.ResumeOpcode:
            {
                var decoded = ResumeCommand.Decode(bytes);
                if (!decoded.IsOk)
                {
                    Counters.CommandErrors++;
                    return;
                }
                Resume(decoded.Value, now);
                return;
            }
            case Smmuv3Command.StallTerminateOpcode:
            {
                var decoded = StallTerminateCommand.Decode(bytes);
                if (!decoded.IsOk)
                {
                    Counters.CommandErrors++;
                    return;
                }
                TerminateStalls(decoded.Value.StreamId, now);
                return;
            }
            case Smmuv3Command.SyncOpcode:
                // H-SMMU-8: a barrier for the commands before it; it does not wait for resumed transactions to finish.
                if (!SyncCommand.Decode(bytes).IsOk)
                {
                    Counters.CommandErrors++;
                    return;
                }
                Counters.Syncs++;
                return;
            default:
                Counters.CommandErrors++;
                return;
        }
    }

    // ---- Stall model --------------------------------------------------------------------------

    /// <summary>Stalled transactions held now, of all streams (H-SMMU-9).</summary>
    public int StallsInUse => _stalls.InUse;
    /// <summary>The most stalled transactions held at once (H-SMMU-9).</summary>
    public int StallHighWater => _stalls.HighWater;

    /// <summary>Transactions waiting at the input for a stall slot (back-pressure, H-SMMU-9), with those stuck behind them.</summary>
    public int WaitingTransactions => _input.Count;

    /// <summary>The STAGs held for <paramref name="streamId"/>, oldest slot first (for checks and teardown).</summary>
    public IEnumerable<ushort> StallTags(uint streamId)
    {
        for (int slot = 0; slot < _stalls.Capacity; slot++)
            if (_stalls.IsHeld(slot) && _stalls.TransactionAt(slot).StreamId == streamId) yield return _stalls.StagAt(slot);
    }

    /// <summary>
    /// A platform master's transaction arrives. While transactions wait at the input for a stall slot,
    /// it queues behind them: back-pressure blocks the SMMU's input for every master (H-SMMU-9).
    /// </summary>
    public void OnTransaction(in StallTransaction transaction, long now)
    {
        Counters.Transactions++;
        if (_input.Count > 0 || !Admit(transaction, now))
        {
            Counters.BackPressured++;
            _input.Enqueue(transaction);
        }
    }

    /// <summary>Translates one transaction; false when it must wait for a stall slot (BackPressure).</summary>
    private bool Admit(in StallTransaction t, long now)
    {
        if (!Enabled(Cr0SmmuEnable))
        {
            Complete(t, TransactionOutcome.Completed, now); // SMMUEN = 0: bypass
            return true;
        }
        if (!_streams.TryGetValue(t.StreamId, out var entry) || entry.IsPci)
        {
            ConfigurationError(t, BadStreamIdEvent, now);
            return true;
        }
        if (!entry.TryGet(t.SubstreamId ?? 0, out var table))
        {
            ConfigurationError(t, BadSubstreamIdEvent, now);
            return true;
        }
        var translation = table.Translate(t.Address);
        byte fault = !translation.Present ? FaultEvent.TranslationFault
            : !Permits(translation, t) ? FaultEvent.PermissionFault
            : (byte)0;
        if (fault == 0)
        {
            Complete(t, TransactionOutcome.Completed, now);
            return true;
        }

        var config = entry.Config;
        if (!MayStall(config))
        {
            if (config.Record) RecordEvent(t, fault, stall: false, 0);
            Counters.FaultsTerminated++;
            Complete(t, Termination(config), now);
            return true;
        }
        if (!_stalls.TryAllocate(out int slot, out ushort stag))
        {
            if (Config.WhenStallBufferFull == StallBufferFullMode.BackPressure) return false;
            Counters.AbortedAtFull++;
            RecordEvent(t, fault, stall: false, 0);
            Complete(t, TransactionOutcome.Aborted, now);
            return true;
        }
        if (!RecordEvent(t, fault, stall: true, stag))
        {
            // H-SMMU-12 default: no transaction waits for an event nobody can see.
            _stalls.Release(slot);
            Counters.UnrecordedStallsAborted++;
            Complete(t, TransactionOutcome.Aborted, now);
            return true;
        }
        _stalls.Hold(slot, t); // held until software resumes or terminates it: no architected timeout (H-SMMU-11)
        entry.Stalled++;
        Counters.Stalls++;
        _platform.StallOccupancyChanged(this, _stalls.InUse, now);
        return true;
    }

    /// <summary>H-SMMU-5: stall model supported, CD.S = 1, STE.S1STALLD = 0, and CD.R = 1.</summary>
    private bool MayStall(StallStreamConfig config) =>
        Config.StallModel != StallModel.TerminateOnly && config.Stall && !config.StallDisabled && config.Record;

    private static bool Permits(Translation translation, in StallTransaction t) =>
        t.Write ? translation.Write : t.Instruction ? translation.Execute : translation.Read;

    private static TransactionOutcome Termination(StallStreamConfig config) =>
        config.AbortOnTerminate ? TransactionOutcome.Aborted : TransactionOutcome.TerminatedRazWi;

    private void ConfigurationError(in StallTransaction t, byte eventId, long now)
    {
        // H-SMMU-5: configuration errors are recorded, never stalled.
        Counters.ConfigurationErrors++;
        RecordEvent(t, eventId, stall: false, 0);
        Complete(t, TransactionOutcome.Aborted, now);
    }

    private void Resume(in ResumeCommand command, long now)
    {
        if (!_stalls.TryFind(command.StreamId, command.StallTag, out int slot))
        {
            Counters.UnknownResumes++;
            return;
        }
        var t = _stalls.TransactionAt(slot);
        var config = _streams[t.StreamId].Config;
        ReleaseStall(slot, now);
        switch (command.Action)
        {
            case ResumeAction.Retry:
                // H-SMMU-6: translated again; a fault stalls anew with a new STAG (the slot just freed is there).
                Counters.ResumedRetry++;
                if (!Admit(t, now))
                {
                    Counters.BackPressured++;
                    _input.Enqueue(t);
                }
                return;
            case ResumeAction.Abort:
                Counters.ResumedAbort++;
                Complete(t, TransactionOutcome.Aborted, now);
                return;
            default:
                Counters.ResumedTerminate++;
                Complete(t, Termination(config), now);
                return;
        }
    }

    /// <summary>CMD_STALL_TERM: every stall of the stream ends per CD.A (H-SMMU-6, H-SMMU-13).</summary>
    private void TerminateStalls(uint streamId, long now)
    {
        if (!_streams.TryGetValue(streamId, out var entry)) return;
        for (int slot = 0; slot < _stalls.Capacity; slot++)
        {
            if (!_stalls.IsHeld(slot) || _stalls.TransactionAt(slot).StreamId != streamId) continue;
            var t = _stalls.TransactionAt(slot);
            ReleaseStall(slot, now);
            Counters.StallTerminated++;
            Complete(t, Termination(entry.Config), now);
        }
    }

    private void ReleaseStall(int slot, long now)
    {
        _streams[_stalls.TransactionAt(slot).StreamId].Stalled--;
        _stalls.Release(slot);
        _platform.StallOccupancyChanged(this, _stalls.InUse, now);
    }

    /// <summary>Admits waiting transactions, in order, until one needs a slot that is not there.</summary>
    private void DrainInput(long now)
    {
        while (_input.TryPeek(out var t) && Admit(t, now)) _input.Dequeue();
    }

    private bool RecordEvent(in StallTransaction t, byte eventId, bool stall, ushort stag)
    {
        if (!Enabled(Cr0EventQueueEnable))
        {
            Counters.EventsLost++;
            return false;
        }
        new FaultEvent(eventId, t.StreamId, t.SubstreamId.HasValue, new Pasid(t.SubstreamId ?? 0), stag, stall,
            PnU: t.Privileged, InD: t.Instruction, RnW: !t.Write, S2: false, ClassInput, t.Address, 0).Encode(_eventScratch);
        bool wasEmpty = EventQueue.IsEmpty;
        long overflows = EventQueue.Overflows;
        if (EventQueue.TryProduce(_eventScratch) == RingWrite.Written)
        {
            Counters.Events++;
            if (wasEmpty) RaiseEventQueueInterrupt();
            return true;
        }
        Counters.EventsLost++; // H-SMMU-12: OVFLG toggled if it equalled OVACKFLG
        if (EventQueue.Overflows != overflows) RaiseEventQueueInterrupt();
        return false;
    }

    private void Complete(in StallTransaction t, TransactionOutcome outcome, long now)
    {
        switch (outcome)
        {
            case TransactionOutcome.Completed: Counters.Completed++; break;
            case TransactionOutcome.Aborted: Counters.Aborted++; break;
            default: Counters.TerminatedRazWi++; break;
        }
        _platform.CompleteTransaction(this, t, outcome, now);
    }

    private void AutoRespond(in PageRequest request, ResponseCode code)
    {
        if (!PrgResponse.TryAutoResponse(request, code, out var response)) return;
        Counters.AutoResponses++;
        Send(response);
    }

    private void Send(in PrgResponse response)
    {
        Counters.PrgResponsesSent++;
        _platform.SendPrgResponse(this, response);
    }

    private void RaisePriQueueInterrupt()
    {
        if ((IrqCtrl & IrqCtrlPriQueue) != 0) _platform.RaisePriQueueInterrupt(this);
    }

    private void RaiseEventQueueInterrupt()
    {
        if ((IrqCtrl & IrqCtrlEventQueue) != 0) _platform.RaiseEventQueueInterrupt(this);
    }

    /// <summary>The STE of one stream with its CD: the fields the fault paths read, and the CD table per SubstreamID.</summary>
    private sealed class StreamTableEntry(bool isPci, StallStreamConfig config) : PasidTable
    {
        public bool IsPci { get; } = isPci;
        public StallStreamConfig Config { get; set; } = config;
        public int Stalled { get; set; }
    }
}
