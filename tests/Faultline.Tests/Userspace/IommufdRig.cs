using Faultline.Faults;
using Faultline.Pcie;
using Faultline.Tests.Faults;
using Faultline.Userspace;

namespace Faultline.Tests.Userspace;

/// <summary>
/// An iommufd context on a framework with one mock device (a PRI function with 4 credits, on fault queue "q0",
/// answered through a <see cref="RecordingResponder"/>) bound to it, and an IOAS — the selftests' fixture.
/// </summary>
public sealed class IommufdRig
{
    public IommufdRig(string policy = "linux", IPciConfigSpace? function = null)
    {
        Framework = new FaultFramework(FaultRig.PolicyNamed(policy));
        FaultQueue = FaultFramework.AllocateQueue("q0");
        Context = new IommufdContext(Framework);
        Ok(Context.AllocIoas(out uint ioas));
        IoasId = ioas;
        (Device, DevId) = Bind("mock0", function ?? Devices.Rig.Enabled(4).Function);
    }

    public FaultFramework Framework { get; }
    public FaultQueue FaultQueue { get; }
    public RecordingResponder Responder { get; } = new();
    public IommufdContext Context { get; }
    public uint IoasId { get; }
    public FaultDevice Device { get; }
    public uint DevId { get; }

    public static void Ok(FaultQueueErrno rc) => Assert.Equal(FaultQueueErrno.None, rc);

    /// <summary>Another device on the same framework queue, bound to the context.</summary>
    public (FaultDevice Device, uint DevId) Bind(string name, IPciConfigSpace function)
    {
        var device = new FaultDevice(name, Responder) { UserManagedPasidTable = true }; // the mock driver declares one (R9)
        Assert.Equal(FaultStatus.Ok, FaultFramework.AddDevice(FaultQueue, device));
        Ok(Context.BindDevice(device, function, out uint devId));
        return (device, devId);
    }

    /// <summary><c>test_cmd_mock_domain</c>: the device's RID attached to the IOAS; returns the auto domain's id.</summary>
    public uint MockDomain()
    {
        Ok(Context.Attach(DevId, 0, IoasId, now: 0, out uint hwpt));
        return hwpt;
    }

    public uint Hwpt(uint ptId, HwptAllocFlags flags, uint faultId = 0)
    {
        Ok(Context.AllocHwpt(DevId, ptId, flags, faultId, out uint id));
        return id;
    }

    public (uint Id, UserFaultQueue Queue) Fault()
    {
        Ok(Context.AllocFaultQueue(0, out uint id));
        return (id, Context.QueueOf(id)!);
    }

    public static (FaultQueueResult Result, PageFaultRecord[] Records) Read(UserFaultQueue queue, int records)
    {
        var buffer = new byte[records * PageFaultRecord.Size];
        var result = queue.Read(buffer, 0);
        return (result, UserQueueRig.Decode(buffer, result));
    }

    public static FaultQueueResult Write(UserFaultQueue queue, params (uint Cookie, uint Code)[] responses) =>
        queue.Write(UserQueueRig.Responses(responses), 0, now: 0);

    /// <summary>
    /// <c>_test_cmd_trigger_iopf</c> (userspace.md §3): trigger (R51), read 40 bytes (> 0), write
    /// {cookie, SUCCESS} (> 0). Returns the record read.
    /// </summary>
    public PageFaultRecord RoundTrip(UserFaultQueue queue, uint pasid, uint? devId = null)
    {
        Ok(Context.TriggerIopf(devId ?? DevId, pasid, now: 0));
        var (read, records) = Read(queue, 1);
        Assert.True(read.ToSyscallReturn() > 0, read.ToString());
        var write = Write(queue, (records[0].Cookie, 0));
        Assert.True(write.ToSyscallReturn() > 0, write.ToString());
        return records[0];
    }

    public PageResponseCode[] Codes => Responder.Records.Select(r => r.Response.Code).ToArray();
    public uint[] AnsweredGroupIds => Responder.Records.Select(r => r.Response.GroupId).ToArray();
}
