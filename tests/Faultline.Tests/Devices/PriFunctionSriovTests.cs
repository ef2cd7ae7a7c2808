using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>H-PCI-15: a VF shares its PF's PRI capability, credits and Enable, and keeps its own PRG indexes.</summary>
public sealed class PriFunctionSriovTests
{
    [Fact]
    public void H_PCI_15_VfHasNoPriCapabilityOfItsOwn()
    {
        var pf = Rig.Enabled(4);
        var vf = pf.VirtualFunction();

        Assert.True(vf.Function.IsVirtualFunction);
        Assert.False(vf.Function.HasCapability(PriCapability.CapabilityId));
        Assert.True(pf.Function.HasCapability(PriCapability.CapabilityId));
        Assert.Throws<ArgumentException>(() => vf.ReadPri(PriCapability.ControlOffset));
        Assert.Throws<ArgumentException>(() => vf.WritePri(PriCapability.ControlOffset, 0));
        Assert.Same(pf.Pri, vf.Pri);
    }

    [Fact]
    public void H_PCI_15_VfAndPfShareOneCreditPool()
    {
        var pf = Rig.Enabled(4, pagesPerGroup: 4);
        var vf = pf.VirtualFunction();

        vf.Start(1, 3);
        vf.Port.Deny();
        pf.Start(2, 3);
        pf.Port.Deny();

        Assert.Equal(3, vf.Port.PageRequests.Count);
        var pfSent = Assert.Single(pf.Port.PageRequests);
        Assert.True(pfSent.Last); // it used the pool's last credit
        Assert.Equal(4u, pf.Pri.Outstanding);
        Assert.Equal(2, pf.Function.BacklogPages);
        Assert.All(vf.Port.PageRequests, r => Assert.Equal(vf.Function.Requester, r.Requester));
        Assert.All(pf.Port.PageRequests, r => Assert.Equal(pf.Function.Requester, r.Requester));

        // The PF's response frees a credit of the pool; its held pages take it.
        pf.Port.Respond(pfSent.Index, ResponseCode.Success);
        Assert.Equal(4u, pf.Pri.Outstanding);
        Assert.Equal(2, pf.Port.PageRequests.Count);
    }

    [Fact]
    public void H_PCI_15_CreditsReturnedThroughAVfReleaseThePfsHeldWork()
    {
        var pf = Rig.Enabled(2, pagesPerGroup: 2);
        var vf = pf.VirtualFunction();
        vf.Start(1, 2);
        vf.Port.Deny();
        pf.Start(2, 1);
        pf.Port.Deny();
        Assert.Empty(pf.Port.PageRequests);
        Assert.Equal(1, pf.Function.BacklogPages);

        vf.Port.Respond(vf.Port.PageRequests[0].Index, ResponseCode.InvalidRequest);

        Assert.Equal(1u, pf.Pri.Outstanding);
        Assert.Single(pf.Port.PageRequests); // H-PCI-3: held until credits return, then sent
    }

    [Fact]
    public void H_PCI_15_PfEnableGovernsTheVf()
    {
        var pf = Rig.Enabled(4);
        var vf = pf.VirtualFunction();
        pf.WritePri(PriCapability.ControlOffset, 0);

        vf.Start(1, 1);
        vf.Port.Deny();

        Assert.Empty(vf.Port.PageRequests);
        Assert.Equal(AccessResult.PriUnavailable, vf.ResultOf(1));
    }

    [Fact]
    public void H_PCI_15_ResponseFailureToTheVfStopsThePfToo()
    {
        var pf = Rig.Enabled(8, pagesPerGroup: 2);
        var vf = pf.VirtualFunction();
        vf.Start(1, 1);
        vf.Port.Deny();

        vf.Port.Respond(vf.Port.PageRequests[0].Index, ResponseCode.ResponseFailure);

        Assert.True(pf.Pri.ResponseFailure);
        Assert.Equal(PriCapability.StatusResponseFailure, pf.ReadPri(PriCapability.StatusOffset) & PriCapability.StatusResponseFailure);
        pf.Start(2, 1);
        pf.Port.Deny();
        Assert.Empty(pf.Port.PageRequests);
        Assert.Equal(AccessResult.ResponseFailure, pf.ResultOf(2));
    }

    [Fact]
    public void H_PCI_15_ResponseFailureToTheVfFailsThePfsWaitingAccesses()
    {
        // On its own Response Failure a function fails every access waiting on PRI, since later
        // responses are ignored (H-PCI-9). The PF loses PRI through the VF's failure just the same.
        var pf = Rig.Enabled(3, pagesPerGroup: 1);
        var vf = pf.VirtualFunction();
        pf.Start(1, 1);
        pf.Port.Deny();
        vf.Start(2, 1);
        vf.Port.Deny();
        pf.Start(3, 1);
        pf.Start(4, 1); // held: no credit left
        pf.Port.Deny();
        Assert.Equal(1, pf.Function.BacklogPages);

        vf.Port.Respond(vf.Port.PageRequests[0].Index, ResponseCode.ResponseFailure);

        Assert.Equal(AccessResult.ResponseFailure, pf.ResultOf(1));
        Assert.Equal(AccessResult.ResponseFailure, pf.ResultOf(3));
        Assert.Equal(AccessResult.ResponseFailure, pf.ResultOf(4));
        Assert.Equal(0, pf.Function.ActiveAccesses);
    }

    [Fact]
    public void H_PCI_15_InvalidRequestToTheVfLeavesThePfWorking()
    {
        var pf = Rig.Enabled(8, pagesPerGroup: 2);
        var vf = pf.VirtualFunction();
        vf.Start(1, 1);
        vf.Port.Deny();

        vf.Port.Respond(vf.Port.PageRequests[0].Index, ResponseCode.InvalidRequest);

        Assert.Equal(AccessResult.InvalidRequest, vf.ResultOf(1));
        Assert.False(pf.Pri.ResponseFailure);
        Assert.Equal(0u, pf.Pri.Outstanding);
        pf.Start(2, 1);
        pf.Port.Deny();
        Assert.Single(pf.Port.PageRequests);
        Assert.Null(pf.ResultOf(2));
    }

    [Fact]
    public void H_PCI_15_VfKeepsItsOwnPrgIndexes()
    {
        var pf = Rig.Enabled(8, pagesPerGroup: 2);
        var vf = pf.VirtualFunction();
        pf.Start(1, 1);
        pf.Port.Deny();
        vf.Start(2, 1);
        vf.Port.Deny();
        var index = pf.Port.PageRequests[0].Index;
        Assert.Equal(index, vf.Port.PageRequests[0].Index); // both functions' first index

        vf.Port.Respond(index, ResponseCode.InvalidRequest);

        Assert.True(pf.Function.IsOutstanding(index));
        Assert.False(vf.Function.IsOutstanding(index));
        Assert.Null(pf.ResultOf(1));
        Assert.Equal(1u, pf.Pri.Outstanding);
        pf.Port.Respond(index, ResponseCode.Success);
        Assert.False(pf.Pri.UnexpectedPrgIndex);
        Assert.Equal(0u, pf.Pri.Outstanding);
    }

    [Fact]
    public void H_PCI_15_ResetThroughThePfForgetsTheVfsGroups()
    {
        var pf = Rig.Enabled(8, pagesPerGroup: 2);
        var vf = pf.VirtualFunction();
        vf.Start(1, 2);
        vf.Port.Deny();
        Assert.Equal(1, vf.Function.OutstandingGroups);

        pf.WritePri(PriCapability.ControlOffset, PriCapability.ControlReset);

        Assert.Equal(0, vf.Function.OutstandingGroups);
        Assert.Equal(AccessResult.PriReset, vf.ResultOf(1));
        Assert.True((pf.ReadPri(PriCapability.StatusOffset) & PriCapability.StatusStopped) != 0);
    }
}
