using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Amd;

/// <summary>
/// The hardware side of one AMD IOMMU for page requests (amd.md): the device table's PPR bit and
/// per-device PASID tables for ATS translation, the peripheral page request (PPR) log with its
/// Control / Status / head / tail registers, and the command buffer that carries
/// COMPLETE_PPR_REQUEST back to functions.
/// <para>
/// The PPR log's memory as software sees it is kept beside the ring: <see cref="RingQueue"/> keeps
/// positions, fullness and the overflow latch, but offers no write to a slot after its producer moved
/// (the late entry write of H-AMD-3) nor a software write to a consumed slot (the erratum-733 zeroing
/// of R35), and both decide what the driver reads.
/// </para>
/// </summary>
public sealed class AmdIommu
{
    /// <summary>Control.PPRLogEn, bit 13: the PPR log is enabled.</summary>
    public const ulong ControlPprLogEn = 1UL << 13;
    /// <summary>Control.PPRIntEn, bit 14: PPR log interrupts are enabled.</summary>
    public const ulong ControlPprIntEn = 1UL << 14;
    /// <summary>Control.PPREn, bit 15: peripheral page requests are accepted.</summary>
    public const ulong ControlPprEn = 1UL << 15;
    /// <summary>EFR.PPRSup, bit 1.</summary>
    public const ulong EfrPprSup = 1UL << 1;
    /// <summary>Status.PPROverflow, bit 5.</summary>
    public const uint StatusPprOverflow = 1 << 5;
    /// <summary>Status.PPRInt, bit 6.</summary>
    public const uint StatusPprInt = 1 << 6;
    /// <summary>Status.PPRLogRun, bit 7.</summary>
    public const uint StatusPprLogRun = 1 << 7;
    /// <summary>PPR log base register bits 59:56: the log length, log2 of the entry count.</summary>
    public const int PprLogLengthShift = 56;
    /// <summary>PPR log base register bits 51:12: the log's base address.</summary>
    public const ulong PprLogBaseMask = ((1UL << 52) - 1) & ~0xFFFUL;

    private readonly IAmdPlatform _platform;
    private readonly Dictionary<RequesterId, DeviceTableEntry> _deviceTable = new();
    private readonly byte[] _scratch = new byte[PprLogEntry.Size];
    private readonly Queue<PendingWrite> _pendingWrites;
    private bool _interruptAsserted;

    /// <summary>An IOMMU with an empty PPR log and command buffer, Control clear (the log stopped), and an empty device table.</summary>
    public AmdIommu(AmdConfig config, IAmdPlatform platform)
    {
        Config = config;
        _platform = platform;
        PprLog = new RingQueue(config.PprLogEntries, PprLogEntry.Size, RingFullRule.ReserveOneSlot, RingOverflowMode.DiscardWhileLatched);
        CommandBuffer = new RingQueue(config.CommandBufferEntries, CompletePprRequestCommand.Size, RingFullRule.ReserveOneSlot, RingOverflowMode.Latch);
        _pendingWrites = new Queue<PendingWrite>(config.InterruptPrecedesEntryBy is null ? 0 : config.PprLogEntries);
        PprLogBase = (ulong)config.PprLogOrder << PprLogLengthShift;
    }

    /// <summary>The IOMMU's configuration.</summary>
    public AmdConfig Config { get; }
    /// <summary><c>amdvi-&lt;sbdf&gt;</c>: the IOMMU's name in reports, and its IOPF queue's.</summary>
    public string Name => $"amdvi-{Config.Sbdf}";
    /// <summary>What the hardware model counted.</summary>
    public AmdCounters Counters { get; } = new();
    /// <summary>The PPR log: 16-byte entries, one slot kept free, nothing written while PPROverflow is set.</summary>
    public RingQueue PprLog { get; }
    /// <summary>The command buffer: 16-byte commands software writes at the tail.</summary>
    public RingQueue CommandBuffer { get; }

    /// <summary>Control register (0x0018); only the PPR bits are modelled.</summary>
    public ulong Control { get; private set; }

    /// <summary>Extended Feature Register (0x0030).</summary>
    public ulong Efr => Config.PprSupported ? EfrPprSup : 0;

    /// <summary>PPR log base register (0x0038): base 51:12, log2(entries) 59:56.</summary>
    public ulong PprLogBase { get; private set; }

    /// <summary>Status.PPRInt: an entry was logged since software last cleared it (RW1C).</summary>
    public bool PprInt { get; private set; }

    /// <summary>Status.PPRLogRun: the log takes entries (H-AMD-1); cleared by overflow or by PPRLogEn = 0 (H-AMD-2).</summary>
    public bool PprLogRun { get; private set; }

    /// <summary>Status.PPROverflow (RW1C): the overflow latch of the ring.</summary>
    public bool PprOverflow => PprLog.Overflowed;

    /// <summary>Status register (0x2020): PPROverflow 5, PPRInt 6, PPRLogRun 7.</summary>
    public uint Status => (PprOverflow ? StatusPprOverflow : 0) | (PprInt ? StatusPprInt : 0) | (PprLogRun ? StatusPprLogRun : 0);

    /// <summary>PPR log head register (0x2030), a byte offset.</summary>
    public ulong PprHead => PprLog.ByteOffset(PprLog.Consumer);

    /// <summary>PPR log tail register (0x2038), a byte offset.</summary>
    public ulong PprTail => PprLog.ByteOffset(PprLog.Producer);

    /// <summary>Entries whose memory write is still to land (H-AMD-3).</summary>
    public int PendingPprLogWrites => _pendingWrites.Count;

    /// <summary>Sets up the device table entry of a function: its PPR bit (H-AMD-1) and its PASID table.</summary>
    public IPasidTable SetDeviceTableEntry(RequesterId device, bool ppr)
    {
        var entry = new DeviceTableEntry(ppr);
        _deviceTable[device] = entry;
        return entry;
    }

    /// <summary>Whether <paramref name="device"/> has a device table entry.</summary>
    public bool HasDeviceTableEntry(RequesterId device) => _deviceTable.ContainsKey(device);

    /// <summary>The ATS translation agent (pcie.md §1 step 2), through the DTE's PASID table.</summary>
    public TranslationCompletion Translate(in TranslationRequest request)
    {
        Counters.TranslationRequests++;
        return _deviceTable.TryGetValue(request.Requester, out var entry) ? entry.Translate(request) : TranslationCompletion.Unsupported(request.Tag);
    }

    /// <summary>
    /// A Page Request message arrives (H-AMD-1..3). Returns what happened to it: written to the log
    /// (its memory write possibly pending, H-AMD-3), lost to a full log (<see cref="RingWrite.Full"/>,
    /// H-AMD-2), lost while the log is stopped (<see cref="RingWrite.DiscardedWhileOverflowed"/>), or null
    /// when the gate refused it.
    /// </summary>
    public RingWrite? OnPageRequest(in PageRequest request, long now)
    {
        Counters.PageRequestsReceived++;
        if (!Config.PprSupported || (Control & ControlPprEn) == 0
            || !_deviceTable.TryGetValue(request.Requester, out var entry) || !entry.Ppr)
        {
            Counters.RefusedAtGate++;
            Lost(request);
            return null;
        }
        PprLogEntry.From(request).Encode(_scratch);
        var write = Append(_scratch, now);
        if (write != RingWrite.Written) Lost(request);
        return write;
    }

    /// <summary>
    /// Logs an entry given as bytes, as hardware does for what the message model cannot express (other
    /// request types, RVSD): the gate is the caller's business, H-AMD-2 and H-AMD-3 apply.
    /// </summary>
    public RingWrite LogPprEntry(ReadOnlySpan<byte> entry, long now)
    {
        if (entry.Length != PprLogEntry.Size) throw new ArgumentException($"entry is {entry.Length} bytes, PPR log entries are {PprLogEntry.Size}", nameof(entry));
        entry.CopyTo(_scratch);
        return Append(_scratch, now);
    }

    private RingWrite Append(byte[] entry, long now)
    {
        // H-AMD-2: nothing is written while the log is stopped, even after PPROverflow was cleared.
        if ((Control & ControlPprLogEn) == 0 || !PprLogRun)
        {
            Counters.DiscardedWhileStopped++;
            return RingWrite.DiscardedWhileOverflowed;
        }
        uint slot = PprLog.Producer;
        bool late = Config.InterruptPrecedesEntryBy is not null;
        var write = late ? PprLog.TryReserve() : PprLog.TryProduce(entry);
        if (write != RingWrite.Written)
        {
            Counters.DiscardedFull++;
            PprLogRun = false;
            UpdateInterrupt();
            return write;
        }

        Counters.Logged++;
        if (Config.InterruptPrecedesEntryBy is { } delta)
        {
            // H-AMD-3: tail and interrupt first; memory still shows what the slot held before.
            Counters.LateEntryWrites++;
            long due = now + delta;
            _pendingWrites.Enqueue(new PendingWrite(slot, BinaryPrimitives.ReadUInt64LittleEndian(entry),
                BinaryPrimitives.ReadUInt64LittleEndian(entry.AsSpan(8)), due));
            _platform.SchedulePprLogWrite(this, due);
        }
        PprInt = true;
        UpdateInterrupt();
        return write;
    }

    /// <summary>
    /// Whether an entry of (requester, PASID) lies between head and tail, a late write (H-AMD-3) read as what it will
    /// write: the hardware's truth, which software cannot see (for invariant checks; the driver counts an unwritten
    /// slot as anyone's).
    /// </summary>
    public bool LogHolds(RequesterId requester, uint pasid)
    {
        if (PprLog.AnyPending((requester, pasid), static (raw, key) =>
                PprLogEntry.Decode(raw) is { IsOk: true, Value: var e } && e.Concerns(key.requester, key.pasid)))
            return true;
        Span<byte> raw = stackalloc byte[PprLogEntry.Size];
        foreach (var write in _pendingWrites)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(raw, write.Qw0);
            BinaryPrimitives.WriteUInt64LittleEndian(raw[8..], write.Qw1);
            if (PprLogEntry.Decode(raw) is { IsOk: true, Value: var e } && e.Concerns(requester, pasid)) return true;
        }
        return false;
    }

    /// <summary>
    /// H-AMD-3: the late entry writes due by <paramref name="now"/> land in memory, in order, even in a
    /// slot software has consumed meanwhile (Δ is taken to be shorter than a lap of the log).
    /// </summary>
    public int CompletePprLogWrites(long now)
    {
        int landed = 0;
        while (_pendingWrites.TryPeek(out var pending) && pending.Due <= now)
        {
            _pendingWrites.Dequeue();
            var slot = Slot(pending.Slot);
            BinaryPrimitives.WriteUInt64LittleEndian(slot, pending.Qw0);
            BinaryPrimitives.WriteUInt64LittleEndian(slot[8..], pending.Qw1);
            landed++;
        }
        return landed;
    }

    /// <summary>Software reads the 16 bytes of PPR log memory at a byte offset (what is there, written or not).</summary>
    public ReadOnlySpan<byte> ReadPprLog(ulong offset) => SlotAt(offset);

    /// <summary>Software clears a consumed entry to zero (R35's erratum-733 workaround; not done with SNP).</summary>
    public void ZeroPprLogEntry(ulong offset) => SlotAt(offset).Clear();

    /// <summary>Software writes the head register; false if misaligned or outside head..tail.</summary>
    public bool WritePprHead(ulong value) =>
        PprLog.TryPositionFromByteOffset(value, out uint position) && PprLog.TryConsumeTo(position);

    /// <summary>
    /// Software writes the tail register. Only the value it already holds is accepted: the model's ring
    /// starts empty and positions only move by production (Linux writes 0 at enable, amd.md §1).
    /// </summary>
    public bool WritePprTail(ulong value) => value == PprTail;

    /// <summary>Software writes the PPR log base register; false if the length is not the log's configured one.</summary>
    public bool WritePprLogBase(ulong value)
    {
        if ((int)((value >> PprLogLengthShift) & 0xF) != Config.PprLogOrder) return false;
        PprLogBase = value & (PprLogBaseMask | (0xFUL << PprLogLengthShift));
        return true;
    }

    /// <summary>
    /// Control register write. PPRLogEn 0→1 starts the log (PPRLogRun = 1) unless PPROverflow is still
    /// set; PPRLogEn 1→0 stops it (H-AMD-2). Setting PPRIntEn with PPRInt or PPROverflow pending fires.
    /// </summary>
    public void WriteControl(ulong value)
    {
        ulong old = Control;
        Control = value & (ControlPprLogEn | ControlPprIntEn | ControlPprEn);
        bool logEnabled = (Control & ControlPprLogEn) != 0;
        if (logEnabled && (old & ControlPprLogEn) == 0 && !PprOverflow) PprLogRun = true;
        if (!logEnabled) PprLogRun = false;
        UpdateInterrupt();
    }

    /// <summary>Status is RW1C for PPROverflow and PPRInt; PPRLogRun is read-only.</summary>
    public void WriteStatus(uint value)
    {
        if ((value & StatusPprInt) != 0) PprInt = false;
        if ((value & StatusPprOverflow) != 0) PprLog.ClearOverflow();
        UpdateInterrupt();
    }

    /// <summary>Software submits one 16-byte command at the command buffer tail; false if the buffer is full.</summary>
    public bool SubmitCommand(ReadOnlySpan<byte> command)
    {
        if (CommandBuffer.TryProduce(command) != RingWrite.Written) return false;
        _platform.CommandQueued(this);
        return true;
    }

    /// <summary>The hardware fetches and executes commands from head to tail, in order.</summary>
    public void ProcessCommandBuffer()
    {
        var buffer = CommandBuffer;
        while (!buffer.IsEmpty)
        {
            Execute(buffer.At(buffer.Consumer));
            buffer.TryConsumeTo(buffer.Consumer + 1);
        }
    }

    private void Execute(ReadOnlySpan<byte> command)
    {
        Counters.Commands++;
        if (BinaryPrimitives.ReadUInt32LittleEndian(command[4..]) >> 28 != CompletePprRequestCommand.Opcode)
        {
            Counters.OtherCommands++;
            return;
        }
        var decoded = CompletePprRequestCommand.Decode(command);
        if (!decoded.IsOk)
        {
            Counters.IllegalCommands++; // reserved bits set (QEMU checks them): not executed
            return;
        }
        var c = decoded.Value;
        // H-AMD-5: the PASID prefix goes out iff GN; the status's four bits go out as they are.
        Send(new PrgResponse(c.DeviceId, c.Index, c.Status, c.Gn ? c.Pasid : null));
    }

    private void Lost(in PageRequest request)
    {
        if (Config.LostRequestAutoResponse is not { } code || !PrgResponse.TryAutoResponse(request, code, out var response)) return;
        Counters.AutoResponses++;
        Send(response);
    }

    private void Send(in PrgResponse response)
    {
        Counters.PrgResponsesSent++;
        _platform.SendPrgResponse(this, response);
    }

    /// <summary>The interrupt is signalled when PPRIntEn ∧ (PPRInt ∨ PPROverflow) becomes true.</summary>
    private void UpdateInterrupt()
    {
        bool asserted = (Control & ControlPprIntEn) != 0 && (PprInt || PprOverflow);
        bool rising = asserted && !_interruptAsserted;
        _interruptAsserted = asserted;
        if (!rising) return;
        Counters.Interrupts++;
        _platform.RaisePprInterrupt(this);
    }

    private Span<byte> Slot(uint position) => PprLog.Memory(position);

    private Span<byte> SlotAt(ulong offset) =>
        offset % PprLogEntry.Size == 0 && offset < (ulong)PprLog.SizeInBytes
            ? PprLog.Memory((uint)(offset / PprLogEntry.Size))
            : throw new ArgumentOutOfRangeException(nameof(offset), offset, "not an entry of the PPR log");

    private readonly record struct PendingWrite(uint Slot, ulong Qw0, ulong Qw1, long Due);

    private sealed class DeviceTableEntry(bool ppr) : PasidTable
    {
        public bool Ppr { get; } = ppr;
    }
}
