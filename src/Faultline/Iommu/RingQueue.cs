namespace Faultline.Iommu;

/// <summary>How a ring tells full from empty.</summary>
public enum RingFullRule
{
    /// <summary>Head == tail is empty, so one slot stays unused (VT-d PRQ and QI, AMD logs): full when tail + 1 == head.</summary>
    ReserveOneSlot,
    /// <summary>A wrap bit above the index (SMMUv3): every slot usable; full when indexes match and wrap bits differ.</summary>
    WrapBit,
}

public enum RingWrite
{
    Written,
    /// <summary>No free slot: not written; the overflow latch is now set.</summary>
    Full,
    /// <summary>Not written because the overflow latch is set and the ring discards while latched (H-VTD-4).</summary>
    DiscardedWhileOverflowed,
}

/// <summary>
/// The one ring mechanism behind every IOMMU queue (DESIGN rule 4): a power-of-two array of
/// fixed-size records in memory, a producer and a consumer position, full/empty by
/// <see cref="RingFullRule"/>, and an overflow latch. Positions run free (mod 2^32); each
/// architecture reads them through its own register encoding (<see cref="ByteOffset"/>,
/// <see cref="WrapIndex"/>). The records' layouts belong to the architectures.
/// </summary>
public sealed class RingQueue
{
    private readonly byte[] _memory;
    private readonly uint _mask;

    public RingQueue(int entries, int entrySize, RingFullRule fullRule, bool discardWhileOverflowed)
    {
        if (entries < 2 || (entries & (entries - 1)) != 0) throw new ArgumentOutOfRangeException(nameof(entries), entries, "ring size must be a power of two, at least 2");
        if (entrySize < 1) throw new ArgumentOutOfRangeException(nameof(entrySize));
        Entries = entries;
        EntrySize = entrySize;
        FullRule = fullRule;
        DiscardWhileOverflowed = discardWhileOverflowed;
        _mask = (uint)entries - 1;
        _memory = new byte[entries * entrySize];
    }

    public int Entries { get; }
    public int EntrySize { get; }
    public RingFullRule FullRule { get; }
    public bool DiscardWhileOverflowed { get; }
    public int SizeInBytes => _memory.Length;

    /// <summary>Free-running position of the next record to write.</summary>
    public uint Producer { get; private set; }
    /// <summary>Free-running position of the next record to read.</summary>
    public uint Consumer { get; private set; }

    public bool Overflowed { get; private set; }
    public int Count => (int)(Producer - Consumer);
    public int Capacity => FullRule == RingFullRule.ReserveOneSlot ? Entries - 1 : Entries;
    public bool IsEmpty => Producer == Consumer;
    public bool IsFull => Count == Capacity;
    public int HighWater { get; private set; }

    public long Written { get; private set; }
    public long DiscardedFull { get; private set; }
    public long DiscardedWhileLatched { get; private set; }

    /// <summary>Writes the record into the slot first, then moves the producer (H-VTD-2 write order).</summary>
    public RingWrite TryProduce(ReadOnlySpan<byte> record)
    {
        if (record.Length != EntrySize) throw new ArgumentException($"record is {record.Length} bytes, ring entries are {EntrySize}", nameof(record));
        if (Overflowed && DiscardWhileOverflowed)
        {
            DiscardedWhileLatched++;
            return RingWrite.DiscardedWhileOverflowed;
        }
        if (IsFull)
        {
            Overflowed = true;
            DiscardedFull++;
            return RingWrite.Full;
        }
        record.CopyTo(Slot(Producer));
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

    /// <summary>Moves the consumer to <paramref name="position"/>; false if that is not between consumer and producer.</summary>
    public bool TryConsumeTo(uint position)
    {
        if (position - Consumer > (uint)Count) return false;
        Consumer = position;
        return true;
    }

    public void ClearOverflow() => Overflowed = false;

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
