using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>The <c>ats: false</c> shortcut (<see cref="PriFunctionConfig.Ats"/>): page requests at once, no translation round trip.</summary>
public sealed class PriFunctionWithoutAtsTests
{
    private static Rig WithoutAts(uint credits = 32, int pagesPerGroup = 4) =>
        Rig.Enabled(credits, pagesPerGroup, configure: c => c with { Ats = false });

    [Fact]
    public void Every_page_is_a_page_request_at_once_and_success_completes_the_access()
    {
        var rig = WithoutAts();
        rig.Start(1, 6);
        Assert.Empty(rig.Port.TranslationRequests);
        Assert.Equal(6, rig.Port.PageRequests.Count);
        Assert.Equal(2, rig.Port.ClosedGroups.Count); // 4 + 2 pages: two groups, each closed by L (H-PCI-6)

        foreach (var index in rig.Port.ClosedGroups) rig.Port.Respond(index, ResponseCode.Success);
        Assert.Equal(AccessResult.Completed, rig.ResultOf(1));
        Assert.Empty(rig.Port.TranslationRequests); // no retry through ATS
        Assert.Equal(0, rig.Function.Counters.Retries);
        Assert.Equal(0u, rig.Pri.Outstanding);
    }

    [Fact]
    public void H_PCI_8_invalid_request_fails_the_access_as_with_ats()
    {
        var rig = WithoutAts();
        rig.Start(1, 2);
        rig.Port.Respond(rig.Port.ClosedGroups[0], ResponseCode.InvalidRequest);
        Assert.Equal(AccessResult.InvalidRequest, rig.ResultOf(1));
    }

    [Fact]
    public void H_PCI_3_pages_beyond_the_credits_wait_for_a_response()
    {
        var rig = WithoutAts(credits: 4);
        rig.Start(1, 8);
        Assert.Equal(4, rig.Port.PageRequests.Count); // H-PCI-1: never more outstanding than the allocation
        rig.Port.Respond(rig.Port.ClosedGroups[0], ResponseCode.Success);
        Assert.Equal(8, rig.Port.PageRequests.Count);
        rig.Port.Respond(rig.Port.ClosedGroups[1], ResponseCode.Success);
        Assert.Equal(AccessResult.Completed, rig.ResultOf(1));
    }

    [Fact]
    public void H_PCI_4_without_pri_the_access_fails_at_once()
    {
        var rig = Rig.Create(configure: c => c with { Ats = false });
        rig.Start(1, 1);
        Assert.Equal(AccessResult.CapabilityDisabled, rig.ResultOf(1)); // nothing enabled: the request cannot be made
        Assert.Empty(rig.Port.PageRequests);
    }
}
