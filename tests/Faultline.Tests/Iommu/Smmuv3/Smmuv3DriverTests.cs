using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Smmuv3;

/// <summary>The Linux SMMUv3 driver's fault paths: PRIQ (R38 / the PRI series), EVTQ stalls (R36, R37), page_response (R22).</summary>
public sealed class Smmuv3DriverTests
{
    private static readonly RequesterId Rid = new(Smmuv3Rig.FunctionRid);

    private static PriResponseCommand PriCommand(byte[] bytes) => PriResponseCommand.Decode(bytes).Value;

    [Fact]
    public void R38_H_SMMU_4_linux_logs_every_pri_request_and_denies_the_last_with_ssv_copied()
    {
        // A function whose PRI is on although mainline never enables it (R38): the PRI series' probe does it here.
        var rig = new Smmuv3Rig(FaultPolicy.Linux, driverConfig: Smmuv3DriverConfig.Linux with { PriSeries = true });
        Assert.Equal(PriService.Deny, rig.Driver.Config.PriService);
        var (status, device, table) = rig.Driver.AddDevice(rig.ProbedFunction(), "fn");
        Assert.Equal(FaultStatus.NoDevice, status); // no IOPF over PRI upstream, but the STE translates
        Assert.Null(device);
        Assert.NotNull(table);
        rig.Smmu.OnPageRequest(Smmuv3Rig.Request(write: true, last: false, index: 3, address: 0x7000, privileged: true));
        rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: true, index: 3, address: 0x8000, execute: true));
        rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: true, index: 4, address: 0x9000, pasid: null));
        Assert.Equal(3, rig.Driver.HandlePageRequests(now: 0));

        Assert.Equal([
            "unexpected PRI request received:",
            "\tsid 0x00000300.0x00042: [3] privileged RW access at iova 0x0000000000007000",
            "unexpected PRI request received:",
            "\tsid 0x00000300.0x00042: [3L] unprivileged RX access at iova 0x0000000000008000",
            "unexpected PRI request received:",
            "\tsid 0x00000300.0x00000: [4L] unprivileged R access at iova 0x0000000000009000"], rig.Log);
        var commands = rig.Commands().Select(PriCommand).ToArray();
        Assert.Equal([
            new PriResponseCommand(Smmuv3Rig.FunctionRid, true, new Pasid(Smmuv3Rig.FunctionPasid), PrgIndex.Create(3), PriResponse.Deny),
            new PriResponseCommand(Smmuv3Rig.FunctionRid, false, default, PrgIndex.Create(4), PriResponse.Deny)], commands);
        Assert.Equal(0, rig.Framework.Counters.Reports); // nothing reaches iopf
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal([
            new PrgResponse(Rid, PrgIndex.Create(3), ResponseCode.InvalidRequest, new Pasid(Smmuv3Rig.FunctionPasid)),
            new PrgResponse(Rid, PrgIndex.Create(4), ResponseCode.InvalidRequest, null)], rig.Platform.Responses);
        Assert.Equal(0, rig.Smmu.Counters.Syncs);
    }

    [Fact]
    public void H_SMMU_2_framework_service_reports_pri_requests_and_answers_with_cmd_pri_resp()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Hardened);
        var (status, device, _) = rig.Driver.AddDevice(rig.ProbedFunction(), "fn");
        Assert.Equal(FaultStatus.Ok, status);
        Assert.Equal(FaultStatus.Ok, device!.Attach(Smmuv3Rig.FunctionPasid, new FaultAttachment("sva", rig.Handler)));
        rig.Smmu.OnPageRequest(Smmuv3Rig.Request(read: false, write: true, last: false, index: 6, address: 0x7000));
        rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: true, index: 6, address: 0x8000, execute: true, privileged: true));
        rig.Smmu.OnPageRequest(PageRequest.StopMarker(Rid, new Pasid(Smmuv3Rig.FunctionPasid), PrgIndex.Create(7)));
        rig.Driver.HandlePageRequests(now: 0);
        Assert.Equal(1, rig.Driver.Counters.StopMarkersDropped);
        var faults = Assert.Single(rig.Handler.Faults);
        var flags = FaultFlags.PasidValid | FaultFlags.ResponseNeedsPasid;
        Assert.Equal([
            new Fault(flags, Smmuv3Rig.FunctionPasid, 6, FaultPermissions.Write, 0x7000),
            new Fault(flags | FaultFlags.LastPage, Smmuv3Rig.FunctionPasid, 6, FaultPermissions.Read | FaultPermissions.Exec | FaultPermissions.Priv, 0x8000)], faults);

        rig.Respond(0, PageResponseCode.Success);
        Assert.Equal([new PriResponseCommand(Smmuv3Rig.FunctionRid, true, new Pasid(Smmuv3Rig.FunctionPasid), PrgIndex.Create(6), PriResponse.Success)],
            rig.Commands().Select(PriCommand));
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal([new PrgResponse(Rid, PrgIndex.Create(6), ResponseCode.Success, new Pasid(Smmuv3Rig.FunctionPasid))], rig.Platform.Responses);
        Assert.Equal(0, rig.Smmu.Counters.Syncs); // H-SMMU-8: no CMD_SYNC behind it
    }

    [Fact]
    public void POL_11_pri_resp_linux_uses_the_pri_series_numbering_hardened_maps_by_meaning()
    {
        // The series: FAILURE 0, INVALID 1, SUCCESS 2 — which the SMMU reads as Deny, Fail, Success.
        Assert.Equal((PriResponse)0, Smmuv3Driver.PriResponseFor(PageResponseCode.Failure, WireCodePolicy.EnumVerbatim));
        Assert.Equal((PriResponse)1, Smmuv3Driver.PriResponseFor(PageResponseCode.Invalid, WireCodePolicy.EnumVerbatim));
        Assert.Equal(PriResponse.Success, Smmuv3Driver.PriResponseFor(PageResponseCode.Success, WireCodePolicy.EnumVerbatim));
        Assert.Equal(PriResponse.Deny, Smmuv3Driver.PriResponseFor(PageResponseCode.Invalid, WireCodePolicy.PerTransport));
        Assert.Equal(PriResponse.Fail, Smmuv3Driver.PriResponseFor(PageResponseCode.Failure, WireCodePolicy.PerTransport));
        Assert.Null(Smmuv3Driver.PriResponseFor((PageResponseCode)7, WireCodePolicy.PerTransport));

        // End to end: INVALID under the linux numbering reaches the function as Response Failure.
        foreach (var (policy, expected) in new[] { (FaultPolicy.Linux, ResponseCode.ResponseFailure), (FaultPolicy.Hardened, ResponseCode.InvalidRequest) })
        {
            var rig = new Smmuv3Rig(policy, driverConfig: new Smmuv3DriverConfig { PriService = PriService.Framework });
            var (_, device, _) = rig.Driver.AddDevice(rig.ProbedFunction(), "fn");
            device!.Attach(Smmuv3Rig.FunctionPasid, new FaultAttachment("sva", rig.Handler));
            rig.Smmu.OnPageRequest(Smmuv3Rig.Request());
            rig.Driver.HandlePageRequests(now: 0);
            rig.Respond(0, PageResponseCode.Invalid);
            rig.Smmu.ProcessCommandQueue(rig.Now);
            Assert.Equal(expected, Assert.Single(rig.Platform.Responses).Code);
        }
    }

    [Fact]
    public void H_SMMU_3_priq_overflow_is_acknowledged_and_partials_discarded_under_framework_service()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Hardened);
        var (_, device, _) = rig.Driver.AddDevice(rig.ProbedFunction(), "fn");
        device!.Attach(Smmuv3Rig.FunctionPasid, new FaultAttachment("sva", rig.Handler));
        for (int i = 0; i < 9; i++) rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: false, index: i));
        Assert.True(rig.Smmu.PriQueue.Overflowed);
        Assert.Equal(8, rig.Driver.HandlePageRequests(now: 0));
        Assert.Equal(0, device.PartialCount); // every partial discarded: the lost entry may have been a last one
        Assert.False(rig.Smmu.PriQueue.Overflowed);
        Assert.Equal(RingQueue.OverflowFlagBit | 0b1000u, rig.Smmu.PriQueueConsumer);
        Assert.Equal(["PRIQ overflow detected -- requests lost"], rig.Log);
        Assert.Equal(1, rig.Driver.Counters.PriOverflows);
    }

    [Fact]
    public void R37_linux_priq_overflow_is_logged_and_acknowledged_with_no_iopf_cleanup()
    {
        // PRI on in the function although mainline never enables it (R38), so its requests reach the PRI queue.
        var rig = new Smmuv3Rig(FaultPolicy.Linux, driverConfig: Smmuv3DriverConfig.Linux with { PriSeries = true });
        rig.Driver.AddDevice(rig.ProbedFunction(), "fn");
        for (int i = 0; i < 9; i++) rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: false, index: i));
        rig.Driver.HandlePageRequests(now: 0);
        Assert.Equal("PRIQ overflow detected -- requests lost", rig.Log[^1]);
        Assert.False(rig.Smmu.PriQueue.Overflowed);
        Assert.Equal(0, rig.Framework.Counters.Reports);
        // A second batch without a new overflow logs nothing more.
        rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: false, index: 1));
        rig.Log.Clear();
        rig.Driver.HandlePageRequests(now: 0);
        Assert.DoesNotContain("PRIQ overflow detected -- requests lost", rig.Log);
    }

    [Fact]
    public void R36_T25_a_stall_event_is_a_one_fault_group_named_by_its_stag()
    {
        var rig = new Smmuv3Rig();
        rig.AddMaster(pasid: 5);
        rig.AddMaster(Smmuv3Rig.OtherSid);
        rig.Send(address: 0x4000_0abc, write: true, substream: 5, instruction: true, privileged: true);
        rig.Send(Smmuv3Rig.OtherSid, address: 0x6000);
        var stags = rig.Events().Select(e => e.StallTag).ToArray();
        Assert.Equal(2, rig.Driver.HandleEvents(now: 0));
        Assert.Equal([
            [new Fault(FaultFlags.LastPage | FaultFlags.PasidValid, 5, stags[0], FaultPermissions.Write | FaultPermissions.Exec | FaultPermissions.Priv, 0x4000_0abc)],
            [new Fault(FaultFlags.LastPage, 0, stags[1], FaultPermissions.Read, 0x6000)]], rig.Handler.Faults);
        Assert.Equal(2, rig.Driver.Counters.StallsReported);
        Assert.True(rig.Smmu.EventQueue.IsEmpty);
    }

    [Theory]
    [InlineData(PageResponseCode.Success, ResumeAction.Retry)]
    [InlineData(PageResponseCode.Invalid, ResumeAction.Abort)]
    [InlineData(PageResponseCode.Failure, ResumeAction.Abort)]
    [InlineData((PageResponseCode)3, ResumeAction.Terminate)]
    public void R22_H_SMMU_7_response_codes_map_to_resume_actions(PageResponseCode code, ResumeAction action) =>
        Assert.Equal(action, Smmuv3Driver.ResumeActionFor(code));

    [Theory]
    [InlineData("linux")]
    [InlineData("hardened")]
    public void R22_T25_success_retries_the_stalled_transaction_and_invalid_aborts_it(string policy)
    {
        var rig = new Smmuv3Rig(FaultPolicy.ByName(policy));
        var (_, table) = rig.AddMaster();
        var good = rig.Send(address: 0x1000);
        var bad = rig.Send(address: 0x2000);
        var stags = rig.Events().Select(e => e.StallTag).ToArray();
        rig.Driver.HandleEvents(now: 0);
        table.Map(0x1000);
        rig.Respond(0, PageResponseCode.Success);
        rig.Respond(1, PageResponseCode.Invalid);
        Assert.Equal([new ResumeCommand(Smmuv3Rig.MasterSid, ResumeAction.Retry, stags[0]), new ResumeCommand(Smmuv3Rig.MasterSid, ResumeAction.Abort, stags[1])],
            rig.Commands().Select(c => ResumeCommand.Decode(c).Value));
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(TransactionOutcome.Completed, rig.Platform.OutcomeOf(good.Id));
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(bad.Id));
        Assert.Equal(0, rig.Smmu.Counters.Syncs); // H-SMMU-8
        Assert.Equal(2, rig.Smmu.Counters.Commands);
        rig.AssertStallsBalance();
    }

    [Fact]
    public void T25_a_response_for_a_master_that_cannot_stall_is_a_warned_no_op()
    {
        var rig = new Smmuv3Rig();
        var stranger = new FaultDevice("stranger", rig.Driver);
        rig.Driver.PageResponse(stranger, new Fault(FaultFlags.LastPage, 0, 1, FaultPermissions.Read, 0), new PageResponse(0, 1, PageResponseCode.Success), now: 0);
        Assert.Equal(1, rig.Driver.Counters.ResponsesWarned);
        Assert.Empty(rig.Commands());
    }

    [Fact]
    public void BUG_15_R16_a_report_the_framework_refuses_prints_the_event_and_r10_still_ends_the_stall()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Linux);
        var (_, _) = rig.AddMaster(attach: false); // no fault-capable domain
        var t = rig.Send(address: 0x1000);
        rig.Driver.HandleEvents(now: 0);
        Assert.Equal(1, rig.Driver.Counters.ReportsPrinted);
        Assert.Equal("event 0x10 received:", rig.Log[0]);
        Assert.Equal(5, rig.Log.Count);
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(t.Id)); // R10 INVALID → CMD_RESUME Abort
        Assert.Equal(0, rig.Driver.OwnerStalls("master40"));
        rig.AssertStallsBalance();
    }

    [Fact]
    public void R36_before_v6_12_stage2_and_non_stall_events_are_printed_not_reported()
    {
        var rig = new Smmuv3Rig(FaultPolicy.LinuxAt(new KernelRelease(6, 11)));
        rig.AddMaster();
        var s2 = new byte[FaultEvent.Size];
        new FaultEvent(FaultEvent.TranslationFault, Smmuv3Rig.MasterSid, false, default, 9, true, false, false, true, S2: true, 0, 0x1000, 0x1000).Encode(s2);
        Assert.Equal(RingWrite.Written, rig.Smmu.EventQueue.TryProduce(s2));
        rig.Smmu.SetStallDisabled(Smmuv3Rig.MasterSid, true);
        rig.Send(address: 0x2000); // recorded without Stall
        rig.Driver.HandleEvents(now: 0);
        Assert.Empty(rig.Handler.Faults);
        Assert.Equal(2, rig.Driver.Counters.EventsPrinted);
        Assert.Equal(["event 0x10 received:", "\t0x0000004000000010", "\t0x0000008880000009", "\t0x0000000000001000", "\t0x0000000000001000"], rig.Log.Take(5));
    }

    [Fact]
    public void R37_evtq_overflow_is_logged_and_acknowledged()
    {
        var rig = new Smmuv3Rig(config: Smmuv3Rig.Config(stallMax: 16));
        rig.AddMaster();
        for (int i = 0; i < 9; i++) rig.Send(address: (ulong)(i + 1) << 12);
        Assert.True(rig.Smmu.EventQueue.Overflowed);
        Assert.Equal(8, rig.Driver.HandleEvents(now: 0));
        Assert.Equal(["EVTQ overflow detected -- events lost"], rig.Log);
        Assert.False(rig.Smmu.EventQueue.Overflowed);
        Assert.Equal(1, rig.Driver.Counters.EventOverflows);
        Assert.Equal(8, rig.Handler.Faults.Count);
    }

    [Fact]
    public void POL_12_hardened_budget_terminates_an_owners_faults_so_other_masters_keep_stalling()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Hardened); // STALL_MAX 4: budget 2 per owner
        Assert.Equal(2, rig.Driver.Config.StallBudget);
        rig.AddMaster(owner: "guest");
        rig.AddMaster(Smmuv3Rig.OtherSid, owner: "host");
        // The guest faults three times before the driver runs: the third stall is over budget.
        rig.Send(address: 0x1000);
        rig.Send(address: 0x2000);
        var third = rig.Send(address: 0x3000);
        rig.Driver.HandleEvents(now: 0);
        Assert.Equal(2, rig.Handler.Faults.Count);
        Assert.Equal(1, rig.Driver.Counters.BudgetTerminated);
        Assert.Equal(2, rig.Driver.OwnerStalls("guest"));
        Assert.True(rig.Smmu.StallDisabled(Smmuv3Rig.MasterSid));
        Assert.False(rig.Smmu.StallDisabled(Smmuv3Rig.OtherSid));
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(third.Id)); // CMD_RESUME Terminate, CD.A = 1
        // While at budget, the guest's new faults are terminated by the SMMU at once; the host still stalls.
        var refused = rig.Send(address: 0x4000);
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(refused.Id));
        rig.Send(Smmuv3Rig.OtherSid, address: 0x4000);
        Assert.Equal(1, rig.Smmu.StalledCount(Smmuv3Rig.OtherSid));
        Assert.Equal(0, rig.Smmu.WaitingTransactions);
        // An answer brings the guest under budget: stalling is back on.
        rig.Respond(0, PageResponseCode.Invalid);
        Assert.False(rig.Smmu.StallDisabled(Smmuv3Rig.MasterSid));
        Assert.Equal(1, rig.Driver.OwnerStalls("guest"));
        rig.Smmu.ProcessCommandQueue(rig.Now);
        rig.AssertStallsBalance();
    }

    [Fact]
    public void POL_12_linux_has_no_budget_so_one_owner_can_fill_the_stall_buffer()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Linux);
        Assert.Null(rig.Driver.Config.StallBudget);
        rig.AddMaster(owner: "guest");
        var (_, host) = rig.AddMaster(Smmuv3Rig.OtherSid, owner: "host");
        host.Map(0x9000);
        for (int i = 0; i < 4; i++) rig.Send(address: (ulong)(i + 1) << 12);
        rig.Driver.HandleEvents(now: 0);
        Assert.Equal(4, rig.Driver.OwnerStalls("guest"));
        rig.Send(Smmuv3Rig.OtherSid, address: 0x1000);       // needs a slot: waits
        var blocked = rig.Send(Smmuv3Rig.OtherSid, address: 0x9000); // mapped, stuck behind it
        Assert.Equal(2, rig.Smmu.WaitingTransactions);
        Assert.DoesNotContain(rig.Platform.Completions, c => c.Transaction.Id == blocked.Id);
        Assert.Equal(0, rig.Driver.Counters.BudgetTerminated);
    }

    [Fact]
    public void H_SMMU_13_teardown_flushes_the_event_queue_then_terminates_leftover_stalls()
    {
        var rig = new Smmuv3Rig();
        var (device, _) = rig.AddMaster();
        rig.AddMaster(Smmuv3Rig.OtherSid);
        rig.Send(address: 0x1000);
        rig.Send(address: 0x2000);
        rig.Send(Smmuv3Rig.OtherSid, address: 0x1000);
        Assert.True(rig.Driver.RingHolds(Smmuv3Rig.MasterSid, 0));
        rig.Driver.TearDownStallMaster(device, now: 0);
        Assert.False(rig.Driver.RingHolds(Smmuv3Rig.MasterSid, 0)); // every event consumed first
        Assert.Equal(3, rig.Handler.Faults.Count);
        Assert.Equal([new StallTerminateCommand(Smmuv3Rig.MasterSid)], rig.Commands().Select(c => StallTerminateCommand.Decode(c).Value));
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(0, rig.Smmu.StalledCount(Smmuv3Rig.MasterSid));
        Assert.Equal(1, rig.Smmu.StalledCount(Smmuv3Rig.OtherSid));
        // The framework's groups for them are still pending; their answers name STAGs that are gone.
        rig.Respond(0, PageResponseCode.Success);
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(1, rig.Smmu.Counters.UnknownResumes);
        rig.AssertStallsBalance();
    }

    [Fact]
    public void H_SMMU_13_ring_holds_sees_pri_entries_by_stream_and_pasid()
    {
        var rig = new Smmuv3Rig(FaultPolicy.Hardened);
        rig.Driver.AddDevice(rig.ProbedFunction(), "fn");
        rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: false));
        Assert.True(rig.Driver.RingHolds(Smmuv3Rig.FunctionRid, Smmuv3Rig.FunctionPasid));
        Assert.False(rig.Driver.RingHolds(Smmuv3Rig.FunctionRid, 0));
        Assert.False(rig.Driver.RingHolds(Smmuv3Rig.MasterSid, Smmuv3Rig.FunctionPasid));
    }

    [Fact]
    public void Every_stall_is_eventually_resumed_or_terminated()
    {
        // A small host loop: two stall masters through the SMMU, the driver's EVTQ thread, a handler
        // answering at random (mapping the page or not), occasional stall-terms; then the queues drain.
        var random = new Random(11);
        var rig = new Smmuv3Rig(FaultPolicy.Hardened, Smmuv3Rig.Config(stallMax: 3));
        var (deviceA, tableA) = rig.AddMaster(owner: "guest");
        var (_, tableB) = rig.AddMaster(Smmuv3Rig.OtherSid, owner: "host");
        var masters = new Dictionary<uint, StallMaster>();
        foreach (uint sid in new[] { Smmuv3Rig.MasterSid, Smmuv3Rig.OtherSid })
            masters[sid] = new StallMaster(new StallMasterConfig { Name = $"m{sid:x}", StreamId = sid, MaxOutstanding = 2 }, new SmmuPort(rig));
        rig.Platform.OnComplete = (t, outcome, now) => masters[t.StreamId].OnTransactionCompleted(t, outcome, now);
        int answered = 0;
        for (int step = 0; step < 400; step++)
        {
            rig.Now += 10;
            if (random.Next(3) == 0)
            {
                var master = masters[random.Next(2) == 0 ? Smmuv3Rig.MasterSid : Smmuv3Rig.OtherSid];
                master.Start(new DmaAccess(step, null, (ulong)random.Next(1, 64) << 12, random.Next(1, 4), random.Next(2) == 0), rig.Now);
            }
            rig.Driver.HandleEvents(now: 0);
            while (answered < rig.Handler.Groups.Count && random.Next(2) == 0)
            {
                var fault = rig.Handler.Faults[answered][0];
                int choice = random.Next(4); // 0: Invalid; 1: Success with the page still absent (it stalls again); else map it
                if (choice > 1)
                {
                    tableA.Map(fault.Address & ~0xFFFUL);
                    tableB.Map(fault.Address & ~0xFFFUL);
                }
                rig.Framework.Respond(rig.Handler.Groups[answered++], choice == 0 ? PageResponseCode.Invalid : PageResponseCode.Success, now: 0);
            }
            if (random.Next(50) == 0) rig.Driver.TearDownStallMaster(deviceA, now: 0);
            rig.Smmu.ProcessCommandQueue(rig.Now);
            rig.AssertStallsBalance();
        }
        // Drain: map everything and answer what is left until nothing is held.
        for (int round = 0; round < 100 && !(masters.Values.All(m => m.Idle)); round++)
        {
            rig.Now += 10;
            rig.Driver.HandleEvents(now: 0);
            while (answered < rig.Handler.Groups.Count)
            {
                var fault = rig.Handler.Faults[answered][0];
                tableA.Map(fault.Address & ~0xFFFUL);
                tableB.Map(fault.Address & ~0xFFFUL);
                rig.Framework.Respond(rig.Handler.Groups[answered++], PageResponseCode.Success, now: 0);
            }
            rig.Smmu.ProcessCommandQueue(rig.Now);
        }
        var c = rig.Smmu.Counters;
        Assert.All(masters.Values, m => Assert.True(m.Idle));
        Assert.Equal(0, rig.Smmu.StallsInUse);
        Assert.True(c.Stalls > 20, $"only {c.Stalls} stalls");
        Assert.True(c.ResumedRetry > 0 && c.ResumedAbort > 0);
        Assert.Equal(c.Stalls, c.ResumedRetry + c.ResumedAbort + c.ResumedTerminate + c.StallTerminated);
        Assert.Equal(c.Transactions, masters.Values.Sum(m => m.Counters.Transactions));
        Assert.Equal(c.Transactions, c.Completed + c.Aborted + c.TerminatedRazWi);
        rig.AssertStallsBalance();
    }

    private sealed class SmmuPort(Smmuv3Rig rig) : IStallMasterPort
    {
        public void SendTransaction(in StallTransaction transaction) => rig.Smmu.OnTransaction(transaction, rig.Now);
        public void SendTransaction(in StallTransaction transaction, long delayNs) => throw new InvalidOperationException("no retries configured here");
    }
}
