using Faultline.Faults;
using Faultline.Iommu;

namespace Faultline.Tests.Faults;

/// <summary>One response the framework passed to the driver's page_response op.</summary>
public sealed record ResponseRecord(FaultDevice Device, Fault LastFault, PageResponse Response);

/// <summary>The IOMMU driver's page_response op, recording every call in order.</summary>
public sealed class RecordingResponder : IPageResponder
{
    private readonly List<ResponseRecord> _records = [];

    public IReadOnlyList<ResponseRecord> Records => _records;

    public void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response, long now) =>
        _records.Add(new ResponseRecord(device, lastFault, response));

    public ResponseRecord[] For(FaultDevice device) => _records.Where(r => r.Device == device).ToArray();

    public void Clear() => _records.Clear();
}

/// <summary>A group as the handler saw it at dispatch (groups are pooled, so the faults are copied).</summary>
public sealed record HandledGroup(FaultGroupHandle Handle, FaultDevice Device, FaultAttachment? Attachment, Fault[] Faults)
{
    public ulong[] Addresses => Faults.Select(f => f.Address).ToArray();
}

/// <summary>
/// A domain's iopf_handler under test control: accepts (true) or refuses (false) every group,
/// records what it was given, and optionally queues itself as work on the device's fault queue.
/// </summary>
public sealed class RecordingHandler : IFaultHandler, IFaultWork
{
    private readonly List<HandledGroup> _groups = [];

    public bool Accept { get; set; } = true;
    public bool QueueWork { get; set; }
    public int WorkRuns { get; private set; }

    public IReadOnlyList<HandledGroup> Groups => _groups;

    public bool Handle(FaultGroup group, long now)
    {
        _groups.Add(new HandledGroup(group.Handle, group.Device, group.Attachment, group.Faults.ToArray()));
        if (Accept && QueueWork) group.Device.Queue!.QueueWork(group, this);
        return Accept;
    }

    public FaultWorkOutcome Run(FaultGroup group)
    {
        WorkRuns++;
        return new FaultWorkOutcome(PageResponseCode.Success, 0);
    }
}

/// <summary>A device's PASID table on the IOMMU side, recording installs.</summary>
public sealed class RecordingPasidTable : IPasidTable
{
    public List<(uint Pasid, IPageTable Table)> Installed { get; } = [];
    public List<uint> Removed { get; } = [];

    public void Install(uint pasid, IPageTable table) => Installed.Add((pasid, table));

    public void Remove(uint pasid) => Removed.Add(pasid);
}

/// <summary>Page-request faults as an IOMMU driver reports them.</summary>
public static class Pri
{
    public const ulong Page = 0x1000;

    public static Fault Partial(uint grpid, ulong address, uint? pasid = null, FaultPermissions perm = FaultPermissions.Read) =>
        Make(last: false, grpid, address, pasid, perm);

    public static Fault Last(uint grpid, ulong address, uint? pasid = null, FaultPermissions perm = FaultPermissions.Read) =>
        Make(last: true, grpid, address, pasid, perm);

    private static Fault Make(bool last, uint grpid, ulong address, uint? pasid, FaultPermissions perm)
    {
        var flags = last ? FaultFlags.LastPage : FaultFlags.None;
        if (pasid is not null) flags |= FaultFlags.PasidValid;
        return new Fault(flags, pasid ?? 0, grpid, perm, address);
    }
}

/// <summary>
/// A framework with one queue and one added device whose RID (PASID 0) carries a
/// <see cref="RecordingHandler"/>; every device made here shares one <see cref="RecordingResponder"/>.
/// </summary>
public sealed class FaultRig
{
    public FaultRig(string policy = "linux", int? groupLimit = null, int? partialLimit = null)
        : this(PolicyNamed(policy), groupLimit, partialLimit)
    {
    }

    /// <summary>A rig on a policy built for the test, e.g. one switch flipped with <c>with</c>.</summary>
    public FaultRig(FaultPolicy policy, int? groupLimit = null, int? partialLimit = null)
    {
        Framework = new FaultFramework(policy, groupLimit);
        Queue = FaultFramework.AllocateQueue("q0");
        Device = NewDevice("dev0", Queue, partialLimit);
        Rid = new FaultAttachment("rid", Handler);
        Assert.Equal(FaultStatus.Ok, Device.Attach(0, Rid));
    }

    public FaultFramework Framework { get; }
    public FaultQueue Queue { get; }
    public RecordingResponder Responder { get; } = new();
    public RecordingHandler Handler { get; } = new();
    public FaultDevice Device { get; }
    public FaultAttachment Rid { get; }

    public static FaultPolicy PolicyNamed(string name) =>
        FaultPolicy.ByName(name) ?? throw new ArgumentException($"no policy {name}", nameof(name));

    /// <summary>
    /// A device answered through the shared responder, added to <paramref name="queue"/> if given,
    /// with <paramref name="partialLimit"/> as its PRI allocation (POL-4).
    /// </summary>
    public FaultDevice NewDevice(string name, FaultQueue? queue, int? partialLimit = null)
    {
        var device = new FaultDevice(name, Responder);
        if (queue is not null) Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(queue, device, partialLimit));
        return device;
    }

    /// <summary>What queued SVA work does when it ends (R26): answer the group, then free it.</summary>
    public void Answer(FaultGroupHandle handle, PageResponseCode code = PageResponseCode.Success)
    {
        Assert.Equal(ResponseStatus.Responded, Framework.Respond(handle, code, now: 0));
        Assert.True(Framework.Free(handle));
    }

    /// <summary>The handles the handler was given for faults of <paramref name="device"/>, in dispatch order.</summary>
    public FaultGroupHandle[] HandlesOf(FaultDevice device) =>
        Handler.Groups.Where(g => g.Device == device).Select(g => g.Handle).ToArray();

    /// <summary>Reports each fault on <see cref="Device"/> in order; returns every status.</summary>
    public FaultStatus[] Report(params Fault[] faults) => Report(Device, faults);

    public FaultStatus[] Report(FaultDevice device, params Fault[] faults) =>
        faults.Select(f => Framework.Report(device, f, now: 0)).ToArray();

    /// <summary>The group the handler was handed last.</summary>
    public HandledGroup LastGroup => Handler.Groups[^1];
}
