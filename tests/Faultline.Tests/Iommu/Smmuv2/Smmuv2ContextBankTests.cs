using Faultline.Devices;
using Faultline.Iommu.Smmuv2;
using static Faultline.Tests.Iommu.Smmuv2.Smmuv2Rig;

namespace Faultline.Tests.Iommu.Smmuv2;

public sealed class Smmuv2ContextBankTests
{
    [Fact]
    public void H_SMMUv2_2_streams_select_their_bank_unmatched_abort_and_m_0_bypasses()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        long hit = rig.Send(Mapped);
        long stray = rig.Send(Mapped, sid: 0x99);
        Assert.Equal(TransactionOutcome.Completed, rig.OutcomeOf(hit));
        Assert.Equal(TransactionOutcome.Aborted, rig.OutcomeOf(stray));
        Assert.Equal(1, rig.Smmu.Counters.UnmatchedStreams);
        Assert.Equal(Bank, rig.Smmu.ContextBankOf(Sid));

        // OtherBank has SCTLR.M = 0: untranslated, even at an unmapped address.
        long bypass = rig.Send(Unmapped, sid: OtherSid);
        Assert.Equal(TransactionOutcome.Completed, rig.OutcomeOf(bypass));
        Assert.Equal(1, rig.Smmu.Counters.Bypassed);
    }

    [Fact]
    public void H_SMMUv2_3_a_stall_latches_fsr_far_fsynr0_and_cbfrsynra_and_holds_the_transaction()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        long id = rig.Send(Unmapped + 0x10, write: true, privileged: true, now: 100);

        Assert.Null(rig.OutcomeOf(id));
        Assert.Equal(id, rig.Cb.Stalled!.Value.Id);
        Assert.Equal(Fsr.SsBit | Fsr.TfBit, rig.Cb.Read(ContextBankRegisters.Fsr));
        Assert.Equal(Unmapped + 0x10, rig.Cb.ReadFar());
        Assert.Equal((uint)(Unmapped + 0x10), rig.Cb.Read(ContextBankRegisters.Far));
        Assert.Equal(0u, rig.Cb.Read(ContextBankRegisters.Far + 4));
        Assert.Equal(Fsynr0.WnrBit | Fsynr0.PnuBit, rig.Cb.Read(ContextBankRegisters.Fsynr0));
        Assert.Equal(Sid, rig.Smmu.ReadGr1(Cbfrsynra.Offset(Bank)));
        Assert.Equal(0u, rig.Cb.Read(ContextBankRegisters.Fsynr1));
        Assert.Equal([Bank], rig.Platform.Interrupts);
        Assert.Equal(1, rig.Smmu.Counters.Stalls);
    }

    [Fact]
    public void H_SMMUv2_3_a_write_to_a_read_only_page_is_a_permission_fault()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        rig.Table.Map(0x5000_0000, read: true, write: false);
        rig.Send(0x5000_0000, write: true);
        Assert.Equal(new Fsr { Pf = true, Ss = true }, rig.Fsr);
    }

    [Fact]
    public void H_SMMUv2_4_transactions_behind_a_stall_are_held_in_order_and_go_on_after_resume()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        long stalled = rig.Send(Unmapped, now: 10);
        long a = rig.Send(Mapped, now: 20);
        long b = rig.Send(Mapped + 8, write: true, now: 30);
        long other = rig.Send(Mapped, sid: OtherSid, now: 40); // another bank is not held
        Assert.Equal(2, rig.Cb.HeldCount);
        Assert.Equal([other], rig.Platform.Ended.Select(e => e.Id));

        rig.Cb.Write(ContextBankRegisters.Fsr, Fsr.TfBit | Fsr.SsBit, 50);
        rig.Table.Map(Unmapped);
        rig.WriteResume(terminate: false, now: 1_000);

        Assert.Equal([other, stalled, a, b], rig.Platform.Ended.Select(e => e.Id));
        Assert.All(rig.Platform.Ended, e => Assert.Equal(TransactionOutcome.Completed, e.Outcome));
        Assert.Equal(2, rig.Smmu.Counters.HeldBehind);
        Assert.Equal(990, rig.Smmu.Counters.LongestHold);
        Assert.Equal(0, rig.Cb.HeldCount);
        Assert.Equal(0u, rig.Cb.Read(ContextBankRegisters.Fsr));
    }

    [Fact]
    public void H_SMMUv2_4_with_hupcf_hits_pass_a_stall_and_misses_wait_behind_it_with_multi()
    {
        var rig = new Smmuv2Rig();
        rig.Configure(hupcf: true);
        long stalled = rig.Send(Unmapped);
        long hit = rig.Send(Mapped);
        long miss = rig.Send(Unmapped + 0x1000);
        Assert.Equal([hit], rig.Platform.Ended.Select(e => e.Id));
        Assert.Equal(1, rig.Cb.HeldCount);
        Assert.True(rig.Fsr.Multi);
        Assert.Equal(Unmapped, rig.Cb.ReadFar()); // the stalled fault's syndrome is kept

        rig.Cb.Write(ContextBankRegisters.Fsr, Fsr.FaultBits, 0);
        rig.WriteResume(terminate: true);
        // The held miss is translated again and is now the bank's one stall.
        Assert.Equal([hit, stalled], rig.Platform.Ended.Select(e => e.Id));
        Assert.Equal(miss, rig.Cb.Stalled!.Value.Id);
        Assert.Equal(Unmapped + 0x1000, rig.Cb.ReadFar());
    }

    [Fact]
    public void H_SMMUv2_5_retry_that_faults_again_stalls_again_and_the_held_ones_keep_waiting()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        long stalled = rig.Send(Unmapped);
        long held = rig.Send(Mapped);
        rig.Cb.Write(ContextBankRegisters.Fsr, Fsr.TfBit | Fsr.SsBit, 0);
        rig.WriteResume(terminate: false); // the page is still not mapped

        Assert.Equal(stalled, rig.Cb.Stalled!.Value.Id);
        Assert.Equal(new Fsr { Tf = true, Ss = true }, rig.Fsr);
        Assert.Equal(1, rig.Cb.HeldCount);
        Assert.Empty(rig.Platform.Ended);
        Assert.Equal(2, rig.Smmu.Counters.Stalls);
        Assert.Equal(1, rig.Smmu.Counters.Retries);
        Assert.Null(rig.OutcomeOf(held));
    }

    [Fact]
    public void H_SMMUv2_5_terminate_aborts_the_stalled_transaction_to_its_master()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        long stalled = rig.Send(Unmapped);
        long held = rig.Send(Mapped);
        rig.Cb.Write(ContextBankRegisters.Fsr, Fsr.TfBit | Fsr.SsBit, 0);
        rig.WriteResume(terminate: true);

        Assert.Equal([(stalled, TransactionOutcome.Aborted), (held, TransactionOutcome.Completed)], rig.Platform.Ended);
        Assert.Equal(1, rig.Smmu.Counters.ResumeTerminations);
        Assert.Null(rig.Cb.Stalled);
    }

    [Fact]
    public void H_SMMUv2_5_resume_without_a_stall_and_a_malformed_resume_are_ignored()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        rig.WriteResume(terminate: false);
        Assert.Equal(1, rig.Smmu.Counters.ResumesWithoutStall);

        long stalled = rig.Send(Unmapped);
        rig.Cb.Write(ContextBankRegisters.Resume, 0x2, 0); // bit 1 is reserved
        Assert.Equal(1, rig.Smmu.Counters.RejectedWrites);
        Assert.Equal(stalled, rig.Cb.Stalled!.Value.Id);
    }

    [Fact]
    public void H_SMMUv2_6_fsr_is_write_one_to_clear_but_ss_stays_until_resume()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        rig.Send(Unmapped);
        rig.Cb.Write(ContextBankRegisters.Fsr, Fsr.PfBit, 0); // not set: nothing changes
        Assert.Equal(Fsr.TfBit | Fsr.SsBit, rig.Cb.Read(ContextBankRegisters.Fsr));
        rig.Cb.Write(ContextBankRegisters.Fsr, Fsr.TfBit | Fsr.SsBit, 0); // Linux writes back what it read
        Assert.Equal(Fsr.SsBit, rig.Cb.Read(ContextBankRegisters.Fsr));
        rig.WriteResume(terminate: true);
        Assert.Equal(0u, rig.Cb.Read(ContextBankRegisters.Fsr));
    }

    [Fact]
    public void H_SMMUv2_7_a_fault_while_fsr_records_one_sets_multi_and_is_not_recorded()
    {
        var rig = new Smmuv2Rig();
        rig.Configure(stall: false, hupcf: true);
        long first = rig.Send(Unmapped);
        long second = rig.Send(Unmapped + 0x2000, write: true);
        Assert.Equal(new Fsr { Tf = true, Multi = true }, rig.Fsr);
        Assert.Equal(Unmapped, rig.Cb.ReadFar());
        Assert.Equal(0u, rig.Cb.Read(ContextBankRegisters.Fsynr0)); // the first fault's (a read)
        Assert.Equal(TransactionOutcome.Aborted, rig.OutcomeOf(first));
        Assert.Equal(TransactionOutcome.Aborted, rig.OutcomeOf(second));
        Assert.Equal(1, rig.Smmu.Counters.MultiFaults);
    }

    [Fact]
    public void H_SMMUv2_7_a_stall_fault_that_fsr_cannot_record_is_terminated()
    {
        var rig = new Smmuv2Rig();
        rig.Configure(hupcf: true);
        long stalled = rig.Send(Unmapped);
        rig.WriteResume(terminate: true); // FSR.TF not cleared first
        long next = rig.Send(Unmapped + 0x3000);
        Assert.Equal(TransactionOutcome.Aborted, rig.OutcomeOf(next));
        Assert.True(rig.Fsr.Multi);
        Assert.Null(rig.Cb.Stalled);
        Assert.Equal(TransactionOutcome.Aborted, rig.OutcomeOf(stalled));
    }

    [Fact]
    public void H_SMMUv2_8_the_interrupt_is_level_cfie_gated_and_raised_on_each_rising_edge()
    {
        var rig = new Smmuv2Rig();
        rig.Configure(cfie: false);
        rig.Send(Unmapped);
        Assert.Empty(rig.Platform.Interrupts);
        Assert.False(rig.Cb.InterruptAsserted);

        rig.Configure(cfie: true); // FSR holds a fault: the line rises now
        Assert.Equal([Bank], rig.Platform.Interrupts);
        rig.Cb.Write(ContextBankRegisters.Fsr, Fsr.TfBit | Fsr.SsBit, 0);
        Assert.True(rig.Cb.InterruptAsserted); // SS still set (the spurious-interrupt case Linux masks with CFIE)
        rig.WriteResume(terminate: true);
        Assert.False(rig.Cb.InterruptAsserted);
        rig.Send(Unmapped);
        Assert.Equal([Bank, Bank], rig.Platform.Interrupts);
        Assert.Equal(2, rig.Smmu.Counters.ContextInterrupts);
    }

    [Theory]
    [InlineData(true, TransactionOutcome.Aborted)]
    [InlineData(false, TransactionOutcome.TerminatedRazWi)]
    public void H_SMMUv2_9_terminate_mode_records_the_fault_and_ends_the_transaction(bool cfre, TransactionOutcome outcome)
    {
        var rig = new Smmuv2Rig();
        rig.Configure(stall: false, cfre: cfre);
        long id = rig.Send(Unmapped, instruction: true);
        Assert.Equal(outcome, rig.OutcomeOf(id));
        Assert.Equal(new Fsr { Tf = true }, rig.Fsr);
        Assert.Equal(Fsynr0.IndBit, rig.Cb.Read(ContextBankRegisters.Fsynr0));
        Assert.Null(rig.Cb.Stalled);
        Assert.Equal(1, rig.Smmu.Counters.FaultTerminations);
        Assert.Equal([Bank], rig.Platform.Interrupts);
    }

    [Fact]
    public void H_SMMUv2_10_without_hupcf_a_recorded_fault_terminates_later_transactions_until_fsr_is_cleared()
    {
        var rig = new Smmuv2Rig();
        rig.Configure(stall: false);
        rig.Send(Unmapped);
        long hit = rig.Send(Mapped);
        Assert.Equal(TransactionOutcome.Aborted, rig.OutcomeOf(hit));
        Assert.Equal(1, rig.Smmu.Counters.TerminatedUnderFault);

        rig.Cb.Write(ContextBankRegisters.Fsr, Fsr.TfBit, 0);
        long after = rig.Send(Mapped);
        Assert.Equal(TransactionOutcome.Completed, rig.OutcomeOf(after));
    }

    [Fact]
    public void H_SMMUv2_10_resume_before_clearing_fsr_terminates_the_held_transactions()
    {
        // The downstream Qualcomm order (RESUME, then FSR) with HUPCF = 0: the held ones meet the recorded fault.
        var rig = new Smmuv2Rig();
        rig.Configure();
        long stalled = rig.Send(Unmapped);
        long held = rig.Send(Mapped);
        rig.WriteResume(terminate: true);
        Assert.Equal([(stalled, TransactionOutcome.Aborted), (held, TransactionOutcome.Aborted)], rig.Platform.Ended);
    }

    [Fact]
    public void H_SMMUv2_1_a_malformed_sctlr_write_is_rejected()
    {
        var rig = new Smmuv2Rig();
        rig.Configure();
        rig.Cb.Write(ContextBankRegisters.Sctlr, 1u << 31, 0);
        Assert.Equal(1, rig.Smmu.Counters.RejectedWrites);
        Assert.True(rig.Cb.Sctlr.Cfcfg);
    }
}
