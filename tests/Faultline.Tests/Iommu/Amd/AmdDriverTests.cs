using System.Buffers.Binary;
using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Amd;
using Faultline.Pcie;
using Faultline.Tests.Devices;
using static Faultline.Tests.Iommu.Amd.AmdRig;

namespace Faultline.Tests.Iommu.Amd;

public sealed class AmdDriverTests
{
    private const ulong TypeFault = 1UL << 60;
    private const ulong FlagRead = 0x004UL << 48, FlagRvsd = 0x080UL << 48, FlagGn = 0x100UL << 48;
    private static readonly RequesterId Rid = new(DeviceRid);

    private static CompletePprRequestCommand Failure(FaultPolicy policy, uint pasid, int index) =>
        new(Rid, new Pasid(pasid), true, PrgIndex.Create(index), policy == FaultPolicy.Linux ? (ResponseCode)2 : ResponseCode.ResponseFailure);

    public static TheoryData<string> Policies => ["linux", "hardened"];

    [Fact]
    public void R35_reported_faults_carry_pasid_valid_needs_pasid_last_page_perms_and_priv_iff_us_clear()
    {
        var rig = new AmdRig();
        rig.Deliver(
            Request(read: false, write: true, last: false, index: 0x1AB, address: 0x7FFF_0000_3ABC, execute: true, privileged: true),
            Request(read: true, last: true, index: 0x1AB, address: 0x4000));

        rig.RunInterruptThread();

        const FaultFlags pasidFlags = FaultFlags.PasidValid | FaultFlags.ResponseNeedsPasid;
        Assert.Equal(
            [
                new Fault(pasidFlags, DevicePasid, 0x1AB, FaultPermissions.Write | FaultPermissions.Exec | FaultPermissions.Priv, 0x7FFF_0000_3000),
                new Fault(pasidFlags | FaultFlags.LastPage, DevicePasid, 0x1AB, FaultPermissions.Read, 0x4000),
            ],
            rig.Handler.Faults.Single());
        Assert.Equal((2L, 2L), (rig.Driver.Counters.Entries, rig.Driver.Counters.Reported));
        Assert.Equal(32UL, rig.Iommu.PprHead);
        Assert.Equal(0u, rig.Iommu.Status & (AmdIommu.StatusPprInt | AmdIommu.StatusPprOverflow));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void R35_head_is_published_and_the_slot_zeroed_unless_snp_before_the_entry_is_handled(bool snp)
    {
        var rig = new AmdRig(options: new AmdDriverOptions { SnpEnabled = snp });
        rig.Deliver(Request(index: 1), Request(index: 2));
        var seen = new List<(ulong Head, ulong Qw0)>();
        rig.Handler.OnHandle = _ =>
        {
            ulong consumed = rig.Iommu.PprHead - 16;
            seen.Add((rig.Iommu.PprHead, BinaryPrimitives.ReadUInt64LittleEndian(rig.Iommu.ReadPprLog(consumed))));
        };

        rig.RunInterruptThread();

        Assert.Equal(snp ? [(16UL, 0x1144_0201_0042_0210UL), (32UL, 0x1144_0202_0042_0210UL)] : [(16UL, 0UL), (32UL, 0UL)], seen);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void T24_pasid_0_is_answered_failure_and_an_unknown_request_type_gets_no_response(string name)
    {
        var policy = FaultPolicy.ByName(name)!;
        var rig = new AmdRig(policy);
        rig.Deliver(Request(index: 0x21, pasid: 0));
        rig.LogRaw((2UL << 60) | FlagGn | FlagRead | (0x22UL << 32) | (DevicePasid << 16) | DeviceRid, 0x1000);

        rig.RunInterruptThread();

        Assert.Equal([Failure(policy, 0, 0x21)], rig.Platform.Commands);
        Assert.Equal([new PrgResponse(Rid, PrgIndex.Create(0x21), Failure(policy, 0, 0x21).Status, new Pasid(0))], rig.Platform.Responses);
        Assert.Equal((1L, 1L, 0L), (rig.Driver.Counters.InvalidPasids, rig.Driver.Counters.UnknownRequests, rig.Driver.Counters.Reported));
        Assert.Empty(rig.Handler.Groups);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void H_AMD_4_gn_clear_reserved_flag_and_pasid_past_the_limit_are_answered_failure(string name)
    {
        var policy = FaultPolicy.ByName(name)!;
        var rig = new AmdRig(policy);
        rig.Deliver(Request(index: 0x31, pasid: null));
        rig.LogRaw(TypeFault | FlagRvsd | FlagGn | FlagRead | (0x232UL << 32) | (DevicePasid << 16) | DeviceRid, 0x1000);
        rig.Deliver(Request(index: 0x33, pasid: 0xFFFF), Request(index: 0x34, pasid: 0x12345));

        rig.RunInterruptThread();

        Assert.Equal([Failure(policy, 0, 0x31), Failure(policy, DevicePasid, 0x32), Failure(policy, 0xFFFF, 0x33), Failure(policy, 0x12345, 0x34)],
            rig.Platform.Commands);
        Assert.Equal((2L, 2L), (rig.Driver.Counters.InvalidRequests, rig.Driver.Counters.InvalidPasids));
        Assert.Empty(rig.Handler.Groups);
    }

    [Fact]
    public void R35_an_entry_from_a_device_the_driver_does_not_know_is_dropped_without_response()
    {
        var rig = new AmdRig();
        rig.Iommu.SetDeviceTableEntry(new RequesterId(0x0300), ppr: true);
        rig.Deliver(Request(rid: 0x0300));
        rig.RunInterruptThread();
        Assert.Equal(1, rig.Driver.Counters.UnknownDevices);
        Assert.Empty(rig.Platform.Commands);
    }

    [Fact]
    public void H_AMD_6_pasids_are_limited_to_16_bits_and_to_the_device_pasid_width()
    {
        var rig = new AmdRig();
        Assert.Equal(0xFFFFu, rig.Driver.MaxPasidsOf(rig.Device));
        Assert.Equal(FaultStatus.Ok, rig.Device.Attach(0xFFFE, new FaultAttachment("sva", rig.Handler)));

        var narrow = new NarrowPasid(new PriFunction(new PriFunctionConfig { Name = "fn0300", Requester = new RequesterId(0x0300) }, new UnusedPort()), width: 8);
        Assert.Equal(PciEnableError.None, rig.Driver.ProbeDevice(narrow, 0));
        var (status, device, _) = rig.Driver.AddDevice(narrow, "dev1");
        Assert.Equal(FaultStatus.Ok, status);
        Assert.Equal(0x100u, rig.Driver.MaxPasidsOf(device!));
        Assert.Equal(FaultStatus.Ok, device!.Attach(0xFF, new FaultAttachment("sva", rig.Handler)));

        rig.Deliver(Request(index: 1, pasid: 0xFFFE), Request(index: 2, pasid: 0xFFFF), Request(index: 3, pasid: 0xFF, rid: 0x0300));
        rig.Deliver(Request(index: 4, pasid: 0x100, rid: 0x0300));
        rig.RunInterruptThread();

        Assert.Equal((2L, 2L), (rig.Driver.Counters.Reported, rig.Driver.Counters.InvalidPasids));
        Assert.Equal([2, 4], rig.Platform.Commands.Select(c => (int)c.Index.Value));
    }

    [Theory]
    [InlineData("linux", PageResponseCode.Success, ResponseCode.Success)]
    [InlineData("linux", PageResponseCode.Invalid, ResponseCode.InvalidRequest)]
    [InlineData("linux", PageResponseCode.Failure, (ResponseCode)2)]
    [InlineData("hardened", PageResponseCode.Success, ResponseCode.Success)]
    [InlineData("hardened", PageResponseCode.Invalid, ResponseCode.InvalidRequest)]
    [InlineData("hardened", PageResponseCode.Failure, ResponseCode.ResponseFailure)]
    public void POL_11_amd_page_response_is_one_complete_ppr_with_the_tag_pasid_and_mapped_status(string name, PageResponseCode code, ResponseCode wire)
    {
        var rig = new AmdRig(FaultPolicy.ByName(name)!);
        rig.Deliver(Request(last: false, index: 0x1AB, address: 0x1000), Request(index: 0x1AB, address: 0x2000));
        rig.RunInterruptThread();

        rig.Respond(0, code);

        Assert.Equal([new CompletePprRequestCommand(Rid, new Pasid(DevicePasid), true, PrgIndex.Create(0x1AB), wire)], rig.Platform.Commands);
        Assert.Equal([new PrgResponse(Rid, PrgIndex.Create(0x1AB), wire, new Pasid(DevicePasid))], rig.Platform.Responses);
    }

    [Fact]
    public void R22_gn_of_the_completion_follows_the_function_prg_response_pasid_required_bit()
    {
        var rig = new AmdRig(FaultPolicy.Hardened);
        var function = new PriFunction(new PriFunctionConfig
        {
            Name = "fn0300", Requester = new RequesterId(0x0300), PasidSupported = false, PrgResponsePasidRequired = false,
        }, new UnusedPort());
        Assert.Equal(PciEnableError.None, rig.Driver.ProbeDevice(function, 0));
        var (_, device, _) = rig.Driver.AddDevice(function, "dev1");
        Assert.Equal(0u, rig.Driver.MaxPasidsOf(device!));

        rig.Deliver(Request(index: 9, pasid: null, rid: 0x0300));
        rig.RunInterruptThread();

        Assert.Equal([new CompletePprRequestCommand(new RequesterId(0x0300), default, false, PrgIndex.Create(9), ResponseCode.ResponseFailure)],
            rig.Platform.Commands);
        Assert.Equal([new PrgResponse(new RequesterId(0x0300), PrgIndex.Create(9), ResponseCode.ResponseFailure, null)], rig.Platform.Responses);
    }

    [Theory]
    [MemberData(nameof(Policies))]
    public void H_AMD_2_overflow_restarts_the_log_without_answering_lost_requests_and_discards_partials_only_under_hardened(string name)
    {
        var policy = FaultPolicy.ByName(name)!;
        var rig = new AmdRig(policy, new AmdConfig { PprLogOrder = 2 }); // 3 usable entries
        rig.Deliver(Request(last: false, index: 1));
        rig.RunInterruptThread();
        rig.Fill();
        Assert.Equal(RingWrite.Full, rig.Iommu.OnPageRequest(Request(index: 1), 0)); // the group's last request is lost
        Assert.Equal(AmdIommu.StatusPprOverflow | AmdIommu.StatusPprInt, rig.Iommu.Status);

        rig.RunInterruptThread();

        Assert.Equal(AmdIommu.StatusPprLogRun, rig.Iommu.Status);
        Assert.Equal(AmdIommu.ControlPprEn | AmdIommu.ControlPprIntEn | AmdIommu.ControlPprLogEn, rig.Iommu.Control);
        Assert.Equal(1, rig.Driver.Counters.LogRestarts);
        Assert.Empty(rig.Platform.Commands);
        if (policy == FaultPolicy.Linux)
        {
            Assert.Equal(4, rig.Device.PartialCount); // OBS: no discard_partial on AMD
            Assert.Equal(0, rig.Framework.Counters.DiscardedPartials);
        }
        else
        {
            Assert.Equal(0, rig.Device.PartialCount);
            Assert.Equal(4, rig.Framework.Counters.DiscardedPartials);
        }
        rig.Deliver(Request(index: 2)); // logging again
        rig.RunInterruptThread();
        Assert.Single(rig.Handler.Groups);
    }

    [Fact]
    public void H_AMD_2_restart_clears_overflow_then_sets_pprinten_before_pprlogen()
    {
        var rig = new AmdRig(config: new AmdConfig { PprLogOrder = 2 });
        rig.Fill();
        rig.Iommu.OnPageRequest(Request(), 0);
        var atInterrupt = new List<(ulong Control, uint Status)>();
        rig.Platform.OnInterrupt = hw => atInterrupt.Add((hw.Control, hw.Status));

        rig.Driver.RestartPprLog();

        // PPRInt was pending: setting PPRIntEn fired with PPROverflow already clear and PPRLogEn not yet set.
        Assert.Equal([(AmdIommu.ControlPprEn | AmdIommu.ControlPprIntEn, AmdIommu.StatusPprInt)], atInterrupt);
        Assert.Equal(AmdIommu.StatusPprInt | AmdIommu.StatusPprLogRun, rig.Iommu.Status);
    }

    [Fact]
    public void H_AMD_2_restart_does_nothing_while_pprlogrun_is_still_1()
    {
        var rig = new AmdRig();
        ulong control = rig.Iommu.Control;
        int interrupts = rig.Platform.Interrupts;
        rig.Driver.RestartPprLog();
        Assert.Equal(1, rig.Driver.Counters.RestartsNotNeeded);
        Assert.Equal(0, rig.Driver.Counters.LogRestarts);
        Assert.Equal(control, rig.Iommu.Control);
        Assert.Equal(interrupts, rig.Platform.Interrupts);
    }

    [Fact]
    public void H_AMD_3_an_entry_still_zero_is_polled_every_microsecond_and_handled_once_written()
    {
        var rig = new AmdRig(config: new AmdConfig { PprLogOrder = 3, InterruptPrecedesEntryBy = 2_500 });
        rig.Deliver(100, Request(index: 7));
        Assert.Equal(1, rig.Platform.Interrupts);

        long now = 100;
        while (rig.Driver.HandleInterrupt(now: 0) == PprPoll.EntryNotWritten)
        {
            Assert.Empty(rig.Handler.Groups);
            Assert.Equal(0UL, rig.Iommu.PprHead); // nothing consumed while waiting
            now += AmdDriver.PollInterval;
            rig.Iommu.CompletePprLogWrites(now);
        }

        Assert.Equal(3, rig.Driver.Counters.EntryPolls); // written at 2 600: seen by the poll at 3 100
        Assert.Equal(1, rig.Driver.Counters.Interrupts);
        Assert.Equal(7u, rig.Handler.Faults.Single().Single().GroupId);
        Assert.Equal(16UL, rig.Iommu.PprHead);
    }

    [Fact]
    public void H_AMD_3_after_the_poll_limit_a_zero_entry_is_taken_as_an_unknown_request_and_never_answered()
    {
        var rig = new AmdRig(config: new AmdConfig { PprLogOrder = 3, InterruptPrecedesEntryBy = 1_000_000_000 });
        rig.Deliver(Request(index: 7));

        int waits = 0;
        while (rig.Driver.HandleInterrupt(now: 0) == PprPoll.EntryNotWritten) waits++;

        Assert.Equal(AmdDriverOptions.LinuxPollLimit, waits);
        Assert.Equal((1L, 1L), (rig.Driver.Counters.EntryPollTimeouts, rig.Driver.Counters.UnknownRequests));
        Assert.Equal(16UL, rig.Iommu.PprHead);
        Assert.Equal(1, rig.Iommu.CompletePprLogWrites(1_000_000_000)); // lands in a slot already consumed
        Assert.Empty(rig.Platform.Commands);
        Assert.Empty(rig.Handler.Groups);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void H_AMD_3_snp_variant_without_zeroing_a_late_entry_reads_the_previous_lap(bool snp)
    {
        var rig = new AmdRig(config: new AmdConfig { PprLogOrder = 2, InterruptPrecedesEntryBy = 100 },
            options: new AmdDriverOptions { SnpEnabled = snp });
        for (int i = 1; i <= 4; i++)
        {
            rig.Deliver(i * 1000, Request(index: i));
            rig.Iommu.CompletePprLogWrites(i * 1000 + 100);
            rig.RunInterruptThread();
        }
        rig.Deliver(5000, Request(index: 5)); // back in slot 0, its write still in flight

        var poll = rig.Driver.HandleInterrupt(now: 0);

        if (snp)
        {
            // The stale entry of the first lap is handled as new: group 1 is reported twice, request 5 is lost.
            Assert.Equal(PprPoll.Drained, poll);
            Assert.Equal([1u, 2u, 3u, 4u, 1u], rig.Handler.Faults.Select(f => f.Single().GroupId));
        }
        else
        {
            Assert.Equal(PprPoll.EntryNotWritten, poll); // erratum 733 workaround: the zeroed slot is recognised
            rig.Iommu.CompletePprLogWrites(5100);
            Assert.Equal(PprPoll.Drained, rig.Driver.HandleInterrupt(now: 0));
            Assert.Equal([1u, 2u, 3u, 4u, 5u], rig.Handler.Faults.Select(f => f.Single().GroupId));
        }
    }

    /// <summary>
    /// <c>iommu_call_iopf_notifier</c> takes each field with its <c>PPR_*</c> mask (ppr.c, v6.10–v6.18): bits no
    /// source defines change nothing, and the entries are handled as if they were clear.
    /// </summary>
    [Fact]
    public void R35_an_entry_with_undefined_bits_set_is_handled_by_its_defined_fields()
    {
        var rig = new AmdRig();
        rig.LogRaw(TypeFault | (1UL << 46) | FlagGn | FlagRead | (0x201UL << 32) | (DevicePasid << 16) | DeviceRid, 0x1000);
        rig.LogRaw(TypeFault | FlagGn | FlagRead | (0x202UL << 32) | (DevicePasid << 16) | DeviceRid, 0x1001); // QW1 bit 0
        rig.Deliver(Request(index: 3));

        rig.RunInterruptThread();

        Assert.Equal(2, rig.Driver.Counters.UndefinedBitsIgnored);
        Assert.Equal([1u, 2u, 3u], rig.Handler.Faults.Select(f => f.Single().GroupId));
        Assert.Equal([0x1000UL, 0x1000UL], rig.Handler.Faults.Take(2).Select(f => f.Single().Address));
        Assert.Equal(48UL, rig.Iommu.PprHead);
    }

    [Fact]
    public void R35_entries_logged_during_the_pass_are_handled_by_the_status_read_back_loop()
    {
        var rig = new AmdRig();
        rig.Deliver(Request(index: 1));
        rig.Handler.OnHandle = g =>
        {
            if (g.LastFault.GroupId == 1) rig.Deliver(Request(index: 2));
        };

        rig.RunInterruptThread();

        Assert.Equal(2, rig.Handler.Groups.Count);
        Assert.Equal((1L, 2L), (rig.Driver.Counters.Interrupts, rig.Driver.Counters.Batches));
        Assert.Equal(0u, rig.Iommu.Status & AmdIommu.StatusPprInt);
    }

    /// <summary>
    /// <c>pdev_enable_cap_pri</c> (amd/iommu.c, v6.10–v6.18): <c>pci_enable_pri(pdev, 32)</c> whatever the PPR log's
    /// size ("FIXME: Hardcode number of outstanding requests"), and no check of "PRG Response PASID Required", whose
    /// value only sets <c>pri_tlp</c> (R35).
    /// </summary>
    [Fact]
    public void R34_R35_probe_enables_pasid_then_ats_then_pri_with_32_credits_whatever_the_log_size()
    {
        var platform = new RecordingAmdPlatform();
        var driver = new AmdDriver(new AmdIommu(new AmdConfig(), platform), new FaultFramework(FaultPolicy.Hardened));
        var big = new RecordingConfigSpace(new PriFunction(new PriFunctionConfig { Name = "big", Requester = new RequesterId(0x0100), Capacity = 1000 }, new UnusedPort()));
        var small = new PriFunction(new PriFunctionConfig { Name = "small", Requester = new RequesterId(0x0108) }, new UnusedPort());

        Assert.Equal(PciEnableError.None, driver.ProbeDevice(big, 0));
        Assert.Equal(PciEnableError.None, driver.ProbeDevice(small, 0));

        Assert.Equal([PasidCapability.CapabilityId, AtsCapability.CapabilityId], big.Writes.Take(2).Select(w => w.CapabilityId));
        Assert.Equal(PriCapability.CapabilityId, big.Writes.Last().CapabilityId);
        Assert.Equal(32u, big.ReadConfig(PriCapability.CapabilityId, PriCapability.AllocationOffset));
        Assert.Equal(32u, small.ReadConfig(PriCapability.CapabilityId, PriCapability.AllocationOffset));
        var noPasidInResponses = new PriFunction(new PriFunctionConfig { Name = "np", Requester = new RequesterId(0x0110), PrgResponsePasidRequired = false }, new UnusedPort());
        Assert.Equal(PciEnableError.None, driver.ProbeDevice(noPasidInResponses, 0));
        Assert.True(noPasidInResponses.Pri.Enabled);
        Assert.Equal(32u, noPasidInResponses.Pri.Allocation);
    }

    [Fact]
    public void R3_add_device_needs_pri_enabled_refuses_a_second_add_and_joins_the_amdvi_queue()
    {
        var rig = new AmdRig();
        var unprobed = new PriFunction(new PriFunctionConfig { Name = "fn0300", Requester = new RequesterId(0x0300) }, new UnusedPort());
        Assert.Equal(FaultStatus.NoDevice, rig.Driver.AddDevice(unprobed, "x").Status);
        Assert.False(rig.Iommu.HasDeviceTableEntry(new RequesterId(0x0300)));
        Assert.Equal(FaultStatus.Busy, rig.Driver.AddDevice(rig.Function, "again").Status);
        Assert.Equal("amdvi-0000:00:00.2", rig.Driver.Queue.Name);
        Assert.Same(rig.Driver.Queue, rig.Device.Queue);
        Assert.Equal(Rid, rig.Driver.RequesterOf(rig.Device));

        var noPpr = new AmdRig(config: new AmdConfig { PprSupported = false, PprLogOrder = 3 }, options: null, addDevice: false);
        Assert.False(noPpr.Driver.EnablePprLog());
        Assert.Equal(FaultStatus.NoDevice, noPpr.Driver.AddDevice(noPpr.Function, "x").Status);
    }

    [Fact]
    public void Ring_holds_entries_of_a_requester_and_pasid_between_head_and_tail_and_any_slot_not_yet_written()
    {
        var rig = new AmdRig();
        rig.Deliver(Request(index: 1), Request(index: 2, pasid: null));
        Assert.True(rig.Driver.RingHolds(Rid, DevicePasid));
        Assert.True(rig.Driver.RingHolds(Rid, 0));
        Assert.False(rig.Driver.RingHolds(Rid, 7));
        Assert.False(rig.Driver.RingHolds(new RequesterId(0x0300), DevicePasid));
        rig.RunInterruptThread();
        Assert.False(rig.Driver.RingHolds(Rid, DevicePasid));

        var late = new AmdRig(config: new AmdConfig { PprLogOrder = 3, InterruptPrecedesEntryBy = 10 });
        late.Deliver(Request(index: 1));
        Assert.True(late.Driver.RingHolds(new RequesterId(0x0300), 7)); // unknown content: it may be theirs
    }

    /// <summary>A function whose PASID capability reports a narrower Max PASID Width.</summary>
    private sealed class NarrowPasid(IPciConfigSpace inner, int width) : IPciConfigSpace
    {
        public RequesterId Requester => inner.Requester;

        public bool HasCapability(ushort capabilityId) => inner.HasCapability(capabilityId);

        public uint ReadConfig(ushort capabilityId, int offset)
        {
            uint value = inner.ReadConfig(capabilityId, offset);
            return capabilityId == PasidCapability.CapabilityId && offset == PasidCapability.CapabilityOffset
                ? (value & ~(0x1Fu << 8)) | ((uint)width << 8)
                : value;
        }

        public ConfigWriteEffect WriteConfig(ushort capabilityId, int offset, uint value, long now) =>
            inner.WriteConfig(capabilityId, offset, value, now);
    }
}
