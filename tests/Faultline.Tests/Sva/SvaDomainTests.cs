using Faultline.Faults;
using Faultline.Sva;
using Faultline.Tests.Faults;

namespace Faultline.Tests.Sva;

/// <summary>R26 (SVA handler: queued work, sticky errors) and R27 (per-fault mm checks), T13, fault costs.</summary>
public class SvaDomainTests
{
    private static readonly SvaCosts Costs = new(PresentNanoseconds: 1, MinorFaultNanoseconds: 10, MajorFaultNanoseconds: 100);

    private readonly FaultRig _rig = new();
    private readonly AddressSpace _mm = new("proc");
    private readonly SvaBinder _binder = new(Costs);
    private readonly uint _pasid;

    public SvaDomainTests()
    {
        _mm.Map(new Vma(0x10000, 0x10000, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor));
        _mm.Map(new Vma(0x20000, 0x10000, VmaPermissions.Read, FaultCost.Minor));
        _mm.Map(new Vma(0x30000, 0x10000, VmaPermissions.Read | VmaPermissions.Exec, FaultCost.Major));
        _mm.MakeResident(0x11000);
        var (status, pasid) = _binder.Bind(_rig.Device, new RecordingPasidTable(), _mm);
        Assert.Equal(FaultStatus.Ok, status);
        _pasid = pasid;
    }

    private SvaDomain Domain => _binder.DomainOf(_mm)!;

    /// <summary>Reports one group (partials then the last), then plays the host: runs the queued work, answers, frees.</summary>
    private FaultWorkOutcome RunGroup(params (ulong Address, FaultPermissions Perm)[] pages) =>
        RunGroup(_pasid, pages);

    private FaultWorkOutcome RunGroup(uint? pasid, params (ulong Address, FaultPermissions Perm)[] pages)
    {
        for (int i = 0; i < pages.Length; i++)
        {
            var (address, perm) = pages[i];
            var fault = i == pages.Length - 1 ? Pri.Last(1, address, pasid, perm) : Pri.Partial(1, address, pasid, perm);
            Assert.Equal(FaultStatus.Ok, _rig.Framework.Report(_rig.Device, fault, now: 0));
        }
        Assert.True(_rig.Queue.TryDequeueWork(out var item));
        var group = _rig.Framework.Find(item.Group)!;
        var outcome = item.Work.Run(group);
        Assert.Equal(ResponseStatus.Responded, _rig.Framework.Respond(item.Group, outcome.Code, now: 0));
        Assert.True(_rig.Framework.Free(item.Group));
        return outcome;
    }

    [Fact]
    public void R26_sva_handler_queues_the_group_on_the_devices_fault_queue_and_answers_nothing_yet()
    {
        var last = Pri.Last(2, 0x12000, _pasid);
        _rig.Report(Pri.Partial(2, 0x13000, _pasid), last);

        Assert.Equal(1, _rig.Queue.QueuedWork);
        Assert.True(_rig.Queue.TryDequeueWork(out var item));
        Assert.Same(Domain, item.Work);
        var group = _rig.Framework.Find(item.Group)!;
        Assert.Equal(last, group.LastFault);
        Assert.Equal(2, group.Count);
        Assert.Equal(FaultGroupState.Pending, group.State);
        Assert.Empty(_rig.Responder.Records);
        Assert.False(_mm.IsResident(0x12000)); // nothing is resolved until the work runs
    }

    [Fact]
    public void R26_a_group_whose_pages_all_resolve_is_answered_success_with_its_pasid()
    {
        var outcome = RunGroup((0x12000, FaultPermissions.Write), (0x21000, FaultPermissions.Read), (0x31000, FaultPermissions.Exec));

        Assert.Equal(PageResponseCode.Success, outcome.Code);
        Assert.Equal(new PageResponse(_pasid, 1, PageResponseCode.Success), Assert.Single(_rig.Responder.Records).Response);
        Assert.True(_mm.IsResident(0x12000) && _mm.IsResident(0x21000) && _mm.IsResident(0x31000));
        Assert.Equal(0, _rig.Framework.GroupsInUse);
    }

    [Fact]
    public void R26_T13_run_stops_at_the_first_failing_fault()
    {
        var outcome = RunGroup((0x12000, FaultPermissions.Read), (0x50000, FaultPermissions.Read), (0x13000, FaultPermissions.Read));

        Assert.Equal(PageResponseCode.Invalid, outcome.Code);
        Assert.Equal(PageResponseCode.Invalid, Assert.Single(_rig.Responder.Records).Response.Code);
        Assert.True(_mm.IsResident(0x12000));
        Assert.False(_mm.IsResident(0x13000)); // after the error: never faulted in
    }

    [Theory]
    [InlineData(new ulong[] { 0x11000 }, 1, PageResponseCode.Success)]                   // present
    [InlineData(new ulong[] { 0x12000 }, 10, PageResponseCode.Success)]                  // minor
    [InlineData(new ulong[] { 0x31000 }, 100, PageResponseCode.Success)]                 // major
    [InlineData(new ulong[] { 0x11000, 0x12000, 0x31000 }, 111, PageResponseCode.Success)]
    [InlineData(new ulong[] { 0x12000, 0x12000 }, 11, PageResponseCode.Success)]         // second time present
    [InlineData(new ulong[] { 0x12000, 0x50000, 0x31000 }, 10, PageResponseCode.Invalid)] // stops: no cost after the error
    public void R26_run_cost_sums_present_minor_and_major_faults_up_to_the_first_error(ulong[] addresses, long cost, PageResponseCode code)
    {
        var outcome = RunGroup(addresses.Select(a => (a, FaultPermissions.Read)).ToArray());

        Assert.Equal(new FaultWorkOutcome(code, cost), outcome);
    }

    public enum R27Case
    {
        NoPasid,
        MmExiting,
        NoVma,
        WriteToReadOnly,
        ExecOnNonExec,
        ReadOnReadOnly,
        WriteOnWritable,
        ExecOnExecutable,
        ReadWriteOnWritable,
    }

    [Theory]
    [InlineData(R27Case.NoPasid, 0x12000ul, FaultPermissions.Read, PageResponseCode.Invalid)]
    [InlineData(R27Case.MmExiting, 0x12000ul, FaultPermissions.Read, PageResponseCode.Invalid)]
    [InlineData(R27Case.NoVma, 0x50000ul, FaultPermissions.Read, PageResponseCode.Invalid)]
    [InlineData(R27Case.NoVma, 0xf000ul, FaultPermissions.Read, PageResponseCode.Invalid)]
    [InlineData(R27Case.WriteToReadOnly, 0x21000ul, FaultPermissions.Write, PageResponseCode.Invalid)]
    [InlineData(R27Case.ExecOnNonExec, 0x12000ul, FaultPermissions.Exec, PageResponseCode.Invalid)]
    [InlineData(R27Case.ReadOnReadOnly, 0x21000ul, FaultPermissions.Read, PageResponseCode.Success)]
    [InlineData(R27Case.WriteOnWritable, 0x12000ul, FaultPermissions.Write, PageResponseCode.Success)]
    [InlineData(R27Case.ExecOnExecutable, 0x31000ul, FaultPermissions.Exec | FaultPermissions.Read, PageResponseCode.Success)]
    [InlineData(R27Case.ReadWriteOnWritable, 0x1f000ul, FaultPermissions.Read | FaultPermissions.Write, PageResponseCode.Success)]
    public void R27_T13_each_fault_is_checked_against_the_mm_and_success_makes_the_page_resident(
        R27Case kind, ulong address, FaultPermissions perm, PageResponseCode code)
    {
        uint? pasid = _pasid;
        if (kind == R27Case.NoPasid)
        {
            // A PASID-less fault reaches an SVA domain only if it is attached at the RID.
            _rig.Device.Detach(0);
            _rig.Device.Attach(0, new FaultAttachment("sva-rid", Domain));
            pasid = null;
        }
        if (kind == R27Case.MmExiting) _mm.Exiting = true;

        var outcome = RunGroup(pasid, (address, perm));

        Assert.Equal(code, outcome.Code);
        Assert.Equal(code == PageResponseCode.Success, _mm.IsResident(address));
        Assert.Equal(code, Assert.Single(_rig.Responder.Records).Response.Code);
        if (code == PageResponseCode.Invalid) Assert.Equal(0, outcome.CostNanoseconds);
    }

    /// <summary>An unmanaged domain at the RID of a second device, as an SMMUv2 context bank has (no PASIDs).</summary>
    private FaultDevice BindAtRid()
    {
        var device = _rig.NewDevice("gpu", _rig.Queue, null);
        Assert.Equal((FaultStatus.Ok, 0u), _binder.BindAtRid(device, new RecordingPasidTable(), _mm));
        return device;
    }

    private FaultWorkOutcome RunOn(FaultDevice device, Fault fault)
    {
        Assert.Equal(FaultStatus.Ok, _rig.Framework.Report(device, fault, now: 0));
        Assert.True(_rig.Queue.TryDequeueWork(out var item));
        var outcome = item.Work.Run(_rig.Framework.Find(item.Group)!);
        Assert.Equal(ResponseStatus.Responded, _rig.Framework.Respond(item.Group, outcome.Code, now: 0));
        Assert.True(_rig.Framework.Free(item.Group));
        return outcome;
    }

    [Fact]
    public void R27_a_rid_domain_resolves_pasid_less_faults_in_its_address_space()
    {
        var gpu = BindAtRid();
        var domain = Assert.IsType<SvaDomain>(gpu.AttachmentAt(0)!.Handler);
        Assert.True(domain.AtRid);
        Assert.Same(_mm, domain.AddressSpace);

        var outcome = RunOn(gpu, Pri.Last(1, 0x31000, pasid: null, FaultPermissions.Read | FaultPermissions.Exec));

        Assert.Equal(new FaultWorkOutcome(PageResponseCode.Success, 100), outcome); // a major fault
        Assert.True(_mm.IsResident(0x31000));
    }

    [Fact]
    public void R27_a_rid_domain_answers_invalid_for_a_fault_with_a_pasid_and_for_an_exiting_mm()
    {
        var gpu = BindAtRid();
        // The only way a PASID fault reaches a RID handle (R9 step 1): a nested one, on a user-managed PASID table.
        var domain = gpu.Detach(0)!.Handler!;
        Assert.Equal(FaultStatus.Ok, gpu.Attach(0, new FaultAttachment("nested", domain) { Nested = true }));
        gpu.UserManagedPasidTable = true;

        Assert.Equal(PageResponseCode.Invalid, RunOn(gpu, Pri.Last(1, 0x12000, pasid: 9)).Code);
        _mm.Exiting = true;
        Assert.Equal(PageResponseCode.Invalid, RunOn(gpu, Pri.Last(2, 0x12000, pasid: null)).Code);
        Assert.False(_mm.IsResident(0x12000));
    }
}
