namespace Faultline.Iommu;

/// <summary>How a ring tells full from empty.</summary>
public enum RingFullRule
{
    /// <summary>Head == tail is empty, so one slot stays unused (VT-d PRQ and QI, AMD logs): full when tail + 1 == head.</summary>
    ReserveOneSlot,
    /// <summary>A wrap bit above the index (SMMUv3): every slot usable; full when indexes match and wrap bits differ.</summary>
    WrapBit,
}

/// <summary>What a ring does when a record finds it full, and after (DESIGN rule 4: one mechanism, three register behaviours).</summary>
public enum RingOverflowMode
{
    /// <summary>A full ring sets a latch that software clears; records are written again as soon as there is room.</summary>
    Latch,
    /// <summary>As <see cref="Latch"/>, but nothing is written while latched, even with room (VT-d PRS.PRO, H-VTD-4; AMD PPR log, H-AMD-2).</summary>
    DiscardWhileLatched,
    /// <summary>
    /// SMMUv3 PROD.OVFLG (bit 31): toggles on a full ring only while it equals CONS.OVACKFLG, so it stays
    /// "different" until software acknowledges by writing CONS with OVACKFLG = OVFLG; records keep being
    /// written whenever there is room (H-SMMU-3, H-SMMU-12, Linux <c>Q_OVF</c>).
    /// </summary>
    ToggleFlag,
}

/// <summary>What became of one record offered to a ring.</summary>
public enum RingWrite
{
    /// <summary>Accepted: the producer moved past the record's slot (written, or reserved for a late write).</summary>
    Written,
    /// <summary>No free slot: not written; the overflow flag is now set (or stays set).</summary>
    Full,
    /// <summary>Not written because the overflow latch is set and the ring discards while latched (H-VTD-4).</summary>
    DiscardedWhileOverflowed,
}

/// <summary>
/// The one ring mechanism behind every IOMMU queue (DESIGN rule 4): a power-of-two array of
/// fixed-size records in memory, a producer and a consumer position, full/empty by
/// <see cref="RingFullRule"/>, and an overflow flag whose behaviour is <see cref="RingOverflowMode"/>.
/// Positions run free (mod 2^32); each architecture reads them through its own register encoding
/// (<see cref="ByteOffset"/>, <see cref="WrapIndex"/>, <see cref="ProducerRegister"/>). The records'
/// layouts belong to the architectures.
/// <para>
/// The overflow state is two flags, one per side, in every mode: overflowed while they differ. A full
/// ring toggles the producer's flag if they were equal; an acknowledgement makes them equal again. In
/// the latch modes the consumer's flag stays clear and the acknowledgement clears the producer's (RW1C);
/// in <see cref="RingOverflowMode.ToggleFlag"/> software copies the producer's into the consumer's.
/// </para>
/// </summary>
public sealed class RingQueue
{
    private readonly byte[] _memory;
    private readonly uint _mask;

    private bool _producerFlag;
    private bool _consumerFlag;

    /// <summary>An empty, not overflowed ring of <paramref name="entries"/> slots (a power of two, at least 2) of <paramref name="entrySize"/> bytes each.</summary>
    public RingQueue(int entries, int entrySize, RingFullRule fullRule, RingOverflowMode overflowMode)
    {
        if (entries < 2 || (entries & (entries - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(entries), entries, "ring size must be a power of two, at least 2");
        if (entrySize < 1) throw new ArgumentOutOfRangeException(nameof(entrySize));
        Entries = entries;
        EntrySize = entrySize;
        FullRule = fullRule;
        OverflowMode = overflowMode;
        _mask = (uint)entries - 1;
        _memory = new byte[entries * entrySize];
    }

    /// <summary>Slots in the ring, a power of two.</summary>
    public int Entries { get; }
    /// <summary>Bytes per record.</summary>
    public int EntrySize { get; }
    /// <summary>How the ring tells full from empty.</summary>
    public RingFullRule FullRule { get; }
    /// <summary>How the overflow flag behaves.</summary>
    public RingOverflowMode OverflowMode { get; }
    /// <summary>The ring's memory: <see cref="Entries"/> × <see cref="EntrySize"/> bytes.</summary>
    public int SizeInBytes => _memory.Length;

    /// <summary>Free-running position of the next record to write.</summary>
    public uint Producer { get; private set; }
    /// <summary>Free-running position of the next record to read.</summary>
    public uint Consumer { get; private set; }

    /// <summary>An overflow happened and is not yet acknowledged (PRO set; OVFLG ≠ OVACKFLG).</summary>
    public bool Overflowed => _producerFlag != _consumerFlag;

    /// <summary>The producer's overflow flag: the latch, or SMMUv3 PROD.OVFLG.</summary>
    public bool ProducerFlag => _producerFlag;

    /// <summary>The consumer's acknowledgement: SMMUv3 CONS.OVACKFLG; always clear in the latch modes.</summary>
    public bool ConsumerFlag => _consumerFlag;
    /// <summary>Records between consumer and producer.</summary>
    public int Count => (int)(Producer - Consumer);
    /// <summary>Records a full ring holds: <see cref="Entries"/> − 1 under <see cref="RingFullRule.ReserveOneSlot"/>, every slot with a wrap bit.</summary>
    public int Capacity => FullRule == RingFullRule.ReserveOneSlot ? Entries - 1 : Entries;
    /// <summary>Producer equals consumer: nothing to read.</summary>
    public bool IsEmpty => Producer == Consumer;
    /// <summary>No free slot: the next record is refused.</summary>
    public bool IsFull => Count == Capacity;
    /// <summary>The most records held at once since the ring was made.</summary>
    public int HighWater { get; private set; }

    /// <summary>Records accepted (written or reserved).</summary>
    public long Written { get; private set; }
    /// <summary>Records refused because the ring was full.</summary>
    public long DiscardedFull { get; private set; }
    /// <summary>Records refused because the overflow latch was set (<see cref="RingOverflowMode.DiscardWhileLatched"/>).</summary>
    public long DiscardedWhileLatched { get; private set; }
    /// <summary>Times the overflow flag was raised (an acknowledged overflow can be raised again).</summary>
    public long Overflows { get; private set; }

    /// <summary>Writes the record into the slot first, then moves the producer (H-VTD-2 write order).</summary>
    public RingWrite TryProduce(ReadOnlySpan<byte> record)
    {
        if (record.Length != EntrySize) throw new ArgumentException($"record is {record.Length} bytes, ring entries are {EntrySize}", nameof(record));
        return Produce(record, write: true);
    }

    /// <summary>
    /// Moves the producer over the next slot without writing it, by the same full and overflow rules:
    /// hardware that advances the tail before its write reaches memory (AMD, H-AMD-3). The record lands
    /// later through <see cref="Memory"/>.
    /// </summary>
    public RingWrite TryReserve() => Produce(default, write: false);

    /// <summary>
    /// The memory of the slot behind <paramref name="position"/>, whatever the positions: what software
    /// reads or clears in place (AMD's zeroed slots, R35) and where a late write lands.
    /// </summary>
    public Span<byte> Memory(uint position) => Slot(position);

    private RingWrite Produce(ReadOnlySpan<byte> record, bool write)
    {
        if (Overflowed && OverflowMode == RingOverflowMode.DiscardWhileLatched)
        {
            DiscardedWhileLatched++;
            return RingWrite.DiscardedWhileOverflowed;
        }
        if (IsFull)
        {
            if (!Overflowed)
            {
                _producerFlag = !_producerFlag; // toggles once; stays until acknowledged
                Overflows++;
            }
            DiscardedFull++;
            return RingWrite.Full;
        }
        if (write) record.CopyTo(Slot(Producer));
        Producer++;
        Written++;
        HighWater = Math.Max(HighWater, Count);
        return RingWrite.Written;
    }

    /// <summary>The record at a position between <see cref="Consumer"/> and <see cref="Producer"/>.</summary>
    public ReadOnlySpan<byte> At(uint position)
    {
        if (position - Consumer >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(position), position, "not between consumer and producer");
        return Slot(position);
    }

    /// <summary>
    /// Whether any record between consumer and producer matches — the scan a drain makes for requests of
    /// one (device, PASID) still queued (R33, H-SMMU-13). The state keeps the scan free of allocations.
    /// </summary>
    public bool AnyPending<TState>(TState state, Func<ReadOnlySpan<byte>, TState, bool> match)
    {
        for (uint position = Consumer; position != Producer; position++)
            if (match(Slot(position), state)) return true;
        return false;
    }

    /// <summary>Moves the consumer to <paramref name="position"/>; false if that is not between consumer and producer.</summary>
    public bool TryConsumeTo(uint position)
    {
        if (position - Consumer > (uint)Count) return false;
        Consumer = position;
        return true;
    }

    /// <summary>Software acknowledges the overflow: clears the latch (RW1C), or copies OVFLG into OVACKFLG.</summary>
    public void ClearOverflow()
    {
        if (OverflowMode == RingOverflowMode.ToggleFlag) _consumerFlag = _producerFlag;
        else _producerFlag = false;
    }

    /// <summary>Bit 31 of the SMMUv3 PROD and CONS registers (OVFLG, OVACKFLG).</summary>
    public const uint OverflowFlagBit = 1u << 31;

    /// <summary>SMMUv3 PROD: index | wrap (bits log2(entries):0) | OVFLG (bit 31).</summary>
    public uint ProducerRegister => WrapIndex(Producer) | (_producerFlag ? OverflowFlagBit : 0);

    /// <summary>SMMUv3 CONS: index | wrap | OVACKFLG (bit 31).</summary>
    public uint ConsumerRegister => WrapIndex(Consumer) | (_consumerFlag ? OverflowFlagBit : 0);

    /// <summary>
    /// Software writes CONS in the SMMUv3 encoding: the index and wrap bits move the consumer (false, and
    /// nothing changes, if they do not lie between consumer and producer), and in
    /// <see cref="RingOverflowMode.ToggleFlag"/> bit 31 becomes OVACKFLG. Other bits are ignored.
    /// </summary>
    public bool TryWriteConsumerRegister(uint value)
    {
        if (!TryPositionFromWrapIndex(value, out uint position)) return false;
        Consumer = position;
        if (OverflowMode == RingOverflowMode.ToggleFlag) _consumerFlag = (value & OverflowFlagBit) != 0;
        return true;
    }

    /// <summary>The free-running position an index|wrap register value stands for, if between consumer and producer.</summary>
    public bool TryPositionFromWrapIndex(uint value, out uint position)
    {
        uint field = (_mask << 1) | 1;
        uint ahead = ((value & field) - WrapIndex(Consumer)) & field;
        position = Consumer + ahead;
        return ahead <= (uint)Count;
    }

    /// <summary>Register view as a byte offset into the ring (VT-d PQH/PQT, IQH/IQT; AMD head/tail).</summary>
    public ulong ByteOffset(uint position) => (ulong)(position & _mask) * (ulong)EntrySize;

    /// <summary>Register view as index plus wrap bit (SMMUv3 PROD/CONS, bits log2(entries):0).</summary>
    public uint WrapIndex(uint position) => position & ((_mask << 1) | 1);

    /// <summary>
    /// The free-running position a consumer register written as a byte offset stands for, if it is
    /// aligned and lies between consumer and producer.
    /// </summary>
    public bool TryPositionFromByteOffset(ulong offset, out uint position)
    {
        position = 0;
        if (offset % (ulong)EntrySize != 0 || offset >= (ulong)SizeInBytes) return false;
        uint slot = (uint)(offset / (ulong)EntrySize);
        uint ahead = (slot - Consumer) & _mask;
        if (ahead > (uint)Count) return false;
        position = Consumer + ahead;
        return true;
    }

    private Span<byte> Slot(uint position) => _memory.AsSpan((int)(position & _mask) * EntrySize, EntrySize);
}
