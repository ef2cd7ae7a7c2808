using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu.Smmuv2;
using static Faultline.Tests.Iommu.Smmuv2.Smmuv2Rig;

namespace Faultline.Tests.Iommu.Smmuv2;

public sealed class Smmuv2DriverTests
{
    private sealed class DriverRig
    {
        public DriverRig(FaultPolicy? policy = null, bool attach = true)
        {
            Framework = new FaultFramework(policy ?? FaultPolicy.Hardened);
            Driver = new Smmuv2Driver(Hw.Smmu, Framework);
            var (status, device) = Driver.AddMaster(Sid, Bank, "gpu", now: 0);
            Assert.Equal(FaultStatus.Ok, status);
            Device = device!;
            if (attach) Assert.Equal(FaultStatus.Ok, Device.Attach(0, new FaultAttachment("rid", Handler)));
            Hw.Platform.OnInterrupt = bank => Driver.HandleContextFault(bank, Now);
        }

        public Smmuv2Rig Hw { get; } = new();
        /// <summary>The time the next interrupt is handled at, and of the latest response.</summary>
        public long Now { get; set; }
        public FaultFramework Framework { get; }
        public Smmuv2Driver Driver { get; }
        public FaultDevice Device { get; }
        public AcceptingFaultHandler Handler { get; } = new();

        public void Respond(int group, PageResponseCode code, long now)
        {
            Now = now;
            Assert.Equal(ResponseStatus.Responded, Framework.Respond(Handler.Groups[group], code, now));
            Framework.Free(Handler.Groups[group]);
        }
    }

    [Fact]
    public void H_SMMUv2_11_add_master_maps_the_stream_and_enables_stall_on_fault()
    {
        var rig = new DriverRig();
        Assert.Equal(new Sctlr(M: true, Cfre: true, Cfie: true, Cfcfg: true, Hupcf: false), rig.Hw.Cb.Sctlr);
        Assert.Equal(Bank, rig.Hw.Smmu.ContextBankOf(Sid));
        Assert.Equal(Bank, rig.Driver.ContextBankOf(rig.Device));
        Assert.Same(rig.Driver.Queue, rig.Device.Queue);
        Assert.Equal(FaultStatus.Busy, rig.Driver.AddMaster(Sid, OtherBank, "again", 0).Status);
        Assert.Equal(FaultStatus.Invalid, rig.Driver.AddMaster(0x77, 9, "no-bank", 0).Status);
    }

    [Fact]
    public void H_SMMUv2_11_a_stall_is_reported_as_a_one_fault_group_with_fsynr0_permissions()
    {
        var rig = new DriverRig();
        rig.Hw.Send(Unmapped + 0x44, write: true, privileged: true, instruction: true);

        var fault = Assert.Single(Assert.Single(rig.Handler.Faults));
        Assert.Equal(new Fault(FaultFlags.LastPage, 0, 0, FaultPermissions.Write | FaultPermissions.Exec | FaultPermissions.Priv, Unmapped + 0x44), fault);
        Assert.False(fault.HasPasid);
        // The handler cleared FSR (all but SS) and masked CFIE while the stall waits for its response.
        Assert.Equal(Fsr.SsBit, rig.Hw.Cb.Read(ContextBankRegisters.Fsr));
        Assert.False(rig.Hw.Cb.Sctlr.Cfie);
        Assert.Equal(1, rig.Driver.Counters.Reported);
    }

    [Fact]
    public void H_SMMUv2_12_success_retries_and_the_held_transactions_follow_in_order()
    {
        var rig = new DriverRig();
        long stalled = rig.Hw.Send(Unmapped, now: 10);
        long held = rig.Hw.Send(Mapped, now: 20);
        rig.Hw.Table.Map(Unmapped); // the handler faulted the page in
        rig.Respond(0, PageResponseCode.Success, now: 500);

        Assert.Equal([(stalled, TransactionOutcome.Completed), (held, TransactionOutcome.Completed)], rig.Hw.Platform.Ended);
        Assert.True(rig.Hw.Cb.Sctlr.Cfie);
        Assert.Equal(0u, rig.Hw.Cb.Read(ContextBankRegisters.Fsr));
        Assert.Equal(1, rig.Driver.Counters.Retries);
        Assert.Equal(490, rig.Hw.Smmu.Counters.LongestHold);
    }

    [Fact]
    public void H_SMMUv2_12_a_retry_that_faults_again_is_reported_again_once_cfie_is_back()
    {
        var rig = new DriverRig();
        rig.Hw.Send(Unmapped);
        rig.Respond(0, PageResponseCode.Success, now: 5); // page still missing

        Assert.Equal(2, rig.Handler.Groups.Count);
        Assert.Equal([0u, 1u], rig.Handler.Faults.Select(f => f[0].GroupId));
        Assert.Equal(2, rig.Hw.Smmu.Counters.Stalls);
        Assert.NotNull(rig.Hw.Cb.Stalled);
    }

    [Theory]
    [InlineData(PageResponseCode.Invalid)]
    [InlineData(PageResponseCode.Failure)]
    public void H_SMMUv2_12_any_other_response_terminates_with_an_abort(PageResponseCode code)
    {
        var rig = new DriverRig();
        long stalled = rig.Hw.Send(Unmapped);
        rig.Respond(0, code, now: 0);
        Assert.Equal(TransactionOutcome.Aborted, rig.Hw.OutcomeOf(stalled));
        Assert.Equal(1, rig.Driver.Counters.Terminates);
    }

    [Fact]
    public void H_SMMUv2_12_no_handler_at_the_rid_terminates_through_the_framework()
    {
        var rig = new DriverRig(attach: false);
        long stalled = rig.Hw.Send(Unmapped);
        Assert.Equal(TransactionOutcome.Aborted, rig.Hw.OutcomeOf(stalled));
        Assert.Null(rig.Hw.Cb.Stalled);
    }

    [Fact]
    public void H_SMMUv2_12_a_response_for_an_older_stall_writes_no_resume()
    {
        var rig = new DriverRig();
        rig.Hw.Send(Unmapped);
        rig.Driver.PageResponse(rig.Device, default, new PageResponse(0, 7, PageResponseCode.Success), now: 0);
        Assert.Equal(1, rig.Driver.Counters.StaleResponses);
        Assert.NotNull(rig.Hw.Cb.Stalled);
        Assert.Equal(0, rig.Hw.Smmu.Counters.Retries);
    }

    [Fact]
    public void H_SMMUv2_11_terminate_mode_faults_are_cleared_and_counted_without_a_report()
    {
        var rig = new DriverRig();
        rig.Hw.Configure(stall: false);
        long id = rig.Hw.Send(Unmapped);
        Assert.Equal(TransactionOutcome.Aborted, rig.Hw.OutcomeOf(id));
        Assert.Equal(1, rig.Driver.Counters.NonStallFaults);
        Assert.Empty(rig.Handler.Groups);
        Assert.Equal(0u, rig.Hw.Cb.Read(ContextBankRegisters.Fsr));
    }

    [Fact]
    public void H_SMMUv2_11_a_spurious_interrupt_is_not_handled()
    {
        var rig = new DriverRig();
        Assert.False(rig.Driver.HandleContextFault(Bank, 0));
        Assert.Equal(1, rig.Driver.Counters.SpuriousInterrupts);
    }

    [Fact]
    public void H_SMMUv2_11_a_stall_from_a_stream_without_a_master_is_terminated()
    {
        var rig = new DriverRig();
        rig.Hw.Smmu.MapStream(0x30, Bank); // mapped in hardware, unknown to the driver
        long id = rig.Hw.Send(Unmapped, sid: 0x30);
        Assert.Equal(TransactionOutcome.Aborted, rig.Hw.OutcomeOf(id));
        Assert.Equal(1, rig.Driver.Counters.UnknownStreams);
        Assert.True(rig.Hw.Cb.Sctlr.Cfie);
    }
}
