using Faultline.Pcie;
using Faultline.Tests.Devices;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

public sealed class FaultCapableAttachTests
{
    [Fact]
    public void T21_R41_BUG_14_a_vf_whose_pf_has_pri_is_refused_with_einval()
    {
        var pf = Rig.Enabled(4);
        var vf = pf.VirtualFunction();
        Assert.Equal(FaultQueueErrno.EINVAL, FaultCapableAttach.Check(vf.Function));
    }

    [Fact]
    public void R41_a_physical_function_with_pri_may_take_a_fault_capable_hwpt()
    {
        Assert.Equal(FaultQueueErrno.None, FaultCapableAttach.Check(Rig.Enabled(4).Function));
    }

    [Fact]
    public void R41_a_vf_of_a_pf_without_pri_is_accepted_unlike_v6_11_which_refused_every_vf()
    {
        var vf = new ConfigSpace(RequesterId.From(1, 0, 1), new ConfigSpace(RequesterId.From(1, 0, 0), null));
        Assert.Equal(FaultQueueErrno.None, FaultCapableAttach.Check(vf));
    }
}
