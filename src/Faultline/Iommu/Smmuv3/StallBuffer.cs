using System.Numerics;
using Faultline.Devices;

namespace Faultline.Iommu.Smmuv3;

/// <summary>
/// The SMMU's shared store of stalled transactions: STALL_MAX slots for all streams (H-SMMU-9). A STAG
/// is the slot number in its low bits and a per-slot generation above, so a resume naming a STAG whose
/// slot was freed and reused does not release the newer transaction. Lookup is O(1); nothing allocates.
/// The generation has 16 − log2(STALL_MAX) bits: none from STALL_MAX 32769 on, where a stale resume can
/// release the slot's newer stall, as it could in any SMMU whose 16-bit STAG space the buffer fills.
/// </summary>
internal sealed class StallBuffer
{
    private readonly Slot[] _slots;
    private readonly int[] _free;
    private readonly int _slotBits;
    private int _freeCount;

    public StallBuffer(int capacity)
    {
        if (capacity is < 1 or > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "STALL_MAX is 1..65535");
        _slots = new Slot[capacity];
        _free = new int[capacity];
        for (int i = 0; i < capacity; i++) _free[i] = capacity - 1 - i; // slot 0 is taken first
        _freeCount = capacity;
        _slotBits = capacity == 1 ? 0 : 32 - BitOperations.LeadingZeroCount((uint)capacity - 1);
    }

    public int Capacity => _slots.Length;
    public int InUse => _slots.Length - _freeCount;
    public int HighWater { get; private set; }

    /// <summary>Takes a free slot and gives it a fresh STAG; false when all STALL_MAX are held.</summary>
    public bool TryAllocate(out int slot, out ushort stag)
    {
        if (_freeCount == 0)
        {
            slot = -1;
            stag = 0;
            return false;
        }
        slot = _free[--_freeCount];
        ref var s = ref _slots[slot];
        s.Generation++;
        stag = (ushort)((s.Generation << _slotBits) | slot);
        s.Stag = stag;
        HighWater = Math.Max(HighWater, InUse);
        return true;
    }

    /// <summary>Puts the transaction in an allocated slot.</summary>
    public void Hold(int slot, in StallTransaction transaction)
    {
        ref var s = ref _slots[slot];
        s.Held = true;
        s.Transaction = transaction;
    }

    public void Release(int slot)
    {
        ref var s = ref _slots[slot];
        s.Held = false;
        s.Transaction = default;
        _free[_freeCount++] = slot;
    }

    /// <summary>The slot holding (StreamID, STAG), if any.</summary>
    public bool TryFind(uint streamId, ushort stag, out int slot)
    {
        slot = stag & ((1 << _slotBits) - 1);
        return slot < _slots.Length && _slots[slot] is { Held: true } s && s.Stag == stag && s.Transaction.StreamId == streamId;
    }

    public bool IsHeld(int slot) => _slots[slot].Held;
    public ref readonly StallTransaction TransactionAt(int slot) => ref _slots[slot].Transaction;
    public ushort StagAt(int slot) => _slots[slot].Stag;

    private struct Slot
    {
        public bool Held;
        public ushort Stag;
        public int Generation;
        public StallTransaction Transaction;
    }
}
