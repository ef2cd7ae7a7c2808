using System.Buffers.Binary;
using Faultline.Faults;
using Faultline.Tests.Faults;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

/// <summary>
/// A framework with one device whose RID (PASID 0) is attached to a fault-capable HWPT backed by a
/// <see cref="UserFaultQueue"/> (fd open, one HWPT reference), answered through a <see cref="RecordingResponder"/>.
/// </summary>
public sealed class UserQueueRig
{
    public const uint DevId = 0x99;

    public UserQueueRig(string policy = "linux", uint maxCookie = UserFaultQueue.MaxCookie, int depthShare = 0)
        : this(FaultRig.PolicyNamed(policy), maxCookie, depthShare)
    {
    }

    public UserQueueRig(FaultPolicy policy, uint maxCookie = UserFaultQueue.MaxCookie, int depthShare = 0)
    {
        Framework = new FaultFramework(policy);
        FaultQueue = FaultFramework.AllocateQueue("q0");
        Device = new FaultDevice("dev0", Responder);
        Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(FaultQueue, Device));
        Queue = new UserFaultQueue(Framework, 7, maxCookie);
        Assert.Equal(FaultQueueErrno.None, Queue.AddHwptReference());
        Rid = Queue.CreateAttachment(DevId, depthShare: depthShare);
        Assert.Equal(FaultStatus.Ok, Device.Attach(0, Rid));
    }

    public FaultFramework Framework { get; }
    public FaultQueue FaultQueue { get; }
    public RecordingResponder Responder { get; } = new();
    public FaultDevice Device { get; }
    public UserFaultQueue Queue { get; }
    public FaultAttachment Rid { get; }

    /// <summary>The time the rig's faults are reported and its responses written at (POL-5 deadlines run from it).</summary>
    public long Now { get; set; }

    /// <summary>Attaches a new handle of the queue at <paramref name="pasid"/> for <paramref name="devId"/>.</summary>
    public FaultAttachment AttachPasid(uint pasid, uint devId = DevId)
    {
        var attachment = Queue.CreateAttachment(devId);
        Assert.Equal(FaultStatus.Ok, Device.Attach(pasid, attachment));
        return attachment;
    }

    /// <summary>R51 <c>IOMMU_TEST_OP_TRIGGER_IOPF</c>: a single-fault group, LAST_PAGE, PASID_VALID iff pasid != 0.</summary>
    public FaultStatus Trigger(uint pasid = 0, uint grpid = 2, FaultPermissions perm = FaultPermissions.Read | FaultPermissions.Write,
        ulong addr = 0xdeadbeaf, FaultFlags extra = FaultFlags.None)
    {
        var flags = FaultFlags.LastPage | extra | (pasid != 0 ? FaultFlags.PasidValid : FaultFlags.None);
        return Framework.Report(Device, new Fault(flags, pasid, grpid, perm, addr), Now);
    }

    /// <summary>A group of <paramref name="addresses"/>.Length faults: partials, then the last.</summary>
    public void Group(uint grpid, params ulong[] addresses)
    {
        for (int i = 0; i < addresses.Length; i++)
        {
            var fault = i < addresses.Length - 1 ? Pri.Partial(grpid, addresses[i]) : Pri.Last(grpid, addresses[i]);
            Assert.Equal(FaultStatus.Ok, Framework.Report(Device, fault, Now));
        }
    }

    public (FaultQueueResult Result, PageFaultRecord[] Records) Read(int records)
    {
        var buffer = new byte[records * PageFaultRecord.Size];
        var result = Queue.Read(buffer, 0);
        return (result, Decode(buffer, result));
    }

    public static PageFaultRecord[] Decode(byte[] buffer, FaultQueueResult result)
    {
        if (result.IsError) return [];
        var records = new PageFaultRecord[result.Bytes / PageFaultRecord.Size];
        for (int i = 0; i < records.Length; i++)
        {
            var decoded = PageFaultRecord.Decode(buffer.AsSpan(i * PageFaultRecord.Size, PageFaultRecord.Size));
            Assert.True(decoded.IsOk, decoded.Error?.ToString());
            records[i] = decoded.Value;
        }
        return records;
    }

    public static byte[] Responses(params (uint Cookie, uint Code)[] responses)
    {
        var bytes = new byte[responses.Length * PageResponseRecord.Size];
        for (int i = 0; i < responses.Length; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 8), responses[i].Cookie);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 8 + 4), responses[i].Code);
        }
        return bytes;
    }

    public FaultQueueResult Write(params (uint Cookie, uint Code)[] responses) => Queue.Write(Responses(responses), 0, Now);

    public PageResponseCode[] Codes => Responder.Records.Select(r => r.Response.Code).ToArray();
    public uint[] AnsweredGroupIds => Responder.Records.Select(r => r.Response.GroupId).ToArray();
}
