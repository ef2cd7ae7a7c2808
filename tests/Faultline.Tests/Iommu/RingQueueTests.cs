using Faultline.Iommu;

namespace Faultline.Tests.Iommu;

public sealed class RingQueueTests
{
    private const int RecordSize = 4;

    private static byte[] Record(uint value) => BitConverter.GetBytes(value);

    private static RingQueue Ring(int entries = 8, RingFullRule rule = RingFullRule.ReserveOneSlot, RingOverflowMode mode = RingOverflowMode.DiscardWhileLatched) =>
        new(entries, RecordSize, rule, mode);

    private static void Produce(RingQueue ring, int count)
    {
        for (int i = 0; i < count; i++) Assert.Equal(RingWrite.Written, ring.TryProduce(Record(ring.Producer)));
    }

    [Fact]
    public void H_VTD_3_reserve_one_slot_ring_holds_entries_minus_one()
    {
        var ring = Ring(8);
        Assert.Equal(7, ring.Capacity);
        Assert.True(ring.IsEmpty);
        Produce(ring, 7);
        Assert.True(ring.IsFull);
        Assert.False(ring.IsEmpty);
        Assert.Equal(7, ring.Count);
        Assert.Equal(RingWrite.Full, ring.TryProduce(Record(99)));
        Assert.Equal(7, ring.Count);
    }

    [Fact]
    public void SMMUV3_1_wrap_bit_ring_uses_every_slot()
    {
        var ring = Ring(8, RingFullRule.WrapBit);
        Assert.Equal(8, ring.Capacity);
        Produce(ring, 8);
        Assert.True(ring.IsFull);
        // Full: same slot, different wrap bit.
        Assert.Equal(ring.ByteOffset(ring.Consumer), ring.ByteOffset(ring.Producer));
        Assert.Equal(8u, ring.WrapIndex(ring.Producer) ^ ring.WrapIndex(ring.Consumer));
        Assert.Equal(RingWrite.Full, ring.TryProduce(Record(99)));
        Assert.True(ring.TryConsumeTo(ring.Producer));
        Assert.True(ring.IsEmpty);
        Assert.Equal(ring.WrapIndex(ring.Consumer), ring.WrapIndex(ring.Producer));
    }

    [Fact]
    public void H_VTD_2_record_is_in_memory_at_the_position_the_producer_passed()
    {
        var ring = Ring(4);
        for (uint i = 0; i < 20; i++)
        {
            uint before = ring.Producer;
            Assert.Equal(RingWrite.Written, ring.TryProduce(Record(0xA000 + i)));
            Assert.Equal(before + 1, ring.Producer);
            Assert.Equal(Record(0xA000 + i), ring.At(before).ToArray());
            Assert.True(ring.TryConsumeTo(ring.Producer));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => ring.At(ring.Producer).ToArray());
    }

    [Fact]
    public void H_VTD_3_full_ring_latches_overflow()
    {
        var ring = Ring(8, mode: RingOverflowMode.Latch);
        Produce(ring, 7);
        Assert.False(ring.Overflowed);
        Assert.Equal(RingWrite.Full, ring.TryProduce(Record(99)));
        Assert.True(ring.Overflowed);
        Assert.Equal(1, ring.DiscardedFull);
        Assert.Equal(7, ring.Written);
        // Without discard-while-latched, freed space is used again but the latch stays until cleared.
        Assert.True(ring.TryConsumeTo(ring.Consumer + 1));
        Assert.Equal(RingWrite.Written, ring.TryProduce(Record(100)));
        Assert.True(ring.Overflowed);
        ring.ClearOverflow();
        Assert.False(ring.Overflowed);
    }

    [Fact]
    public void H_VTD_4_latched_ring_discards_even_after_space_is_freed()
    {
        var ring = Ring(8, mode: RingOverflowMode.DiscardWhileLatched);
        Produce(ring, 7);
        Assert.Equal(RingWrite.Full, ring.TryProduce(Record(99)));
        Assert.True(ring.TryConsumeTo(ring.Producer));
        Assert.True(ring.IsEmpty);
        uint producer = ring.Producer;
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, ring.TryProduce(Record(100)));
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, ring.TryProduce(Record(101)));
        Assert.Equal(producer, ring.Producer);
        Assert.Equal(2, ring.DiscardedWhileLatched);
        Assert.Equal(1, ring.DiscardedFull);
        ring.ClearOverflow();
        Assert.Equal(RingWrite.Written, ring.TryProduce(Record(102)));
        Assert.Equal(Record(102), ring.At(producer).ToArray());
    }

    [Fact]
    public void H_VTD_7_register_encodings_follow_positions_across_many_wraps()
    {
        var bytes = Ring(8, RingFullRule.ReserveOneSlot);
        var wrap = Ring(8, RingFullRule.WrapBit);
        var random = new Random(7);
        long produced = 0;
        for (int cycle = 0; cycle < 1000; cycle++)
        {
            int batch = random.Next(1, 8);
            Produce(bytes, batch);
            Produce(wrap, batch);
            produced += batch;
            Assert.Equal((ulong)(produced % 8) * RecordSize, bytes.ByteOffset(bytes.Producer));
            Assert.Equal((uint)(produced % 16), wrap.WrapIndex(wrap.Producer));
            Assert.True(bytes.TryConsumeTo(bytes.Producer));
            Assert.True(wrap.TryConsumeTo(wrap.Producer));
            Assert.Equal((ulong)(produced % 8) * RecordSize, bytes.ByteOffset(bytes.Consumer));
            Assert.Equal((uint)(produced % 16), wrap.WrapIndex(wrap.Consumer));
        }
        Assert.Equal(produced, bytes.Written);
        Assert.True(produced > 16 * 8);
    }

    [Fact]
    public void H_VTD_7_byte_offset_register_maps_back_to_positions_between_consumer_and_producer()
    {
        var ring = new RingQueue(8, 32, RingFullRule.ReserveOneSlot, RingOverflowMode.DiscardWhileLatched);
        var record = new byte[32];
        for (int i = 0; i < 6; i++) ring.TryProduce(record);
        Assert.True(ring.TryConsumeTo(6));
        for (int i = 0; i < 4; i++) ring.TryProduce(record);
        // Consumer = 6 (slot 6), producer = 10 (slot 2): valid slots 6, 7, 0, 1 and the producer's 2.
        Assert.True(ring.TryPositionFromByteOffset(6 * 32, out uint p) && p == 6);
        Assert.True(ring.TryPositionFromByteOffset(1 * 32, out p) && p == 9);
        Assert.True(ring.TryPositionFromByteOffset(2 * 32, out p) && p == 10);
        Assert.False(ring.TryPositionFromByteOffset(3 * 32, out _), "beyond the producer");
        Assert.False(ring.TryPositionFromByteOffset(5 * 32, out _), "behind the consumer");
        Assert.False(ring.TryPositionFromByteOffset(6 * 32 + 16, out _), "misaligned");
        Assert.False(ring.TryPositionFromByteOffset(8 * 32, out _), "outside the ring");
        Assert.False(ring.TryConsumeTo(11));
        Assert.False(ring.TryConsumeTo(5));
        Assert.Equal(6u, ring.Consumer);
    }

    [Fact]
    public void H_VTD_3_high_water_keeps_the_deepest_fill()
    {
        var ring = Ring(8);
        Produce(ring, 3);
        Assert.True(ring.TryConsumeTo(ring.Producer));
        Produce(ring, 2);
        Assert.Equal(3, ring.HighWater);
        Produce(ring, 5);
        Assert.Equal(7, ring.HighWater);
    }

    [Fact]
    public void H_VTD_3_ring_rejects_bad_shapes()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Ring(6));
        Assert.Throws<ArgumentOutOfRangeException>(() => Ring(1));
        Assert.Throws<ArgumentException>(() => Ring(8).TryProduce(new byte[RecordSize + 1]));
    }

    [Fact]
    public void H_AMD_3_a_reserved_slot_moves_the_producer_and_leaves_memory_for_the_late_write()
    {
        var ring = new RingQueue(4, RecordSize, RingFullRule.ReserveOneSlot, RingOverflowMode.DiscardWhileLatched);
        Assert.Equal(RingWrite.Written, ring.TryReserve());
        Assert.Equal(1u, ring.Producer);
        Assert.All(ring.At(0).ToArray(), b => Assert.Equal(0, b)); // a consumer polling now sees a zero slot
        ring.Memory(0).Fill(0xAB);
        Assert.All(ring.At(0).ToArray(), b => Assert.Equal(0xAB, b));
        ring.TryConsumeTo(1);
        ring.Memory(0).Clear(); // software zeroes a consumed slot (R35)
        Assert.Equal(RingWrite.Written, ring.TryReserve());
        Assert.Equal(RingWrite.Written, ring.TryReserve());
        Assert.Equal(RingWrite.Written, ring.TryReserve());
        Assert.Equal(RingWrite.Full, ring.TryReserve()); // same full and overflow rules as TryProduce
        Assert.True(ring.Overflowed);
    }
}
