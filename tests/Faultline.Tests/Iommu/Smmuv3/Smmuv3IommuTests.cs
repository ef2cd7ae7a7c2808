using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv3;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Smmuv3;

/// <summary>The SMMUv3 hardware model: registers, PRIQ, EVTQ, CMDQ and the stall model (smmuv3.md §1-§6).</summary>
public sealed class Smmuv3IommuTests
{
    private static Smmuv3Iommu Bare(Smmuv3Config config, RecordingSmmuv3Platform platform) => new(config, platform);

    [Fact]
    public void H_SMMU_1_pri_entries_need_idr0_pri_and_priqen()
    {
        var platform = new RecordingSmmuv3Platform();
        var noPri = Bare(Smmuv3Rig.Config() with { PriSupported = false }, platform);
        Assert.Equal(0u, noPri.Idr0 & Smmuv3Iommu.Idr0Pri);
        noPri.WriteCr0(Smmuv3Iommu.Cr0PriQueueEnable | Smmuv3Iommu.Cr0SmmuEnable);
        Assert.Equal(Smmuv3Iommu.Cr0SmmuEnable, noPri.Cr0Ack); // PRIQEN does not stick
        noPri.SetPciStream(new RequesterId(Smmuv3Rig.FunctionRid));
        Assert.Null(noPri.OnPageRequest(Smmuv3Rig.Request()));

        var smmu = Bare(Smmuv3Rig.Config(), platform);
        Assert.Equal(Smmuv3Iommu.Idr0Pri | Smmuv3Iommu.Idr0Ats, smmu.Idr0);
        smmu.SetPciStream(new RequesterId(Smmuv3Rig.FunctionRid));
        Assert.Null(smmu.OnPageRequest(Smmuv3Rig.Request(last: false))); // PRIQEN still clear
        smmu.WriteCr0(Smmuv3Iommu.Cr0PriQueueEnable);
        Assert.Equal(RingWrite.Written, smmu.OnPageRequest(Smmuv3Rig.Request()));
        Assert.Equal(1, smmu.Counters.PriEntries);
        Assert.Equal(2, smmu.Counters.RefusedAtGate + noPri.Counters.RefusedAtGate);
        // [UNVERIFIED] default: the refused last request was answered Invalid Request; the non-last one not at all.
        Assert.Equal([new PrgResponse(new RequesterId(Smmuv3Rig.FunctionRid), PrgIndex.Create(1), ResponseCode.InvalidRequest, new Pasid(Smmuv3Rig.FunctionPasid))],
            platform.Responses);
    }

    [Fact]
    public void H_SMMU_1_registers_report_the_configuration()
    {
        var smmu = Bare(Smmuv3Rig.Config(stallMax: 12) with { StallModel = StallModel.StallForced, CommandQueueShift = 7 }, new RecordingSmmuv3Platform());
        Assert.Equal(0b10u, (smmu.Idr0 >> Smmuv3Iommu.Idr0StallModelShift) & 0x3);
        Assert.Equal((7u << 21) | (3u << 16) | (3u << 11), smmu.Idr1);
        Assert.Equal(12u << 16, smmu.Idr5);
    }

    [Fact]
    public void H_SMMU_2_each_accepted_request_writes_one_entry_and_advances_prod()
    {
        var rig = new Smmuv3Rig();
        rig.Smmu.SetPciStream(new RequesterId(Smmuv3Rig.FunctionRid));
        Assert.Equal(RingWrite.Written, rig.Smmu.OnPageRequest(Smmuv3Rig.Request(write: true, last: false, index: 5, address: 0x7000_3000, execute: true)));
        Assert.Equal(RingWrite.Written, rig.Smmu.OnPageRequest(Smmuv3Rig.Request(index: 5, pasid: null)));
        Assert.Equal(2u, rig.Smmu.PriQueueProducer);
        Assert.Equal(1, rig.Platform.PriInterrupts); // on empty → non-empty only
        var first = PriQueueEntry.Decode(rig.Smmu.ReadPriQueue(0)).Value;
        Assert.Equal(new PriQueueEntry(Smmuv3Rig.FunctionRid, true, new Pasid(Smmuv3Rig.FunctionPasid), false, true, true, true, false, PrgIndex.Create(5), 0x7000_3000), first);
        var second = PriQueueEntry.Decode(rig.Smmu.ReadPriQueue(1)).Value;
        Assert.False(second.SubstreamValid);
        Assert.True(second.Last);
    }

    [Fact]
    public void H_SMMU_3_full_priq_toggles_ovflg_discards_and_answers_a_lost_last_request_success()
    {
        var rig = new Smmuv3Rig();
        rig.Smmu.SetPciStream(new RequesterId(Smmuv3Rig.FunctionRid));
        for (int i = 0; i < 8; i++) rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: false, index: i));
        Assert.Equal(RingWrite.Full, rig.Smmu.OnPageRequest(Smmuv3Rig.Request(last: false, index: 9)));
        Assert.Equal(RingWrite.Full, rig.Smmu.OnPageRequest(Smmuv3Rig.Request(index: 9)));
        Assert.Equal(RingWrite.Full, rig.Smmu.OnPageRequest(PageRequest.StopMarker(new RequesterId(Smmuv3Rig.FunctionRid), new Pasid(1), PrgIndex.Create(3))));
        Assert.Equal(RingQueue.OverflowFlagBit | 0b1000u, rig.Smmu.PriQueueProducer);
        Assert.Equal(0u, rig.Smmu.PriQueueConsumer);
        Assert.Equal(3, rig.Smmu.Counters.PriDiscarded);
        Assert.Equal(2, rig.Platform.PriInterrupts); // became non-empty, then OVFLG toggled
        // Only the discarded last request is answered, Success, as H-VTD-5; never a Stop Marker.
        Assert.Equal([new PrgResponse(new RequesterId(Smmuv3Rig.FunctionRid), PrgIndex.Create(9), ResponseCode.Success, new Pasid(Smmuv3Rig.FunctionPasid))],
            rig.Platform.Responses);
    }

    [Fact]
    public void H_SMMU_3_auto_response_switch_none_answers_nothing()
    {
        var platform = new RecordingSmmuv3Platform();
        var smmu = Bare(Smmuv3Rig.Config() with { DiscardAutoResponse = DiscardAutoResponse.None }, platform);
        smmu.WriteCr0(Smmuv3Iommu.Cr0PriQueueEnable);
        smmu.SetPciStream(new RequesterId(Smmuv3Rig.FunctionRid));
        for (int i = 0; i < 9; i++) smmu.OnPageRequest(Smmuv3Rig.Request(index: i));
        Assert.Equal(1, smmu.Counters.PriDiscarded);
        Assert.Empty(platform.Responses);
    }

    [Fact]
    public void H_SMMU_5_stage1_fault_on_a_stall_stream_holds_the_transaction_and_writes_a_stall_event()
    {
        var rig = new Smmuv3Rig();
        rig.AddMaster(pasid: 7);
        var t = rig.Send(address: 0x5000_0123, write: true, substream: 7, privileged: true);
        Assert.Empty(rig.Platform.Completions);
        Assert.Equal(1, rig.Smmu.StallsInUse);
        Assert.Equal(1, rig.Smmu.StalledCount(Smmuv3Rig.MasterSid));
        var e = Assert.Single(rig.Events());
        ushort stag = Assert.Single(rig.Smmu.StallTags(Smmuv3Rig.MasterSid));
        Assert.Equal(new FaultEvent(FaultEvent.TranslationFault, Smmuv3Rig.MasterSid, true, new Pasid(7), stag, Stall: true,
            PnU: true, InD: false, RnW: false, S2: false, Class: 0b10, InputAddress: 0x5000_0123, Ipa: 0), e);
        Assert.Equal(1, rig.Platform.EventInterrupts);
        Assert.Equal([(1, rig.Now)], rig.Platform.Occupancy);
        Assert.Equal(0, t.Id);
    }

    [Fact]
    public void H_SMMU_5_a_permission_fault_stalls_as_f_permission()
    {
        var rig = new Smmuv3Rig();
        var (_, table) = rig.AddMaster();
        table.Map(0x2000, read: true, write: false);
        rig.Send(address: 0x2000);
        rig.Send(address: 0x2000, write: true);
        rig.Send(address: 0x2000, instruction: true);
        Assert.Equal(TransactionOutcome.Completed, rig.Platform.OutcomeOf(0));
        Assert.Equal([FaultEvent.PermissionFault, FaultEvent.PermissionFault], rig.Events().Select(e => e.EventId));
        Assert.Equal([false, true], rig.Events().Select(e => e.RnW));
        Assert.True(rig.Events()[1].InD);
        Assert.Equal(2, rig.Smmu.StallsInUse);
    }

    [Theory]
    [InlineData(false, false, true, StallModel.StallAndTerminate, true)]   // CD.S = 0
    [InlineData(true, true, true, StallModel.StallAndTerminate, true)]     // STE.S1STALLD = 1
    [InlineData(true, false, true, StallModel.TerminateOnly, true)]        // IDR0.STALL_MODEL = 0b01
    [InlineData(true, false, false, StallModel.StallAndTerminate, true)]   // CD.R = 0: neither stalled nor recorded
    [InlineData(false, false, true, StallModel.StallAndTerminate, false)]  // CD.A = 0: read-as-zero / write-ignored
    public void H_SMMU_5_a_stream_that_may_not_stall_records_the_fault_and_terminates(bool stall, bool stallDisabled, bool record, StallModel model, bool abort)
    {
        var platform = new RecordingSmmuv3Platform();
        var smmu = Bare(Smmuv3Rig.Config() with { StallModel = model }, platform);
        smmu.WriteCr0(Smmuv3Iommu.Cr0SmmuEnable | Smmuv3Iommu.Cr0EventQueueEnable);
        smmu.SetStallStream(Smmuv3Rig.MasterSid, new StallStreamConfig { Stall = stall, StallDisabled = stallDisabled, Record = record, AbortOnTerminate = abort })
            .Install(0, new MapTable());
        smmu.OnTransaction(new StallTransaction(1, Smmuv3Rig.MasterSid, null, 0x9000, Write: false), 5);
        Assert.Equal(abort ? TransactionOutcome.Aborted : TransactionOutcome.TerminatedRazWi, platform.OutcomeOf(1));
        Assert.Equal(0, smmu.Counters.Stalls);
        Assert.Equal(1, smmu.Counters.FaultsTerminated);
        Assert.Equal(record ? 1 : 0, smmu.EventQueue.Count);
        if (record) Assert.False(FaultEvent.Decode(smmu.EventQueue.At(0)).Value.Stall);
    }

    [Fact]
    public void H_SMMU_5_configuration_errors_are_never_stalled()
    {
        var rig = new Smmuv3Rig();
        rig.AddMaster();
        rig.Send(streamId: 0x99);
        rig.Send(substream: 3); // no CD for SubstreamID 3
        Assert.Equal([Smmuv3Iommu.BadStreamIdEvent, Smmuv3Iommu.BadSubstreamIdEvent], rig.Events().Select(e => e.EventId));
        Assert.All(rig.Events(), e => Assert.False(e.Stall));
        Assert.Equal([TransactionOutcome.Aborted, TransactionOutcome.Aborted], rig.Platform.Completions.Select(c => c.Outcome));
        Assert.Equal(2, rig.Smmu.Counters.ConfigurationErrors);
        Assert.Equal(0, rig.Smmu.StallsInUse);
    }

    [Fact]
    public void H_SMMU_5_stall_forced_makes_cd_s_0_and_s1stalld_illegal()
    {
        var smmu = Bare(Smmuv3Rig.Config() with { StallModel = StallModel.StallForced }, new RecordingSmmuv3Platform());
        Assert.Throws<ArgumentException>(() => smmu.SetStallStream(1, new StallStreamConfig { Stall = false }));
        Assert.Throws<ArgumentException>(() => smmu.SetStallStream(1, new StallStreamConfig { StallDisabled = true }));
        smmu.SetStallStream(1, new StallStreamConfig());
        Assert.False(smmu.SetStallDisabled(1, true));
        Assert.False(smmu.StallDisabled(1));
    }

    [Fact]
    public void H_SMMU_6_resume_retry_retranslates_and_completes_once_the_page_is_mapped()
    {
        var rig = new Smmuv3Rig();
        var (_, table) = rig.AddMaster();
        var t = rig.Send(address: 0x3000);
        ushort stag = rig.Events()[0].StallTag;
        // Retry with the page still absent: a new stall, a new event, a new STAG.
        rig.Resume(Smmuv3Rig.MasterSid, stag, ResumeAction.Retry);
        Assert.Equal(2, rig.Events().Count);
        ushort again = rig.Events()[1].StallTag;
        Assert.NotEqual(stag, again);
        Assert.Equal(1, rig.Smmu.StallsInUse);
        table.Map(0x3000);
        rig.Resume(Smmuv3Rig.MasterSid, again, ResumeAction.Retry);
        Assert.Equal(TransactionOutcome.Completed, rig.Platform.OutcomeOf(t.Id));
        Assert.Equal(0, rig.Smmu.StallsInUse);
        Assert.Equal(2, rig.Smmu.Counters.ResumedRetry);
        Assert.Equal(2, rig.Smmu.Counters.Stalls);
        rig.AssertStallsBalance();
    }

    [Theory]
    [InlineData(ResumeAction.Abort, true, TransactionOutcome.Aborted)]
    [InlineData(ResumeAction.Abort, false, TransactionOutcome.Aborted)]
    [InlineData(ResumeAction.Terminate, true, TransactionOutcome.Aborted)]
    [InlineData(ResumeAction.Terminate, false, TransactionOutcome.TerminatedRazWi)]
    public void H_SMMU_6_abort_always_aborts_and_terminate_follows_cd_a(ResumeAction action, bool cdA, TransactionOutcome expected)
    {
        var platform = new RecordingSmmuv3Platform();
        var smmu = Bare(Smmuv3Rig.Config(), platform);
        smmu.WriteCr0(Smmuv3Iommu.Cr0SmmuEnable | Smmuv3Iommu.Cr0EventQueueEnable | Smmuv3Iommu.Cr0CommandQueueEnable);
        smmu.SetStallStream(9, new StallStreamConfig { AbortOnTerminate = cdA }).Install(0, new MapTable());
        smmu.OnTransaction(new StallTransaction(1, 9, null, 0x1000, Write: true), 0);
        var bytes = new byte[16];
        new ResumeCommand(9, action, FaultEvent.Decode(smmu.EventQueue.At(0)).Value.StallTag).Encode(bytes);
        Assert.True(smmu.SubmitCommand(bytes));
        smmu.ProcessCommandQueue(10);
        Assert.Equal([(new StallTransaction(1, 9, null, 0x1000, true), expected, 10L)], platform.Completions);
    }

    [Fact]
    public void H_SMMU_6_stall_term_ends_every_stall_of_its_stream_only()
    {
        var rig = new Smmuv3Rig();
        rig.AddMaster();
        rig.AddMaster(Smmuv3Rig.OtherSid);
        rig.Send(address: 0x1000);
        rig.Send(Smmuv3Rig.OtherSid, address: 0x1000);
        rig.Send(address: 0x2000);
        var bytes = new byte[16];
        new StallTerminateCommand(Smmuv3Rig.MasterSid).Encode(bytes);
        rig.Submit(bytes);
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal([0L, 2L], rig.Platform.Completions.Select(c => c.Transaction.Id));
        Assert.All(rig.Platform.Completions, c => Assert.Equal(TransactionOutcome.Aborted, c.Outcome));
        Assert.Equal(2, rig.Smmu.Counters.StallTerminated);
        Assert.Equal(0, rig.Smmu.StalledCount(Smmuv3Rig.MasterSid));
        Assert.Equal(1, rig.Smmu.StalledCount(Smmuv3Rig.OtherSid));
        rig.AssertStallsBalance();
    }

    [Fact]
    public void H_SMMU_6_a_resume_for_an_unknown_or_stale_stag_is_counted_and_ignored()
    {
        var rig = new Smmuv3Rig(config: Smmuv3Rig.Config(stallMax: 1));
        rig.AddMaster();
        rig.AddMaster(Smmuv3Rig.OtherSid);
        rig.Send(address: 0x1000);
        ushort first = rig.Events()[0].StallTag;
        rig.Resume(Smmuv3Rig.MasterSid, first, ResumeAction.Abort);
        rig.Send(address: 0x2000); // the same slot again, a new STAG
        ushort second = rig.Events()[1].StallTag;
        Assert.NotEqual(first, second);
        rig.Resume(Smmuv3Rig.MasterSid, first, ResumeAction.Retry);     // stale
        rig.Resume(Smmuv3Rig.OtherSid, second, ResumeAction.Retry);     // right STAG, wrong stream
        rig.Resume(Smmuv3Rig.MasterSid, 0x7777, ResumeAction.Retry);    // never issued
        Assert.Equal(3, rig.Smmu.Counters.UnknownResumes);
        Assert.Equal(1, rig.Smmu.StallsInUse);
        rig.AssertStallsBalance();
    }

    [Fact]
    public void H_SMMU_8_cmd_sync_completes_and_malformed_commands_are_counted_not_executed()
    {
        var rig = new Smmuv3Rig();
        rig.AddMaster();
        rig.Send();
        ushort stag = rig.Events()[0].StallTag;
        var resume = new byte[16];
        new ResumeCommand(Smmuv3Rig.MasterSid, ResumeAction.Abort, stag).Encode(resume);
        resume[1] |= 0x30; // action field 3: not a value
        rig.Submit(resume);
        rig.Submit(Qwords.Bytes(16, 0x46, 0));   // CMD_SYNC
        rig.Submit(Qwords.Bytes(16, 0x7F, 0));   // no such opcode
        var pri = new byte[16];
        new PriResponseCommand(0xDEAD, false, default, PrgIndex.Create(1), PriResponse.Success).Encode(pri);
        rig.Submit(pri);                         // no PCIe stream 0xDEAD
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(4, rig.Smmu.Counters.Commands);
        Assert.Equal(3, rig.Smmu.Counters.CommandErrors);
        Assert.Equal(1, rig.Smmu.Counters.Syncs);
        Assert.Equal(1, rig.Smmu.StallsInUse); // the malformed resume did nothing
        Assert.Empty(rig.Platform.Responses);
        Assert.True(rig.Smmu.CommandQueue.IsEmpty);
    }

    [Fact]
    public void H_SMMU_9_back_pressure_holds_a_fault_past_stall_max_and_every_transaction_behind_it()
    {
        var rig = new Smmuv3Rig(config: Smmuv3Rig.Config(stallMax: 2));
        rig.AddMaster();
        var (_, other) = rig.AddMaster(Smmuv3Rig.OtherSid);
        other.Map(0x1000);
        rig.Send(address: 0x1000);
        rig.Send(address: 0x2000);
        var waiting = rig.Send(address: 0x3000);                  // needs a third stall slot
        var innocent = rig.Send(Smmuv3Rig.OtherSid, address: 0x1000); // mapped, but stuck behind it
        Assert.Empty(rig.Platform.Completions);
        Assert.Equal(2, rig.Smmu.WaitingTransactions);
        Assert.Equal(2, rig.Smmu.Counters.BackPressured);
        Assert.Equal(2, rig.Events().Count);
        rig.AssertStallsBalance();

        rig.Resume(Smmuv3Rig.MasterSid, rig.Events()[0].StallTag, ResumeAction.Abort);
        // The slot went to the waiting fault; the innocent transaction follows and completes.
        Assert.Equal(3, rig.Events().Count);
        Assert.Equal(0x3000UL, rig.Events()[2].InputAddress);
        Assert.Equal(TransactionOutcome.Completed, rig.Platform.OutcomeOf(innocent.Id));
        Assert.Equal(0, rig.Smmu.WaitingTransactions);
        Assert.Equal(2, rig.Smmu.StallsInUse);
        Assert.Equal(2, rig.Smmu.StallHighWater);
        Assert.Equal(2, rig.Smmu.StalledCount(Smmuv3Rig.MasterSid));
        Assert.NotEqual(waiting.Id, innocent.Id);
        rig.AssertStallsBalance();
    }

    [Fact]
    public void H_SMMU_9_abort_mode_aborts_a_fault_past_stall_max_at_once()
    {
        var rig = new Smmuv3Rig(config: Smmuv3Rig.Config(stallMax: 2, full: StallBufferFullMode.Abort));
        rig.AddMaster();
        rig.Send(address: 0x1000);
        rig.Send(address: 0x2000);
        var third = rig.Send(address: 0x3000);
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(third.Id));
        Assert.Equal(1, rig.Smmu.Counters.AbortedAtFull);
        Assert.Equal(0, rig.Smmu.Counters.BackPressured);
        Assert.Equal([true, true, false], rig.Events().Select(e => e.Stall)); // recorded, not stalled
        rig.AssertStallsBalance();
    }

    [Fact]
    public void H_SMMU_9_occupancy_is_observable_over_time()
    {
        var rig = new Smmuv3Rig();
        rig.AddMaster();
        rig.Now = 10; rig.Send(address: 0x1000);
        rig.Now = 20; rig.Send(address: 0x2000);
        rig.Now = 30; rig.Resume(Smmuv3Rig.MasterSid, rig.Events()[0].StallTag, ResumeAction.Abort);
        Assert.Equal([(1, 10L), (2, 20L), (1, 30L)], rig.Platform.Occupancy);
        Assert.Equal(2, rig.Smmu.StallHighWater);
    }

    /// <summary>No architected stall timeout: a stall stays held until software resumes or terminates it, however late.</summary>
    [Fact]
    public void H_SMMU_11_a_stall_is_held_until_software_answers_however_long_that_takes()
    {
        var rig = new Smmuv3Rig();
        rig.AddMaster();
        rig.Now = 100;
        var held = rig.Send(address: 0x1000);
        Assert.Equal(1, rig.Smmu.StallsInUse);

        rig.Now = 10_000_000_000; // ten seconds of model time later
        Assert.Empty(rig.Platform.Completions);
        Assert.Equal(1, rig.Smmu.StallsInUse);
        rig.Resume(Smmuv3Rig.MasterSid, rig.Events()[0].StallTag, ResumeAction.Abort);

        var completion = Assert.Single(rig.Platform.Completions);
        Assert.Equal((held, TransactionOutcome.Aborted), (completion.Transaction, completion.Outcome));
        Assert.Equal(0, rig.Smmu.StallsInUse);
        rig.AssertStallsBalance();
    }

    [Fact]
    public void H_SMMU_12_a_stall_whose_event_cannot_be_recorded_is_aborted()
    {
        var rig = new Smmuv3Rig(config: Smmuv3Rig.Config(stallMax: 16));
        rig.AddMaster();
        for (int i = 0; i < 8; i++) rig.Send(address: (ulong)(i + 1) << 12);
        Assert.True(rig.Smmu.EventQueue.IsFull);
        var lost = rig.Send(address: 0x100_0000);
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(lost.Id));
        Assert.Equal(8, rig.Smmu.StallsInUse);
        Assert.Equal(1, rig.Smmu.Counters.UnrecordedStallsAborted);
        Assert.Equal(1, rig.Smmu.Counters.EventsLost);
        Assert.Equal(RingQueue.OverflowFlagBit | 0b1000u, rig.Smmu.EventQueueProducer);
        Assert.Equal(2, rig.Platform.EventInterrupts);
        rig.AssertStallsBalance();
    }

    [Fact]
    public void H_SMMU_12_events_are_lost_while_eventqen_is_clear()
    {
        var rig = new Smmuv3Rig();
        rig.AddMaster();
        rig.Smmu.WriteCr0(rig.Smmu.Cr0 & ~Smmuv3Iommu.Cr0EventQueueEnable);
        var t = rig.Send();
        Assert.Equal(TransactionOutcome.Aborted, rig.Platform.OutcomeOf(t.Id));
        Assert.Equal(1, rig.Smmu.Counters.EventsLost);
        Assert.True(rig.Smmu.EventQueue.IsEmpty);
    }

    [Fact]
    public void H_SMMU_2_ats_translation_and_cmd_pri_resp_reach_the_pcie_function()
    {
        var rig = new Smmuv3Rig();
        var table = rig.Smmu.SetPciStream(new RequesterId(Smmuv3Rig.FunctionRid));
        var map = new MapTable();
        map.Map(0x4000, write: false);
        table.Install(Smmuv3Rig.FunctionPasid, map);
        var prefix = new PasidPrefix(new Pasid(Smmuv3Rig.FunctionPasid), false, false);
        Assert.Equal(new TranslationCompletion(3, TranslationStatus.Success, true, false, false),
            rig.Smmu.Translate(new TranslationRequest(new RequesterId(Smmuv3Rig.FunctionRid), prefix, 0x4000, false, 3)));
        Assert.Equal(TranslationStatus.UnsupportedRequest,
            rig.Smmu.Translate(new TranslationRequest(new RequesterId(Smmuv3Rig.FunctionRid), null, 0x4000, false, 4)).Status);

        var bytes = new byte[16];
        new PriResponseCommand(Smmuv3Rig.FunctionRid, true, new Pasid(Smmuv3Rig.FunctionPasid), PrgIndex.Create(4), PriResponse.Fail).Encode(bytes);
        rig.Submit(bytes);
        new PriResponseCommand(Smmuv3Rig.FunctionRid, false, new Pasid(Smmuv3Rig.FunctionPasid), PrgIndex.Create(5), PriResponse.Deny).Encode(bytes);
        rig.Submit(bytes);
        rig.Smmu.ProcessCommandQueue(rig.Now);
        var rid = new RequesterId(Smmuv3Rig.FunctionRid);
        // The PASID prefix goes out iff SSV.
        Assert.Equal([
            new PrgResponse(rid, PrgIndex.Create(4), ResponseCode.ResponseFailure, new Pasid(Smmuv3Rig.FunctionPasid)),
            new PrgResponse(rid, PrgIndex.Create(5), ResponseCode.InvalidRequest, null)], rig.Platform.Responses);
    }

    [Fact]
    public void H_SMMU_8_commands_wait_while_cmdqen_is_clear()
    {
        var rig = new Smmuv3Rig();
        rig.Smmu.WriteCr0(rig.Smmu.Cr0 & ~Smmuv3Iommu.Cr0CommandQueueEnable);
        rig.Submit(Qwords.Bytes(16, 0x46, 0));
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(0, rig.Smmu.Counters.Syncs);
        rig.Smmu.WriteCr0(rig.Smmu.Cr0 | Smmuv3Iommu.Cr0CommandQueueEnable);
        rig.Smmu.ProcessCommandQueue(rig.Now);
        Assert.Equal(1, rig.Smmu.Counters.Syncs);
    }
}
