using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;

namespace Faultline.Tests.Faults;

/// <summary>A group's framework device leads back to its kernel port (issue 9: the host's per-group table by device is gone).</summary>
public sealed class PortOfTests
{
    [Fact]
    public void A_framework_device_leads_to_the_port_it_belongs_to_and_only_in_its_own_kernel()
    {
        var kernel = new HostKernel(new HostSpec(), FaultPolicy.Hardened, new IgnoringHost());
        var unit = kernel.AddIommu(new IommuSpec { Name = "dmar0", Type = IommuType.Vtd });
        var ports = Enumerable.Range(0, 3).Select(i => kernel.AddFunction(unit, Function(i), 32, now: 0)).ToList();

        foreach (var port in ports)
        {
            Assert.NotNull(port.FaultDevice);
            Assert.Same(port, kernel.PortOf(port.FaultDevice!));
        }
        var other = new HostKernel(new HostSpec(), FaultPolicy.Hardened, new IgnoringHost());
        Assert.Null(other.PortOf(ports[0].FaultDevice!));
        Assert.Null(kernel.PortOf(new FaultDevice("stranger", null)));
    }

    private static PriFunction Function(int i) => new(new PriFunctionConfig
    {
        Name = $"f{i}",
        Requester = RequesterId.From(1, i, 0),
        Capacity = 32,
        PagesPerGroup = 4,
    }, new NullPort());

    private sealed class NullPort : IUpstreamPort
    {
        public void SendTranslationRequest(in TranslationRequest request) { }
        public void SendPageRequest(in PageRequest request) { }
        public void SendInvalidationCompletion(in InvalidationCompletion completion) { }
    }

    private sealed class IgnoringHost : IKernelHost
    {
        public void Take(in HostAction action) { }
    }
}
