using Faultline.Pcie;

namespace Faultline.Tests.Pcie;

/// <summary>PRI capability register layout and semantics (pcie.md §2; H-PCI-9..14 at register level).</summary>
public sealed class PriCapabilityTests
{
    [Fact]
    public void LayoutConstantsMatchTheSpec()
    {
        Assert.Equal(0x0013, PriCapability.CapabilityId);
        Assert.Equal((0x04, 0x06, 0x08, 0x0C),
            (PriCapability.ControlOffset, PriCapability.StatusOffset, PriCapability.CapacityOffset, PriCapability.AllocationOffset));
        Assert.Equal((1, 2), (PriCapability.ControlEnable, PriCapability.ControlReset));
        Assert.Equal((1, 2, 0x100, 0x8000),
            (PriCapability.StatusResponseFailure, PriCapability.StatusUnexpectedPrgIndex, PriCapability.StatusStopped, PriCapability.StatusPrgResponsePasidRequired));
    }

    [Theory]
    [InlineData(1u, false, 0x0100u)]
    [InlineData(32u, true, 0x8100u)]
    [InlineData(0xFFFF_FFFFu, true, 0x8100u)]
    public void ResetValues(uint capacity, bool prpr, uint status)
    {
        var pri = new PriCapability(capacity, prpr);
        Assert.Equal(0u, pri.Read(PriCapability.ControlOffset));
        Assert.Equal(status, pri.Read(PriCapability.StatusOffset));
        Assert.Equal(capacity, pri.Read(PriCapability.CapacityOffset));
        Assert.Equal(0u, pri.Read(PriCapability.AllocationOffset));
        Assert.True(pri.Stopped);
        Assert.False(pri.CanSendRequest);
    }

    [Fact]
    public void EnableIsBit0AndReadsBack()
    {
        var pri = new PriCapability(8, true);
        Assert.Equal(ConfigWriteEffect.Enabled, pri.Write(PriCapability.ControlOffset, 0x1));
        Assert.Equal(1u, pri.Read(PriCapability.ControlOffset));
        Assert.Equal(0x8000u, pri.Read(PriCapability.StatusOffset)); // Stopped clears with Enable
        Assert.Equal(ConfigWriteEffect.Disabled, pri.Write(PriCapability.ControlOffset, 0xFFFC)); // other bits don't enable
        Assert.Equal(0u, pri.Read(PriCapability.ControlOffset));
    }

    [Fact]
    public void H_PCI_12_ResetIsBit1AndAlwaysReadsZero()
    {
        var pri = new PriCapability(8, true);
        Assert.Equal(ConfigWriteEffect.Reset, pri.Write(PriCapability.ControlOffset, 0x2));
        Assert.Equal(0u, pri.Read(PriCapability.ControlOffset));
        Assert.Equal(ConfigWriteEffect.Enabled, pri.Write(PriCapability.ControlOffset, 0x3) & ~ConfigWriteEffect.Reset);
        Assert.Equal(1u, pri.Read(PriCapability.ControlOffset));
        Assert.Equal(ConfigWriteEffect.None, pri.Write(PriCapability.ControlOffset, 0x3)); // with Enable=1: no effect
        Assert.Equal(1u, pri.Read(PriCapability.ControlOffset));
    }

    [Fact]
    public void CapacityIsReadOnlyAndAllocationIsRw()
    {
        var pri = new PriCapability(8, false);
        Assert.Equal(ConfigWriteEffect.None, pri.Write(PriCapability.CapacityOffset, 99));
        Assert.Equal(8u, pri.Read(PriCapability.CapacityOffset));
        Assert.Equal(ConfigWriteEffect.None, pri.Write(PriCapability.AllocationOffset, 0xDEAD_BEEF));
        Assert.Equal(0xDEAD_BEEFu, pri.Read(PriCapability.AllocationOffset));
    }

    [Fact]
    public void StatusReadOnlyBitsIgnoreWrites()
    {
        var pri = new PriCapability(8, false);
        pri.Write(PriCapability.StatusOffset, 0xFFFF);
        Assert.Equal(0x0100u, pri.Read(PriCapability.StatusOffset)); // Stopped stays 1, PRPR stays 0
        var prpr = new PriCapability(8, true);
        prpr.Write(PriCapability.StatusOffset, 0);
        Assert.Equal(0x8100u, prpr.Read(PriCapability.StatusOffset));
    }

    [Theory]
    [InlineData(0x00)]
    [InlineData(0x02)]
    [InlineData(0x10)]
    public void OtherOffsetsAreRejected(int offset)
    {
        var pri = new PriCapability(8, false);
        Assert.Throws<ArgumentOutOfRangeException>(() => pri.Read(offset));
        Assert.Throws<ArgumentOutOfRangeException>(() => pri.Write(offset, 0));
    }

    [Fact]
    public void H_PCI_13_EnableWhileNotStoppedIsFlaggedAtTheRegister()
    {
        var pri = new PriCapability(8, false);
        pri.Write(PriCapability.AllocationOffset, 4);
        Assert.Equal(ConfigWriteEffect.Enabled, pri.Write(PriCapability.ControlOffset, 1));
        Assert.True(pri.CanSendRequest);
        Assert.Equal(4u, pri.FreeCredits);
        Assert.Equal(ConfigWriteEffect.Disabled, pri.Write(PriCapability.ControlOffset, 0));
        Assert.Equal(ConfigWriteEffect.Enabled, pri.Write(PriCapability.ControlOffset, 1)); // Stopped: clean
    }

    [Fact]
    public void H_PCI_14_AllocationWriteWhileEnabledIsRefusedAtTheRegister()
    {
        var pri = new PriCapability(8, false);
        pri.Write(PriCapability.AllocationOffset, 4);
        pri.Write(PriCapability.ControlOffset, 1);
        Assert.Equal(ConfigWriteEffect.ProtocolViolation, pri.Write(PriCapability.AllocationOffset, 2));
        Assert.Equal(4u, pri.Read(PriCapability.AllocationOffset));
    }
}
