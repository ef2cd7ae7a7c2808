using Faultline.Iommu;

namespace Faultline.Tests.Iommu;

/// <summary>The SMMUv3 overflow flag: PROD.OVFLG toggles against CONS.OVACKFLG (H-SMMU-3, H-SMMU-12, Linux Q_OVF).</summary>
public sealed class RingQueueToggleTests
{
    private const uint Ovf = RingQueue.OverflowFlagBit;

    private static RingQueue Ring() => new(4, 4, RingFullRule.WrapBit, RingOverflowMode.ToggleFlag);

    private static RingWrite Produce(RingQueue ring, uint value) => ring.TryProduce(BitConverter.GetBytes(value));

    private static void Fill(RingQueue ring)
    {
        while (!ring.IsFull) Assert.Equal(RingWrite.Written, Produce(ring, ring.Producer));
    }

    [Fact]
    public void H_SMMU_3_ovflg_toggles_once_and_stays_while_unacknowledged()
    {
        var ring = Ring();
        Fill(ring);
        Assert.Equal(0b100u, ring.ProducerRegister); // index 0, wrap 1, OVFLG 0
        Assert.Equal(RingWrite.Full, Produce(ring, 99));
        Assert.Equal(Ovf | 0b100u, ring.ProducerRegister);
        Assert.True(ring.Overflowed);
        // More losses do not toggle it back.
        Assert.Equal(RingWrite.Full, Produce(ring, 100));
        Assert.Equal(RingWrite.Full, Produce(ring, 101));
        Assert.Equal(Ovf | 0b100u, ring.ProducerRegister);
        Assert.Equal(1, ring.Overflows);
        Assert.Equal(3, ring.DiscardedFull);
        Assert.Equal(0u, ring.ConsumerRegister);
    }

    [Fact]
    public void H_SMMU_3_entries_are_written_after_an_overflow_as_soon_as_there_is_room()
    {
        var ring = Ring();
        Fill(ring);
        Assert.Equal(RingWrite.Full, Produce(ring, 99));
        // Consume two, keeping OVACKFLG = 0: still overflowed, but the ring takes records again.
        Assert.True(ring.TryWriteConsumerRegister(2));
        Assert.True(ring.Overflowed);
        Assert.Equal(RingWrite.Written, Produce(ring, 0xAB));
        Assert.Equal(0xABu, BitConverter.ToUInt32(ring.At(4)));
        Assert.Equal(Ovf | 0b101u, ring.ProducerRegister);
        Assert.Equal(0, ring.DiscardedWhileLatched);
    }

    [Fact]
    public void H_SMMU_3_cons_write_with_ovackflg_equal_to_ovflg_acknowledges()
    {
        var ring = Ring();
        Fill(ring);
        Assert.Equal(RingWrite.Full, Produce(ring, 99));
        Assert.True(ring.TryWriteConsumerRegister(Ovf | 0b100u)); // consume all and acknowledge
        Assert.False(ring.Overflowed);
        Assert.True(ring.IsEmpty);
        Assert.Equal(Ovf | 0b100u, ring.ConsumerRegister);
        // A second overflow toggles OVFLG back to 0, again different from OVACKFLG.
        Fill(ring);
        Assert.Equal(RingWrite.Full, Produce(ring, 98));
        Assert.Equal(0b000u, ring.ProducerRegister);
        Assert.True(ring.Overflowed);
        Assert.Equal(2, ring.Overflows);
        Assert.True(ring.TryWriteConsumerRegister(0b000u));
        Assert.False(ring.Overflowed);
    }

    [Fact]
    public void H_SMMU_3_cons_write_outside_the_entries_changes_nothing()
    {
        var ring = Ring();
        for (int i = 0; i < 3; i++) Produce(ring, (uint)i);
        Assert.False(ring.TryWriteConsumerRegister(Ovf | 0b100u)); // wrap 1, index 0: beyond the producer
        Assert.False(ring.TryWriteConsumerRegister(0b111u));
        Assert.Equal(0u, ring.ConsumerRegister);
        Assert.True(ring.TryWriteConsumerRegister(0b011u));
        Assert.True(ring.IsEmpty);
    }

    [Fact]
    public void H_SMMU_3_clear_overflow_copies_the_flag_in_toggle_mode_and_clears_the_latch_otherwise()
    {
        var toggle = Ring();
        Fill(toggle);
        Produce(toggle, 9);
        toggle.ClearOverflow();
        Assert.True(toggle.ProducerFlag);
        Assert.True(toggle.ConsumerFlag);
        Assert.False(toggle.Overflowed);

        var latch = new RingQueue(4, 4, RingFullRule.WrapBit, RingOverflowMode.Latch);
        Fill(latch);
        Produce(latch, 9);
        Assert.Equal(Ovf | 0b100u, latch.ProducerRegister);
        Assert.True(latch.TryWriteConsumerRegister(Ovf | 0b100u)); // no OVACKFLG in the latch modes
        Assert.False(latch.ConsumerFlag);
        Assert.True(latch.Overflowed);
        latch.ClearOverflow();
        Assert.False(latch.ProducerFlag);
        Assert.False(latch.Overflowed);
    }

    [Fact]
    public void H_SMMU_12_register_views_follow_positions_across_many_wraps()
    {
        var ring = Ring();
        var random = new Random(3);
        long produced = 0;
        for (int cycle = 0; cycle < 500; cycle++)
        {
            int batch = random.Next(1, 5);
            for (int i = 0; i < batch; i++) Produce(ring, (uint)i);
            produced += batch;
            Assert.Equal((uint)(produced % 8), ring.ProducerRegister);
            Assert.True(ring.TryWriteConsumerRegister(ring.ProducerRegister & ~Ovf));
            Assert.Equal((uint)(produced % 8), ring.ConsumerRegister);
        }
    }
}
