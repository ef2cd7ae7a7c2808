using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Amd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Amd;

/// <summary>
/// One AMD IOMMU (8-entry PPR log unless told) with the Linux driver and its log enabled, a real fault
/// framework, and one probed device at <see cref="DeviceRid"/> whose PASID <see cref="DevicePasid"/>
/// goes to an accepting handler.
/// </summary>
internal sealed class AmdRig
{
    public const ushort DeviceRid = 0x0210;
    public const uint DevicePasid = 0x42;

    public AmdRig(FaultPolicy? policy = null, AmdConfig? config = null, AmdDriverOptions? options = null, bool addDevice = true)
    {
        Framework = new FaultFramework(policy ?? FaultPolicy.Hardened);
        Iommu = new AmdIommu(config ?? new AmdConfig { PprLogOrder = 3 }, Platform);
        Driver = new AmdDriver(Iommu, Framework, options);
        Function = new PriFunction(new PriFunctionConfig { Name = "fn0210", Requester = new RequesterId(DeviceRid) }, new UnusedPort());
        Assert.Equal(PciEnableError.None, Driver.ProbeDevice(Function, 0));
        if (!addDevice)
        {
            Device = null!;
            return;
        }
        Assert.True(Driver.EnablePprLog());
        var (status, device, _) = Driver.AddDevice(Function, "dev0");
        Assert.Equal(FaultStatus.Ok, status);
        Device = device!;
        Assert.Equal(FaultStatus.Ok, Device.Attach(DevicePasid, new FaultAttachment("sva", Handler)));
    }

    public RecordingAmdPlatform Platform { get; } = new();
    public AcceptingFaultHandler Handler { get; } = new();
    public FaultFramework Framework { get; }
    public AmdIommu Iommu { get; }
    public AmdDriver Driver { get; }
    public FaultDevice Device { get; }
    public PriFunction Function { get; }
    public RingQueue Log => Iommu.PprLog;

    public static PageRequest Request(
        bool read = true, bool write = false, bool last = true, int index = 1, ulong address = 0x1000,
        uint? pasid = DevicePasid, bool execute = false, bool privileged = false, ushort rid = DeviceRid) =>
        new(new RequesterId(rid), read, write, last, PrgIndex.Create(index), address,
            pasid is { } p ? new PasidPrefix(new Pasid(p), execute, privileged) : null);

    /// <summary>Delivers Page Request messages that must all be written to the log.</summary>
    public void Deliver(long now, params PageRequest[] requests)
    {
        foreach (var request in requests) Assert.Equal(RingWrite.Written, Iommu.OnPageRequest(request, now));
    }

    public void Deliver(params PageRequest[] requests) => Deliver(0, requests);

    /// <summary>Logs raw entry words, as hardware does for what a message cannot express.</summary>
    public void LogRaw(ulong qw0, ulong qw1) =>
        Assert.Equal(RingWrite.Written, Iommu.LogPprEntry(Qwords.Bytes(PprLogEntry.Size, qw0, qw1), 0));

    /// <summary>Fills the log to capacity with non-last requests.</summary>
    public void Fill()
    {
        while (!Log.IsFull) Deliver(Request(last: false, index: (int)(Log.Producer % PrgIndex.Count)));
    }

    /// <summary>The interrupt thread, run to the end (no late entries expected).</summary>
    public void RunInterruptThread() => Assert.Equal(PprPoll.Drained, Driver.HandleInterrupt(now: 0));

    public void Respond(int group, PageResponseCode code) =>
        Assert.Equal(ResponseStatus.Responded, Framework.Respond(Handler.Groups[group], code, now: 0));
}
