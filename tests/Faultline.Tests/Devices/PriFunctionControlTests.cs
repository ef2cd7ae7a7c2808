using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>Disable, Stopped, Reset, Enable and Allocation on a live function: H-PCI-11..14.</summary>
public sealed class PriFunctionControlTests
{
    private static bool Stopped(Rig rig) => (rig.ReadPri(PriCapability.StatusOffset) & PriCapability.StatusStopped) != 0;

    [Fact]
    public void H_PCI_11_DisableStopsNewRequestsButOutstandingOnesAreStillAnswered()
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Port.Deny();
        var index = rig.Port.PageRequests[0].Index;
        Assert.False(Stopped(rig)); // enabled

        Assert.Equal(ConfigWriteEffect.Disabled, rig.WritePri(PriCapability.ControlOffset, 0));
        Assert.False(Stopped(rig)); // disabled, 2 outstanding
        Assert.Equal(2u, rig.Pri.Outstanding);

        rig.Start(2, 1);
        rig.Port.Deny();
        Assert.Equal(2, rig.Port.PageRequests.Count);
        Assert.Equal(AccessResult.PriUnavailable, rig.ResultOf(2));

        rig.Port.Respond(index, ResponseCode.Success);
        Assert.Equal(PrgResponseOutcome.Matched, rig.Observer.Outcomes.Single());
        Assert.False(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(0u, rig.Pri.Outstanding);
        Assert.True(Stopped(rig));

        rig.Port.Grant(); // the retried pages are now mapped
        Assert.Equal(AccessResult.Completed, rig.ResultOf(1));
    }

    [Fact]
    public void H_PCI_11_StoppedReadsZeroWhileEnabledEvenWithNothingOutstanding()
    {
        var rig = Rig.Create();
        Assert.True(Stopped(rig)); // reset value
        Assert.Equal(PciEnableError.None, PciAts.EnableForPageRequests(rig.Function, 4, 0));
        Assert.False(Stopped(rig));
        Assert.Equal(0u, rig.Pri.Outstanding);
        rig.WritePri(PriCapability.ControlOffset, 0);
        Assert.True(Stopped(rig));
    }

    [Fact]
    public void H_PCI_12_ResetWithEnableSetHasNoEffect()
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Port.Deny();

        var effect = rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlEnable | PriCapability.ControlReset);

        Assert.Equal(ConfigWriteEffect.None, effect);
        Assert.True(rig.Pri.Enabled);
        Assert.Equal(2u, rig.Pri.Outstanding);
        Assert.Equal(1, rig.Function.OutstandingGroups);
        Assert.Null(rig.ResultOf(1));
        Assert.Equal(0u, rig.ReadPri(PriCapability.ControlOffset) & PriCapability.ControlReset);
    }

    [Theory]
    [InlineData(false)] // disable first, then reset
    [InlineData(true)]  // reset in the write that clears Enable
    public void H_PCI_12_ResetWhileDisabledForgetsCreditsAndGroups(bool sameWrite)
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Start(2, 3);
        rig.Port.Deny();
        var old = rig.Port.PageRequests[0].Index;
        Assert.Equal(5u, rig.Pri.Outstanding);

        if (!sameWrite) rig.WritePri(PriCapability.ControlOffset, 0);
        var effect = rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlReset);

        Assert.True(effect.HasFlag(ConfigWriteEffect.Reset));
        Assert.False(rig.Pri.Enabled);
        Assert.Equal(0u, rig.Pri.Outstanding);
        Assert.Equal(0, rig.Function.OutstandingGroups);
        Assert.True(Stopped(rig));
        Assert.Equal(AccessResult.PriReset, rig.ResultOf(1));
        Assert.Equal(AccessResult.PriReset, rig.ResultOf(2));
        Assert.Equal(0, rig.Function.ActiveAccesses);
        Assert.Equal(0u, rig.ReadPri(PriCapability.ControlOffset)); // Reset reads 0

        // The forgotten group's late response is now unexpected and changes no credit.
        rig.Port.Respond(old, ResponseCode.Success);
        Assert.True(rig.Pri.UnexpectedPrgIndex);
        Assert.Equal(0u, rig.Pri.Outstanding);
        Assert.Empty(rig.Port.Unanswered);
    }

    [Fact]
    public void H_PCI_12_HeldWorkIsNotStrandedByResetAndReenable()
    {
        var rig = Rig.Enabled(2, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Start(2, 2); // held: no credit left
        rig.Port.Deny();
        Assert.Equal(2, rig.Function.BacklogPages);

        rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlReset); // disable + reset
        rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlEnable);
        Assert.Equal(AccessResult.PriReset, rig.ResultOf(1));

        // Access 2 must either have been failed by the reset or have its page requests sent now.
        bool sent = rig.Port.Since(2).Count == 2;
        Assert.True(sent || rig.ResultOf(2) == AccessResult.PriReset,
            $"access 2 stranded: result {rig.ResultOf(2)?.ToString() ?? "none"}, backlog {rig.Function.BacklogPages}, {rig.Port.PageRequests.Count} page requests");
    }

    [Fact]
    public void H_PCI_13_EnableClearsRfAndUprgi()
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Port.Deny();
        rig.Port.Respond(200, ResponseCode.Success);                          // UPRGI
        rig.Port.Respond(rig.Port.PageRequests[0].Index, ResponseCode.ResponseFailure); // RF
        Assert.Equal((uint)(PriCapability.StatusResponseFailure | PriCapability.StatusUnexpectedPrgIndex),
            rig.ReadPri(PriCapability.StatusOffset) & 0x3);

        rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlReset);
        Assert.Equal(0x3u, rig.ReadPri(PriCapability.StatusOffset) & 0x3); // reset alone keeps them
        var effect = rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlEnable);

        Assert.Equal(ConfigWriteEffect.Enabled, effect);
        Assert.Equal(0u, rig.ReadPri(PriCapability.StatusOffset) & 0x3);
        Assert.Equal(0u, rig.ReadPri(PriCapability.StatusOffset) & PriCapability.StatusStopped);
        Assert.Equal(0, rig.Function.ConfigViolations);
    }

    [Fact]
    public void H_PCI_13_EnablingWhileNotStoppedIsAProtocolViolation()
    {
        var rig = Rig.Enabled(8, pagesPerGroup: 2);
        rig.Start(1, 2);
        rig.Port.Deny();
        rig.WritePri(PriCapability.ControlOffset, 0);
        Assert.False(Stopped(rig));

        var effect = rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlEnable);

        Assert.True(effect.HasFlag(ConfigWriteEffect.ProtocolViolation));
        Assert.True(effect.HasFlag(ConfigWriteEffect.Enabled));
        Assert.Equal(1, rig.Function.ConfigViolations);
        Assert.Equal(PciEnableError.PriNotStopped, PciAts.EnablePri(rig.Function, 8, 0)); // Linux refuses (-EBUSY)
    }

    [Fact]
    public void H_PCI_14_AllocationWriteWhileEnabledIsRefused()
    {
        var rig = Rig.Enabled(8);

        var effect = rig.WritePri(PriCapability.AllocationOffset, 16);

        Assert.Equal(ConfigWriteEffect.ProtocolViolation, effect);
        Assert.Equal(8u, rig.ReadPri(PriCapability.AllocationOffset));
        Assert.Equal(1, rig.Function.ConfigViolations);

        rig.WritePri(PriCapability.ControlOffset, 0);
        Assert.Equal(ConfigWriteEffect.None, rig.WritePri(PriCapability.AllocationOffset, 16));
        Assert.Equal(16u, rig.ReadPri(PriCapability.AllocationOffset));
        Assert.Equal(1, rig.Function.ConfigViolations);
    }

    [Theory]
    [InlineData(32u, 8u, 8u)]
    [InlineData(4u, 16u, 4u)]
    [InlineData(1u, 1u, 1u)]
    [InlineData(600u, 300u, 300u)]
    public void H_PCI_14_HostWritesMinOfCapacityAndRequested(uint capacity, uint requested, uint expected)
    {
        var rig = Rig.Create(capacity: capacity);
        Assert.Equal(capacity, rig.ReadPri(PriCapability.CapacityOffset));
        Assert.Equal(PciEnableError.None, PciAts.EnableForPageRequests(rig.Function, requested, 0));
        Assert.Equal(expected, rig.ReadPri(PriCapability.AllocationOffset));
        Assert.Equal(0, rig.Function.ConfigViolations);

        for (int i = 0; i < expected + 3; i++) rig.Start(i, 1);
        rig.Port.Deny();
        Assert.Equal((int)expected, rig.Port.PageRequests.Count);
    }
}
