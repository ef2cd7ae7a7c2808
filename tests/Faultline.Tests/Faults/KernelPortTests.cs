using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;

namespace Faultline.Tests.Faults;

/// <summary>What a host keeps of a port without a table of its own (issue 9): the port of a framework device, and when its bindings changed.</summary>
public sealed class KernelPortTests
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

    [Fact]
    public void Binding_changes_count_every_bind_and_every_unbind_so_a_host_can_keep_a_pasid_it_looked_up()
    {
        var kernel = new HostKernel(new HostSpec(), FaultPolicy.Hardened, new IgnoringHost());
        var unit = kernel.AddIommu(new IommuSpec { Name = "dmar0", Type = IommuType.Vtd });
        var port = kernel.AddFunction(unit, Function(0), 32, now: 0);
        var mm = new Faultline.Sva.AddressSpace("p0");
        mm.Map(new Faultline.Sva.Vma(0x1000_0000, 16 << 12, Faultline.Sva.VmaPermissions.Read, default));
        Assert.Equal(0, port.BindingChanges);

        Assert.True(kernel.Bind(port, mm, now: 0));
        Assert.Equal(1, port.BindingChanges);
        Assert.False(kernel.Bind(port, mm, now: 0)); // already bound: nothing changed
        Assert.Equal(1, port.BindingChanges);
        kernel.Unbind(port, mm, PasidStopMode.WaitForResponses, now: 10);
        Assert.Equal(2, port.BindingChanges);
        Assert.Empty(port.Pasids);
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
