using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu;

/// <summary>
/// One VT-d unit (128-entry PRQ) with its Linux driver, a real fault framework, and one device at
/// <see cref="DeviceRid"/> whose PASID <see cref="DevicePasid"/> and RID (PASID 0) go to an accepting handler.
/// </summary>
internal sealed class VtdRig
{
    public const ushort DeviceRid = 0x0210;
    public const uint DevicePasid = 0x42;

    public VtdRig(FaultPolicy? policy = null, DiscardAutoResponse autoResponse = DiscardAutoResponse.Success)
    {
        Framework = new FaultFramework(policy ?? FaultPolicy.Hardened);
        // The handler is SVA's: its groups are work, the only thing a flush waits for (R23, flush_workqueue). Under
        // hardened a worker has taken each already, since hardened answers a stopped PASID's queued work at once
        // (QueuedWorkAtTeardown) and the drain tests want the flush scope (POL-8) to see them.
        Handler.QueueWork = true;
        Handler.WorkerTakesIt = Framework.Policy.QueuedWorkAtTeardown == QueuedWorkAtTeardownPolicy.Cancel;
        Iommu = new VtdIommu(new VtdConfig { Name = "dmar0", PageRequestQueueOrder = 0, DiscardAutoResponse = autoResponse }, Platform);
        Driver = new VtdDriver(Iommu, Framework);
        Function = ProbedFunction(Driver, DeviceRid);
        var (status, device, _) = Driver.AddDevice(Function, "dev0");
        Assert.Equal(FaultStatus.Ok, status);
        Device = device!;
        Assert.Equal(FaultStatus.Ok, Device.Attach(DevicePasid, new FaultAttachment("sva", Handler)));
        Assert.Equal(FaultStatus.Ok, Device.Attach(0, new FaultAttachment("rid", Handler)));
    }

    public RecordingVtdPlatform Platform { get; } = new();
    public AcceptingFaultHandler Handler { get; } = new();
    public FaultFramework Framework { get; }
    public VtdIommu Iommu { get; }
    public VtdDriver Driver { get; }
    public FaultDevice Device { get; }
    public PriFunction Function { get; }
    public RingQueue Prq => Iommu.PageRequestQueue;

    /// <summary>A PRI function at <paramref name="rid"/>, probed by the driver (R34), its link unused.</summary>
    public static PriFunction ProbedFunction(VtdDriver driver, ushort rid, bool probe = true)
    {
        var function = new PriFunction(new PriFunctionConfig { Name = $"fn{rid:x4}", Requester = new RequesterId(rid) }, new UnusedPort());
        if (probe) Assert.Equal(PciEnableError.None, driver.ProbeDevice(function, 0));
        return function;
    }

    public static PageRequest Request(
        bool read = true, bool write = false, bool last = true, int index = 1, ulong address = 0x1000,
        uint? pasid = DevicePasid, bool execute = false, bool privileged = false, ushort rid = DeviceRid) =>
        new(new RequesterId(rid), read, write, last, PrgIndex.Create(index), address,
            pasid is { } p ? new PasidPrefix(new Pasid(p), execute, privileged) : null);

    /// <summary>Delivers Page Request messages that must all land in the PRQ.</summary>
    public void Deliver(params PageRequest[] requests)
    {
        foreach (var request in requests) Assert.Equal(RingWrite.Written, Iommu.OnPageRequest(request));
    }

    /// <summary>Fills the PRQ to capacity with non-last requests.</summary>
    public void Fill()
    {
        while (!Prq.IsFull) Deliver(Request(last: false, index: (int)(Prq.Producer % PrgIndex.Count)));
    }

    /// <summary>Puts raw descriptor bytes into the PRQ, as hardware with features the message model lacks (private data) would.</summary>
    public void Produce(in PageRequestDescriptor descriptor)
    {
        var bytes = new byte[PageRequestDescriptor.Size];
        descriptor.Encode(bytes);
        Assert.Equal(RingWrite.Written, Prq.TryProduce(bytes));
    }

    /// <summary>The page group responses waiting on the invalidation queue, decoded.</summary>
    public List<PageGroupResponseDescriptor> Submitted()
    {
        var queue = Iommu.InvalidationQueue;
        var list = new List<PageGroupResponseDescriptor>();
        for (uint p = queue.Consumer; p != queue.Producer; p++) list.Add(PageGroupResponseDescriptor.Decode(queue.At(p)).Value);
        return list;
    }

    public void Respond(int group, PageResponseCode code) =>
        Assert.Equal(ResponseStatus.Responded, Framework.Respond(Handler.Groups[group], code, now: 0));
}

/// <summary>A link nobody sends on: these tests put requests into the IOMMU directly.</summary>
internal sealed class UnusedPort : IUpstreamPort
{
    public void SendTranslationRequest(in TranslationRequest request) => throw new InvalidOperationException("unused");
    public void SendPageRequest(in PageRequest request) => throw new InvalidOperationException("unused");
    public void SendInvalidationCompletion(in InvalidationCompletion completion) => throw new InvalidOperationException("unused");
}
