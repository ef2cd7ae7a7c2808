using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu.Smmuv3;

namespace Faultline.Tests.Iommu.Smmuv3;

/// <summary>POL-12 without victims: an owner over its stall budget whose stalls wait for I/O holds none, and still gets its pages.</summary>
public sealed class SlowStallOwnerTests
{
    private const long Slow = 15_000; // Smmuv3DriverConfig.Hardened's SlowFaultNs

    private static ResponseStatus Respond(Smmuv3Rig rig, int group, long now) =>
        rig.Framework.Respond(rig.Handler.Groups[group], PageResponseCode.Success, now);

    [Fact]
    public void POL_12_an_over_budget_owner_whose_stall_outlasts_the_bound_loses_its_stalls_and_its_faults_are_resolved_in_the_background()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Hardened) { Now = 0 }; // STALL_MAX 4: budget 2 per owner
        Assert.Equal(Slow, rig.Driver.Config.SlowFaultNs);
        rig.AddMaster(owner: "guest");
        rig.AddMaster(Smmuv3Rig.OtherSid, owner: "host");
        var first = rig.Send(address: 0x1000);
        var second = rig.Send(address: 0x2000);
        rig.Send(address: 0x3000); // over budget: terminated, as before
        rig.Driver.HandleEvents(now: 0);
        Assert.Equal(1, rig.Driver.Counters.BudgetTerminated);
        Assert.False(rig.Driver.OwnerIsSlow("guest"));

        // The driver runs again once the two stalls are held longer than the bound: they end, their handlers go on.
        rig.Driver.HandleEvents(now: Slow + 1);
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(first.Id));
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(second.Id));
        Assert.True(rig.Driver.OwnerIsSlow("guest"));
        Assert.Equal(0, rig.Driver.OwnerStalls("guest"));
        Assert.Equal(2, rig.Driver.OwnerBackgroundFaults("guest"));
        Assert.Equal(0, rig.Smmu.StallsInUse);
        Assert.True(rig.Smmu.StallDisabled(Smmuv3Rig.MasterSid)); // STE.S1STALLD stays set while slow
        Assert.False(rig.Smmu.StallDisabled(Smmuv3Rig.OtherSid));

        // The other owner keeps stalling in the buffer the slow one left.
        rig.Send(Smmuv3Rig.OtherSid, address: 0x9000);
        Assert.Equal(1, rig.Smmu.StalledCount(Smmuv3Rig.OtherSid));

        // Their answers resume nothing (the transactions ended); the budget frees for the next terminated fault.
        long resumes = rig.Driver.Counters.ResumesSubmitted;
        Assert.Equal(ResponseStatus.Responded, Respond(rig, 0, now: 200_000));
        Assert.Equal(resumes, rig.Driver.Counters.ResumesSubmitted);
        Assert.Equal(1, rig.Driver.OwnerBackgroundFaults("guest"));
        Assert.True(rig.Driver.OwnerIsSlow("guest"));

        // The slow owner's next fault is terminated by the SMMU at once and resolved in the background (its master's retry finds the page).
        var next = rig.Send(address: 0x4000);
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(next.Id));
        rig.Driver.HandleEvents(now: 200_000);
        Assert.Equal(2, rig.Driver.OwnerBackgroundFaults("guest"));
        Assert.Equal(3, rig.Driver.Counters.ResolvedInBackground);
        Assert.Equal(0x4000UL, rig.Handler.Faults[^1][0].Address);

        // A fault resolved within the bound makes the owner stall again.
        Assert.Equal(ResponseStatus.Responded, Respond(rig, 1, now: 200_000));
        Assert.Equal(ResponseStatus.Responded, Respond(rig, rig.Handler.Groups.Count - 1, now: 200_000 + Slow / 2));
        Assert.False(rig.Driver.OwnerIsSlow("guest"));
        Assert.False(rig.Smmu.StallDisabled(Smmuv3Rig.MasterSid));
        rig.Smmu.ProcessCommandQueue(rig.Now);
        rig.AssertStallsBalance();
    }

    [Fact]
    public void POL_12_an_owner_within_its_budget_keeps_its_slow_stalls()
    {
        // Never over budget (as every master of default.yaml): a stall may last as long as its fault does.
        var rig = new Smmuv3Rig(FaultPolicy.Hardened) { Now = 0 };
        rig.AddMaster(owner: "guest");
        rig.Send(address: 0x1000);
        rig.Send(address: 0x2000);
        rig.Driver.HandleEvents(now: 0);
        rig.Driver.HandleEvents(now: 10 * Slow);
        Assert.Equal(2, rig.Smmu.StallsInUse);
        Assert.Equal(0, rig.Driver.Counters.BudgetTerminated);
        Assert.Equal(ResponseStatus.Responded, Respond(rig, 0, now: 10 * Slow));
        Assert.False(rig.Driver.OwnerIsSlow("guest"));
        Assert.False(rig.Smmu.StallDisabled(Smmuv3Rig.MasterSid));
    }

    [Fact]
    public void POL_12_linux_has_no_slow_owners()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Linux) { Now = 0 };
        Assert.Null(rig.Driver.Config.SlowFaultNs);
        rig.AddMaster(owner: "guest");
        for (int i = 0; i < 4; i++) rig.Send(address: (ulong)(i + 1) << 12);
        rig.Driver.HandleEvents(now: 0);
        rig.Driver.HandleEvents(now: 10 * Slow);
        Assert.Equal(4, rig.Smmu.StallsInUse);
        Assert.False(rig.Driver.OwnerIsSlow("guest"));
        Assert.Equal(0, rig.Driver.Counters.ResolvedInBackground);
    }
}
