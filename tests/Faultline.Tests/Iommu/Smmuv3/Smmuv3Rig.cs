using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv3;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Smmuv3;

/// <summary>A page table the test fills by hand: page number → rights.</summary>
internal sealed class MapTable : IPageTable
{
    private readonly Dictionary<ulong, Translation> _pages = new();

    public void Map(ulong address, bool read = true, bool write = true, bool execute = false) =>
        _pages[address >> 12] = new Translation(true, read, write, execute);

    public void Unmap(ulong address) => _pages.Remove(address >> 12);

    public Translation Translate(ulong address) => _pages.GetValueOrDefault(address >> 12, Translation.NotPresent);
}

/// <summary>An <see cref="ISmmuv3Platform"/> that records what the SMMUv3 model does to the outside world.</summary>
internal sealed class RecordingSmmuv3Platform : ISmmuv3Platform
{
    public List<PrgResponse> Responses { get; } = [];
    public List<(StallTransaction Transaction, TransactionOutcome Outcome, long Now)> Completions { get; } = [];
    public List<(int Stalled, long Now)> Occupancy { get; } = [];
    public int PriInterrupts { get; private set; }
    public int EventInterrupts { get; private set; }
    public int CommandsQueued { get; private set; }

    /// <summary>Runs inside <see cref="CompleteTransaction"/> (e.g. to hand the outcome to a <see cref="StallMaster"/>).</summary>
    public Action<StallTransaction, TransactionOutcome, long>? OnComplete { get; set; }

    public void RaisePriQueueInterrupt(Smmuv3Iommu smmu) => PriInterrupts++;
    public void RaiseEventQueueInterrupt(Smmuv3Iommu smmu) => EventInterrupts++;
    public void CommandQueued(Smmuv3Iommu smmu) => CommandsQueued++;
    public void SendPrgResponse(Smmuv3Iommu smmu, in PrgResponse response) => Responses.Add(response);

    public void CompleteTransaction(Smmuv3Iommu smmu, in StallTransaction transaction, TransactionOutcome outcome, long now)
    {
        Completions.Add((transaction, outcome, now));
        OnComplete?.Invoke(transaction, outcome, now);
    }

    public void StallOccupancyChanged(Smmuv3Iommu smmu, int stalled, long now) => Occupancy.Add((stalled, now));

    public TransactionOutcome OutcomeOf(long id) => Completions.Single(c => c.Transaction.Id == id).Outcome;
}

/// <summary>
/// One SMMUv3 (8-entry PRIQ and EVTQ, STALL_MAX 4 unless told) with its driver and a real fault
/// framework; masters are added with an accepting handler at their PASID (0 = the RID).
/// </summary>
internal sealed class Smmuv3Rig
{
    public const uint MasterSid = 0x40;
    public const uint OtherSid = 0x41;
    public const ushort FunctionRid = 0x0300;
    public const uint FunctionPasid = 0x42;

    private long _nextId;

    public Smmuv3Rig(FaultPolicy? policy = null, Smmuv3Config? config = null, Smmuv3DriverConfig? driverConfig = null)
    {
        Framework = new FaultFramework(policy ?? FaultPolicy.Hardened);
        Smmu = new Smmuv3Iommu(config ?? Config(), Platform);
        Driver = new Smmuv3Driver(Smmu, Framework, driverConfig ?? Smmuv3DriverConfig.For(Framework.Policy, Smmu.Config.StallMax));
        Driver.Log = Log.Add;
    }

    public static Smmuv3Config Config(int stallMax = 4, StallBufferFullMode full = StallBufferFullMode.BackPressure) =>
        new() { Name = "smmu0", PriQueueShift = 3, EventQueueShift = 3, StallMax = stallMax, WhenStallBufferFull = full };

    public RecordingSmmuv3Platform Platform { get; } = new();
    public AcceptingFaultHandler Handler { get; } = new();
    public FaultFramework Framework { get; }
    public Smmuv3Iommu Smmu { get; }
    public Smmuv3Driver Driver { get; }
    public List<string> Log { get; } = [];
    public long Now { get; set; } = 1000;

    /// <summary>A stall master with a fresh page table at <paramref name="pasid"/> and the accepting handler attached there.</summary>
    public (FaultDevice Device, MapTable Table) AddMaster(uint streamId = MasterSid, string? owner = null, uint pasid = 0, bool attach = true)
    {
        var (status, device, table) = Driver.AddStallMaster(streamId, $"master{streamId:x}", owner);
        Assert.Equal(FaultStatus.Ok, status);
        var map = new MapTable();
        table!.Install(pasid, map);
        if (attach) Assert.Equal(FaultStatus.Ok, device!.Attach(pasid, new FaultAttachment("sva", Handler)));
        return (device!, map);
    }

    public StallTransaction Transaction(uint streamId = MasterSid, ulong address = 0x1000, bool write = false, uint? substream = null,
        bool instruction = false, bool privileged = false) =>
        new(_nextId++, streamId, substream, address, write, instruction, privileged);

    /// <summary>Sends a transaction and returns it.</summary>
    public StallTransaction Send(uint streamId = MasterSid, ulong address = 0x1000, bool write = false, uint? substream = null,
        bool instruction = false, bool privileged = false)
    {
        var t = Transaction(streamId, address, write, substream, instruction, privileged);
        Smmu.OnTransaction(t, Now);
        return t;
    }

    /// <summary>The events between EVTQ CONS and PROD, decoded.</summary>
    public List<FaultEvent> Events()
    {
        var q = Smmu.EventQueue;
        var list = new List<FaultEvent>();
        for (uint p = q.Consumer; p != q.Producer; p++) list.Add(FaultEvent.Decode(q.At(p)).Value);
        return list;
    }

    /// <summary>The commands waiting in the CMDQ, as raw bytes.</summary>
    public List<byte[]> Commands()
    {
        var q = Smmu.CommandQueue;
        var list = new List<byte[]>();
        for (uint p = q.Consumer; p != q.Producer; p++) list.Add(q.At(p).ToArray());
        return list;
    }

    public void Submit(ReadOnlySpan<byte> command) => Assert.True(Smmu.SubmitCommand(command));

    public void Resume(uint streamId, ushort stag, ResumeAction action)
    {
        var bytes = new byte[Smmuv3Command.Size];
        new ResumeCommand(streamId, action, stag).Encode(bytes);
        Submit(bytes);
        Smmu.ProcessCommandQueue(Now);
    }

    public void Respond(int group, PageResponseCode code) =>
        Assert.Equal(ResponseStatus.Responded, Framework.Respond(Handler.Groups[group], code, now: 0));

    /// <summary>A probed PCIe PRI function at <see cref="FunctionRid"/>, its link unused.</summary>
    public PriFunction ProbedFunction()
    {
        var function = new PriFunction(new PriFunctionConfig { Name = "fn0300", Requester = new RequesterId(FunctionRid) }, new UnusedPort());
        Assert.Equal(PciEnableError.None, Driver.ProbeDevice(function, 0));
        return function;
    }

    public static PageRequest Request(bool read = true, bool write = false, bool last = true, int index = 1, ulong address = 0x1000,
        uint? pasid = FunctionPasid, bool execute = false, bool privileged = false) =>
        new(new RequesterId(FunctionRid), read, write, last, PrgIndex.Create(index), address,
            pasid is { } p ? new PasidPrefix(new Pasid(p), execute, privileged) : null);

    /// <summary>The invariant every stall keeps (Smmuv3Counters): held, or ended exactly once.</summary>
    public void AssertStallsBalance()
    {
        var c = Smmu.Counters;
        Assert.Equal(c.Stalls, c.ResumedRetry + c.ResumedAbort + c.ResumedTerminate + c.StallTerminated + Smmu.StallsInUse);
        Assert.Equal(c.Transactions, c.Completed + c.Aborted + c.TerminatedRazWi + Smmu.StallsInUse + Smmu.WaitingTransactions);
    }
}
