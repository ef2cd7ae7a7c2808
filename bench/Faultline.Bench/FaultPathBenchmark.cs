using BenchmarkDotNet.Attributes;
using Faultline.Faults;

namespace Faultline.Bench;

/// <summary>
/// Report → group → respond → free through the fault framework: 64 devices, 8 groups outstanding
/// on each, 4 faults per group (3 partials and the last). One operation is one fault. The baseline
/// moves the same fault records through a plain array ring: the floor any queueing model pays.
/// </summary>
[MemoryDiagnoser]
public class FaultPathBenchmark
{
    private const int Devices = 64;
    private const int GroupsPerDevice = 8;
    private const int PagesPerGroup = 4;
    private const int FaultsPerRound = Devices * GroupsPerDevice * PagesPerGroup;
    private const uint Pasid = 1;

    private FaultFramework _framework = null!;
    private FaultDevice[] _devices = null!;
    private HandleSink _sink = null!;
    private Fault[] _ring = null!;
    private int _head;
    private int _tail;

    [GlobalSetup]
    public void Setup()
    {
        _framework = new FaultFramework(FaultPolicy.Hardened);
        var queue = FaultFramework.AllocateQueue("bench");
        _sink = new HandleSink(Devices * GroupsPerDevice);
        var attachment = new FaultAttachment("bench", _sink);
        var responder = new NullResponder();
        _devices = new FaultDevice[Devices];
        for (int d = 0; d < Devices; d++)
        {
            _devices[d] = new FaultDevice($"dev{d}", responder);
            FaultFramework.AddDevice(queue, _devices[d]);
            _devices[d].Attach(Pasid, attachment);
        }
        _ring = new Fault[FaultsPerRound];
        Framework(); // warm the pools so the measured rounds are steady state
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = FaultsPerRound)]
    public ulong PlainRing()
    {
        ulong sum = 0;
        for (int d = 0; d < Devices; d++)
            for (uint g = 0; g < GroupsPerDevice; g++)
                for (int p = 0; p < PagesPerGroup; p++)
                {
                    _ring[_tail] = MakeFault(g, p);
                    _tail = (_tail + 1) & (FaultsPerRound - 1);
                }
        for (int i = 0; i < FaultsPerRound; i++)
        {
            sum += _ring[_head].Address;
            _head = (_head + 1) & (FaultsPerRound - 1);
        }
        return sum;
    }

    [Benchmark(OperationsPerInvoke = FaultsPerRound)]
    public long Framework()
    {
        for (int d = 0; d < Devices; d++)
        {
            var device = _devices[d];
            for (uint g = 0; g < GroupsPerDevice; g++)
                for (int p = 0; p < PagesPerGroup; p++)
                    _framework.Report(device, MakeFault(g, p), now: 0);
        }
        var handles = _sink.Handles;
        for (int i = 0; i < _sink.Count; i++)
        {
            _framework.Respond(handles[i], PageResponseCode.Success, now: 0);
            _framework.Free(handles[i]);
        }
        long groups = _sink.Count;
        _sink.Count = 0;
        return groups;
    }

    private static Fault MakeFault(uint group, int page)
    {
        var flags = FaultFlags.PasidValid | FaultFlags.ResponseNeedsPasid | (page == PagesPerGroup - 1 ? FaultFlags.LastPage : 0);
        return new Fault(flags, Pasid, group, FaultPermissions.Read, 0x1000_0000UL + ((ulong)(group * PagesPerGroup + (uint)page) << 12));
    }

    /// <summary>A handler that takes every group and keeps its handle, to answer after the round.</summary>
    private sealed class HandleSink(int capacity) : IFaultHandler
    {
        public FaultGroupHandle[] Handles { get; } = new FaultGroupHandle[capacity];
        public int Count { get; set; }

        public bool Handle(FaultGroup group, long now)
        {
            Handles[Count++] = group.Handle;
            return true;
        }
    }

    private sealed class NullResponder : IPageResponder
    {
        public void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response, long now) { }
    }
}
