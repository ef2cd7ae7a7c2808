using BenchmarkDotNet.Attributes;
using Faultline.Devices;
using Faultline.Pcie;
using Faultline.Sva;

namespace Faultline.Bench;

/// <summary>
/// What a platform of many functions and large address spaces costs to hold (issue 9). Read the
/// Allocated column: the bytes of one idle PCIe function (PRG slots and ATC grow as they are used),
/// and of a 2^20-page VMA made resident page by page, as the simulator builds `resident: 1.0`, or
/// as one range.
/// </summary>
[MemoryDiagnoser]
public class ScaleFootprintBenchmark
{
    private const int VmaPages = 1 << 20;
    private const ulong VmaStart = 0x1_0000_0000;
    private static readonly PriFunctionConfig Config = new() { Name = "f", Requester = new RequesterId(0x0100) };
    private readonly NullPort _port = new();

    [Benchmark]
    public PriFunction IdleFunction() => new(Config, _port);

    [Benchmark]
    public int ResidentVmaPageByPage()
    {
        var mm = NewSpace();
        for (int page = 0; page < VmaPages; page++) mm.MakeResident(VmaStart + ((ulong)page << 12));
        return mm.ResidentPages;
    }

    [Benchmark]
    public int ResidentVmaAsOneRange()
    {
        var mm = NewSpace();
        mm.MakeResident(VmaStart, VmaPages);
        return mm.ResidentPages;
    }

    private static AddressSpace NewSpace()
    {
        var mm = new AddressSpace("bench");
        mm.Map(new Vma(VmaStart, (ulong)VmaPages << 12, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor));
        return mm;
    }

    private sealed class NullPort : IUpstreamPort
    {
        public void SendTranslationRequest(in TranslationRequest request) { }
        public void SendPageRequest(in PageRequest request) { }
        public void SendInvalidationCompletion(in InvalidationCompletion completion) { }
    }
}
