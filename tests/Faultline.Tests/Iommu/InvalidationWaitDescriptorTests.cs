using Faultline.Iommu.Vtd;

namespace Faultline.Tests.Iommu;

public sealed class InvalidationWaitDescriptorTests
{
    private const ulong QiDone = 2; // Linux enum { QI_FREE, QI_IN_USE, QI_DONE, QI_ABORT }

    private static ulong[] Words(InvalidationWaitDescriptor d) => Qwords.Of(InvalidationWaitDescriptor.Size, d.Encode);

    private static byte[] Bytes(ulong qw0, ulong qw1, ulong qw2 = 0, ulong qw3 = 0) => Qwords.Bytes(InvalidationWaitDescriptor.Size, qw0, qw1, qw2, qw3);

    [Fact]
    public void R33_wait_descriptor_bits_match_linux_qi_iwd_macros()
    {
        // intel_iommu_drain_pasid_prq: desc[0].qw0 = QI_IWD_STATUS_DATA(QI_DONE) | QI_IWD_FENCE | QI_IWD_TYPE, qw1 = 0.
        var leading = new InvalidationWaitDescriptor(InterruptFlag: false, StatusWrite: false, Fence: true, PageRequestDrain: false, (uint)QiDone, 0);
        ulong leadingQw0 = (QiDone << 32) | (1UL << 6) | 0x5;
        Assert.Equal(0x0000_0002_0000_0045UL, leadingQw0);
        Assert.Equal([leadingQw0, 0UL, 0UL, 0UL], Words(leading));
        Assert.Equal(leading, InvalidationWaitDescriptor.Decode(Bytes(leadingQw0, 0)).Value);

        // qi_submit_sync(..., QI_OPT_WAIT_DRAIN): QI_IWD_STATUS_DATA(QI_DONE) | QI_IWD_STATUS_WRITE | QI_IWD_TYPE | QI_IWD_PRQ_DRAIN,
        // qw1 = virt_to_phys(&desc_status[wait_index]) (an int slot, 4-byte aligned).
        var trailing = new InvalidationWaitDescriptor(false, StatusWrite: true, false, PageRequestDrain: true, (uint)QiDone, 0x1_2345_6788);
        ulong trailingQw0 = (QiDone << 32) | (1UL << 5) | (1UL << 7) | 0x5;
        Assert.Equal(0x0000_0002_0000_00A5UL, trailingQw0);
        Assert.Equal([trailingQw0, 0x1_2345_6788UL, 0UL, 0UL], Words(trailing));
        Assert.Equal(trailing, InvalidationWaitDescriptor.Decode(Bytes(trailingQw0, 0x1_2345_6788)).Value);

        // QEMU VTD_INV_DESC_WAIT_IF = 1 << 4 (Linux defines no IF macro).
        var interrupt = new InvalidationWaitDescriptor(InterruptFlag: true, false, false, false, 0xFFFF_FFFF, 0);
        Assert.Equal([0xFFFF_FFFF_0000_0015UL, 0UL, 0UL, 0UL], Words(interrupt));
    }

    [Fact]
    public void R33_round_trip_over_field_combinations()
    {
        uint[] data = [0, 1, (uint)QiDone, 0x8000_0000, 0xFFFF_FFFF];
        ulong[] addresses = [0, 4, 0x1_2345_6788, 0xFFFF_FFFF_FFFF_FFFC];
        var bytes = new byte[InvalidationWaitDescriptor.Size];
        foreach (uint d in data)
        foreach (ulong address in addresses)
        for (int flags = 0; flags < 16; flags++)
        {
            var wait = new InvalidationWaitDescriptor((flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, (flags & 8) != 0, d, address);
            wait.Encode(bytes);
            Assert.Equal(InvalidationWaitDescriptor.Type, InvalidationDescriptor.TypeOf(bytes).Value);
            var decoded = InvalidationWaitDescriptor.Decode(bytes);
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            Assert.Equal(wait, decoded.Value);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void R33_decode_of_wrong_length_names_length(int length)
    {
        var result = InvalidationWaitDescriptor.Decode(new byte[length]);
        Assert.False(result.IsOk);
        Assert.Equal("length", result.Error!.Value.Field);
    }

    [Fact]
    public void R33_decode_of_wrong_type_or_type_high_names_type()
    {
        RecordChecks.WrongInvalidationTypesNameType(InvalidationWaitDescriptor.Size, InvalidationWaitDescriptor.Type, b => InvalidationWaitDescriptor.Decode(b));
    }

    [Fact]
    public void R33_decode_with_a_reserved_bit_set_names_reserved()
    {
        // QEMU VTD_INV_DESC_WAIT_RSVD_LO = 0xfffff100 (bit 7 is PD, a field here); QW2/QW3 all reserved.
        foreach (int bit in new[] { 8 }.Concat(Enumerable.Range(12, 20)))
        {
            var result = InvalidationWaitDescriptor.Decode(Bytes(0x5 | (1UL << bit), 0));
            Assert.False(result.IsOk, $"QW0 bit {bit} is reserved");
            Assert.Equal("reserved", result.Error!.Value.Field);
        }
        for (int bit = 0; bit < 64; bit++)
        {
            foreach (var bytes in new[] { Bytes(0x5, 0, 1UL << bit, 0), Bytes(0x5, 0, 0, 1UL << bit) })
            {
                var result = InvalidationWaitDescriptor.Decode(bytes);
                Assert.False(result.IsOk, $"QW2/QW3 bit {bit} is reserved");
                Assert.Equal("reserved", result.Error!.Value.Field);
            }
        }
    }

    [Theory]
    [InlineData(0x1UL)]
    [InlineData(0x2UL)]
    [InlineData(0x1_2345_6789UL)]
    [InlineData(0xFFFF_FFFF_FFFF_FFFFUL)]
    public void R33_decode_of_a_misaligned_status_address_names_status_address(ulong qw1)
    {
        // QEMU VTD_INV_DESC_WAIT_RSVD_HI = 3: the status write is 4 bytes to a 4-byte aligned address.
        var result = InvalidationWaitDescriptor.Decode(Bytes(0x5 | (1UL << 5), qw1));
        Assert.False(result.IsOk);
        Assert.Equal("status_address", result.Error!.Value.Field);
    }

    [Fact]
    public void R33_encode_keeps_the_status_address_aligned()
    {
        var d = new InvalidationWaitDescriptor(false, true, false, false, 1, 0x1003);
        Assert.Equal(0x1000UL, Words(d)[1]);
    }

    [Fact]
    public void R33_decode_never_throws_and_valid_bytes_reencode_identically()
    {
        int valid = RecordChecks.DecodeNeverThrows<InvalidationWaitDescriptor>(InvalidationWaitDescriptor.Size, 0x1D5,
            b => InvalidationWaitDescriptor.Decode(b), (d, b) => d.Encode(b), makeValid: b =>
            {
                RecordChecks.SetDw(b, 0, (RecordChecks.Dw(b, 0) & (0xF0UL | 0xFFFF_FFFF_0000_0000UL)) | InvalidationWaitDescriptor.Type);
                RecordChecks.SetDw(b, 1, RecordChecks.Dw(b, 1) & ~3UL);
                b.AsSpan(16).Clear();
            });
        Assert.True(valid >= RecordChecks.Inputs / 2);
    }
}
