using System.Buffers.Binary;
using Faultline.Iommu;
using Faultline.Iommu.Amd;
using Faultline.Pcie;
using static Faultline.Tests.Iommu.Amd.AmdRig;

namespace Faultline.Tests.Iommu.Amd;

public sealed class AmdIommuTests
{
    private const uint Overflow = AmdIommu.StatusPprOverflow;
    private const uint Int = AmdIommu.StatusPprInt;
    private const uint Run = AmdIommu.StatusPprLogRun;

    private static ulong[] Memory(AmdIommu iommu, ulong offset) =>
    [
        BinaryPrimitives.ReadUInt64LittleEndian(iommu.ReadPprLog(offset)),
        BinaryPrimitives.ReadUInt64LittleEndian(iommu.ReadPprLog(offset)[8..]),
    ];

    private static (AmdIommu Iommu, RecordingAmdPlatform Platform) Hardware(AmdConfig? config = null)
    {
        var platform = new RecordingAmdPlatform();
        var iommu = new AmdIommu(config ?? new AmdConfig { PprLogOrder = 2 }, platform);
        iommu.SetDeviceTableEntry(new RequesterId(DeviceRid), ppr: true);
        iommu.WriteControl(AmdIommu.ControlPprEn | AmdIommu.ControlPprIntEn | AmdIommu.ControlPprLogEn);
        return (iommu, platform);
    }

    private static byte[] Command(uint w0, uint w1, uint w2, uint w3)
    {
        var bytes = new byte[CompletePprRequestCommand.Size];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, w0);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), w1);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), w2);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), w3);
        return bytes;
    }

    [Fact]
    public void H_AMD_1_logged_entry_is_the_spec_layout_with_gn_the_tag_and_us_inverted()
    {
        var (iommu, platform) = Hardware();
        Assert.Equal(Run, iommu.Status);

        Assert.Equal(RingWrite.Written, iommu.OnPageRequest(Request(read: true, write: true, index: 0x1AB, address: 0x7FFF_1234_5ABC), 0));

        // type 1 | flags READ 0x004 | WRITE 0x020 | US 0x040 | GN 0x100 | tag 0x3AB (index 0x1AB, last) | PASID 0x42 | DeviceID 0x0210
        Assert.Equal([0x1164_03AB_0042_0210UL, 0x7FFF_1234_5000UL], Memory(iommu, 0));
        Assert.Equal(16UL, iommu.PprTail);
        Assert.Equal(0UL, iommu.PprHead);
        Assert.Equal(Run | Int, iommu.Status);
        Assert.Equal(1, platform.Interrupts);

        // No PASID prefix: GN = 0, PASID 0, not privileged so U/S = 1; privileged with a prefix: U/S = 0.
        iommu.OnPageRequest(Request(last: false, index: 5, pasid: null), 0);
        iommu.OnPageRequest(Request(read: false, index: 6, execute: true, privileged: true), 0);
        Assert.Equal([0x1044_0005_0000_0210UL, 0x1000UL], Memory(iommu, 16));
        Assert.Equal([0x1102_0206_0042_0210UL, 0x1000UL], Memory(iommu, 32));
        Assert.Equal(1, platform.Interrupts); // PPRInt was still set: no new edge
    }

    public static TheoryData<string> GateKinds => ["no-pprsup", "ppren-clear", "no-dte", "dte-ppr-clear"];

    [Theory]
    [MemberData(nameof(GateKinds))]
    public void H_AMD_1_nothing_is_logged_without_pprsup_ppren_or_the_dte_ppr_bit(string kind)
    {
        var (iommu, platform) = Hardware(new AmdConfig { PprLogOrder = 2, PprSupported = kind != "no-pprsup" });
        switch (kind)
        {
            case "ppren-clear": iommu.WriteControl(AmdIommu.ControlPprIntEn | AmdIommu.ControlPprLogEn); break;
            case "dte-ppr-clear": iommu.SetDeviceTableEntry(new RequesterId(DeviceRid), ppr: false); break;
        }
        ushort rid = kind == "no-dte" ? (ushort)0x0300 : DeviceRid;

        Assert.Null(iommu.OnPageRequest(Request(rid: rid), 0));

        Assert.Equal(1, iommu.Counters.RefusedAtGate);
        Assert.Equal(0UL, iommu.PprTail);
        Assert.Equal(0, platform.Interrupts);
        Assert.Empty(platform.Responses); // default: no auto-response
    }

    [Fact]
    public void H_AMD_1_nothing_is_logged_while_pprlogen_is_clear()
    {
        var (iommu, _) = Hardware();
        iommu.WriteControl(AmdIommu.ControlPprEn | AmdIommu.ControlPprIntEn);
        Assert.Equal(0u, iommu.Status & Run);
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, iommu.OnPageRequest(Request(), 0));
        Assert.Equal(1, iommu.Counters.DiscardedWhileStopped);
        Assert.Equal(0UL, iommu.PprTail);
    }

    [Fact]
    public void H_AMD_2_a_full_log_loses_the_request_sets_overflow_and_stops_until_restarted()
    {
        var (iommu, platform) = Hardware(); // 4 entries, 3 usable
        for (int i = 0; i < 3; i++) Assert.Equal(RingWrite.Written, iommu.OnPageRequest(Request(last: false, index: i), 0));
        iommu.WriteStatus(Int);
        int interrupts = platform.Interrupts;

        Assert.Equal(RingWrite.Full, iommu.OnPageRequest(Request(index: 3), 0));
        Assert.Equal(Overflow, iommu.Status); // PPRLogRun = 0
        Assert.Equal(interrupts + 1, platform.Interrupts); // overflow interrupts with PPRIntEn

        // Software empties the log and clears PPROverflow: still stopped, PPRLogRun is 0.
        Assert.True(iommu.WritePprHead(iommu.PprTail));
        iommu.WriteStatus(Overflow);
        Assert.Equal(0u, iommu.Status);
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, iommu.OnPageRequest(Request(index: 4), 0));
        Assert.Equal(48UL, iommu.PprTail);

        // PPRLogEn 0 → 1 with PPROverflow clear restarts it.
        iommu.WriteControl(AmdIommu.ControlPprEn | AmdIommu.ControlPprIntEn);
        iommu.WriteControl(AmdIommu.ControlPprEn | AmdIommu.ControlPprIntEn | AmdIommu.ControlPprLogEn);
        Assert.Equal(Run, iommu.Status);
        Assert.Equal(RingWrite.Written, iommu.OnPageRequest(Request(index: 5), 0));
        Assert.Equal((1L, 1L, 4L), (iommu.Counters.DiscardedFull, iommu.Counters.DiscardedWhileStopped, iommu.Counters.Logged));
        Assert.Empty(platform.Responses);
    }

    [Fact]
    public void H_AMD_2_setting_pprlogen_while_overflow_is_still_set_does_not_restart_the_log()
    {
        var (iommu, _) = Hardware();
        for (int i = 0; i < 4; i++) iommu.OnPageRequest(Request(index: i), 0);
        iommu.WritePprHead(iommu.PprTail);
        iommu.WriteControl(AmdIommu.ControlPprEn);
        iommu.WriteControl(AmdIommu.ControlPprEn | AmdIommu.ControlPprLogEn);
        Assert.Equal(Overflow, iommu.Status & (Overflow | Run));
        Assert.Equal(RingWrite.DiscardedWhileOverflowed, iommu.OnPageRequest(Request(), 0));
    }

    [Theory]
    [InlineData(ResponseCode.Success)]
    [InlineData(ResponseCode.InvalidRequest)]
    public void H_AMD_2_switch_auto_answers_lost_last_requests_only(ResponseCode code)
    {
        var (iommu, platform) = Hardware(new AmdConfig { PprLogOrder = 2, LostRequestAutoResponse = code });
        for (int i = 0; i < 3; i++) iommu.OnPageRequest(Request(last: false, index: i), 0);

        iommu.OnPageRequest(Request(last: false, index: 0x10), 0); // full
        iommu.OnPageRequest(Request(index: 0x11), 0);              // stopped, last
        iommu.OnPageRequest(PageRequest.StopMarker(new RequesterId(DeviceRid), new Pasid(DevicePasid), PrgIndex.Create(0x12)), 0);

        Assert.Equal([new PrgResponse(new RequesterId(DeviceRid), PrgIndex.Create(0x11), code, new Pasid(DevicePasid))], platform.Responses);
        Assert.Equal(1, iommu.Counters.AutoResponses);
    }

    [Fact]
    public void H_AMD_3_interrupt_precedes_the_entry_write_by_delta()
    {
        var (iommu, platform) = Hardware(new AmdConfig { PprLogOrder = 2, InterruptPrecedesEntryBy = 500 });
        var seen = new List<(ulong Tail, ulong Qw0)>();
        platform.OnInterrupt = hw => seen.Add((hw.PprTail, BinaryPrimitives.ReadUInt64LittleEndian(hw.ReadPprLog(0))));

        Assert.Equal(RingWrite.Written, iommu.OnPageRequest(Request(index: 7), 100));

        Assert.Equal([(16UL, 0UL)], seen); // the tail moved and the interrupt fired; memory still zero
        Assert.Equal([600L], platform.ScheduledWrites);
        Assert.Equal(1, iommu.PendingPprLogWrites);
        Assert.Equal(0, iommu.CompletePprLogWrites(599));
        Assert.Equal(0UL, Memory(iommu, 0)[0]);
        Assert.Equal(1, iommu.CompletePprLogWrites(600));
        Assert.Equal([0x1144_0207_0042_0210UL, 0x1000UL], Memory(iommu, 0));
        Assert.Equal(0, iommu.PendingPprLogWrites);
    }

    [Fact]
    public void Interrupt_fires_on_each_rising_edge_of_pprintEn_and_pending_status()
    {
        var (iommu, platform) = Hardware();
        iommu.WriteControl(AmdIommu.ControlPprEn | AmdIommu.ControlPprLogEn); // PPRIntEn clear
        iommu.OnPageRequest(Request(index: 1), 0);
        Assert.Equal(0, platform.Interrupts);
        Assert.Equal(Int, iommu.Status & Int); // still logged as pending

        iommu.WriteControl(AmdIommu.ControlPprEn | AmdIommu.ControlPprLogEn | AmdIommu.ControlPprIntEn);
        Assert.Equal(1, platform.Interrupts); // enabling with PPRInt pending fires
        iommu.OnPageRequest(Request(index: 2), 0);
        Assert.Equal(1, platform.Interrupts);
        iommu.WriteStatus(Int);
        iommu.OnPageRequest(Request(index: 3), 0);
        Assert.Equal(2, platform.Interrupts);
    }

    [Theory]
    [InlineData(0x0, ResponseCode.Success)]
    [InlineData(0x1, ResponseCode.InvalidRequest)]
    [InlineData(0xF, ResponseCode.ResponseFailure)]
    [InlineData(0x2, (ResponseCode)2)] // Linux's FAILURE enum value goes out as it is: a reserved PCIe code
    public void H_AMD_5_complete_ppr_request_sends_a_prg_response_with_the_pasid_iff_gn(int status, ResponseCode code)
    {
        var (iommu, platform) = Hardware();
        platform.ProcessCommands = false;
        Assert.True(iommu.SubmitCommand(Command(0x0210, 0x7001_2345, 0x4, (uint)(status << 12) | 0x1AB)));
        Assert.True(iommu.SubmitCommand(Command(0x0210, 0x7000_0000, 0x0, (uint)(status << 12) | 0x005)));
        iommu.ProcessCommandBuffer();

        Assert.Equal(
            [
                new PrgResponse(new RequesterId(0x0210), PrgIndex.Create(0x1AB), code, new Pasid(0x12345)),
                new PrgResponse(new RequesterId(0x0210), PrgIndex.Create(0x005), code, null),
            ],
            platform.Responses);
        Assert.True(iommu.CommandBuffer.IsEmpty);
    }

    [Theory]
    [InlineData(0x0001_0210u, 0x7000_0042u, 0x4u, 0x0001u)] // word 0 bit 16
    [InlineData(0x0210u, 0x7010_0042u, 0x4u, 0x0001u)]      // word 1 bit 20
    [InlineData(0x0210u, 0x7000_0042u, 0x5u, 0x0001u)]      // word 2 bit 0
    [InlineData(0x0210u, 0x7000_0042u, 0x4u, 0x0201u)]      // word 3 bit 9 (tag wider than 9 bits)
    [InlineData(0x0210u, 0x7000_0042u, 0x4u, 0x1_0001u)]    // word 3 bit 16
    public void H_AMD_5_complete_ppr_request_with_reserved_bits_is_an_illegal_command(uint w0, uint w1, uint w2, uint w3)
    {
        var (iommu, platform) = Hardware();
        Assert.True(iommu.SubmitCommand(Command(w0, w1, w2, w3)));
        Assert.True(iommu.SubmitCommand(Command(0x0210, 0x7000_0042, 0x4, 0x0002)));

        Assert.Equal(1, iommu.Counters.IllegalCommands);
        Assert.Equal([new PrgResponse(new RequesterId(0x0210), PrgIndex.Create(2), ResponseCode.Success, new Pasid(0x42))], platform.Responses);
    }

    [Fact]
    public void Commands_of_other_opcodes_are_consumed_without_effect()
    {
        var (iommu, platform) = Hardware();
        Assert.True(iommu.SubmitCommand(Command(0, 0x1000_0000, 0, 0))); // COMPLETION_WAIT
        Assert.Equal((1L, 1L), (iommu.Counters.Commands, iommu.Counters.OtherCommands));
        Assert.Empty(platform.Responses);
        Assert.True(iommu.CommandBuffer.IsEmpty);
    }

    [Fact]
    public void Ats_translation_walks_the_page_table_installed_in_the_dte_pasid_table()
    {
        var (iommu, _) = Hardware();
        var table = iommu.SetDeviceTableEntry(new RequesterId(DeviceRid), ppr: true);
        table.Install(DevicePasid, new OnePage(0x5000));
        var prefix = new PasidPrefix(new Pasid(DevicePasid), false, false);

        Assert.Equal(new TranslationCompletion(1, TranslationStatus.Success, true, true, false),
            iommu.Translate(new TranslationRequest(new RequesterId(DeviceRid), prefix, 0x5000, true, 1)));
        Assert.Equal(new TranslationCompletion(2, TranslationStatus.Success, false, false, false),
            iommu.Translate(new TranslationRequest(new RequesterId(DeviceRid), prefix, 0x6000, true, 2)));
        Assert.Equal(TranslationStatus.UnsupportedRequest,
            iommu.Translate(new TranslationRequest(new RequesterId(DeviceRid), null, 0x5000, false, 3)).Status);
        Assert.Equal(TranslationStatus.UnsupportedRequest,
            iommu.Translate(new TranslationRequest(new RequesterId(0x0300), prefix, 0x5000, false, 4)).Status);
        table.Remove(DevicePasid);
        Assert.Equal(TranslationStatus.UnsupportedRequest,
            iommu.Translate(new TranslationRequest(new RequesterId(DeviceRid), prefix, 0x5000, false, 5)).Status);
    }

    [Fact]
    public void Registers_refuse_a_foreign_log_length_and_head_offsets_outside_head_to_tail()
    {
        var (iommu, _) = Hardware(new AmdConfig { PprLogOrder = 9 });
        Assert.Equal(9UL << 56, iommu.PprLogBase);
        Assert.False(iommu.WritePprLogBase((8UL << 56) | 0x1234_5000));
        Assert.True(iommu.WritePprLogBase((9UL << 56) | 0x1234_5000));
        Assert.Equal((9UL << 56) | 0x1234_5000, iommu.PprLogBase);
        Assert.Equal(AmdIommu.EfrPprSup, iommu.Efr);

        iommu.OnPageRequest(Request(), 0);
        Assert.False(iommu.WritePprHead(8));   // misaligned
        Assert.False(iommu.WritePprHead(32));  // past the tail
        Assert.False(iommu.WritePprTail(0));   // the model's tail moves only by logging
        Assert.True(iommu.WritePprTail(16));
        Assert.True(iommu.WritePprHead(16));
        Assert.Equal("amdvi-0000:00:00.2", iommu.Name);
    }

    private sealed class OnePage(ulong page) : IPageTable
    {
        public Translation Translate(ulong address) =>
            (address & PageRequest.PageMask) == page ? new Translation(true, true, true, false) : Translation.NotPresent;
    }
}
