using Faultline.Faults;
using Faultline.Sva;
using Faultline.Tests.Faults;

namespace Faultline.Tests.Sva;

/// <summary>SVA binding (framework.md §2.5, R26 context): one PASID per mm, one domain per mm, rebinding, conflicts.</summary>
public class SvaBinderTests
{
    private readonly SvaBinder _binder = new(SvaCosts.Default, firstPasid: 5, lastPasid: 6);
    private readonly FaultDevice _a = new("a", new RecordingResponder());
    private readonly FaultDevice _b = new("b", new RecordingResponder());
    private readonly RecordingPasidTable _tableA = new();
    private readonly RecordingPasidTable _tableB = new();
    private readonly AddressSpace _mm1 = new("mm1");
    private readonly AddressSpace _mm2 = new("mm2");

    [Fact]
    public void R26_bind_gives_one_pasid_and_one_domain_per_mm_across_devices()
    {
        var a1 = _binder.Bind(_a, _tableA, _mm1);
        var b1 = _binder.Bind(_b, _tableB, _mm1);
        var a2 = _binder.Bind(_a, _tableA, _mm2);

        Assert.Equal((FaultStatus.Ok, 5u), a1);
        Assert.Equal((FaultStatus.Ok, 5u), b1);
        Assert.Equal((FaultStatus.Ok, 6u), a2);
        Assert.Equal(5u, _binder.PasidOf(_mm1));
        var domain = _binder.DomainOf(_mm1)!;
        Assert.Same(_mm1, domain.AddressSpace);
        Assert.Same(domain, _a.AttachmentAt(5)!.Handler);
        Assert.Same(_a.AttachmentAt(5), _b.AttachmentAt(5));
        Assert.NotSame(domain, _binder.DomainOf(_mm2));
        Assert.Equal([(5u, (Faultline.Iommu.IPageTable)_mm1), (6u, _mm2)], _tableA.Installed);
        Assert.Equal([(5u, (Faultline.Iommu.IPageTable)_mm1)], _tableB.Installed);
    }

    [Fact]
    public void R26_binding_the_same_device_and_mm_again_returns_the_same_pasid_and_installs_nothing_new()
    {
        var first = _binder.Bind(_a, _tableA, _mm1);
        var attachment = _a.AttachmentAt(first.Pasid);

        var again = _binder.Bind(_a, _tableA, _mm1);

        Assert.Equal(first, again);
        Assert.Same(attachment, _a.AttachmentAt(first.Pasid));
        Assert.Single(_tableA.Installed);
    }

    [Fact]
    public void R26_binding_onto_a_pasid_that_holds_another_handler_is_busy()
    {
        var other = new FaultAttachment("other", new RecordingHandler());
        _a.Attach(5, other);

        var result = _binder.Bind(_a, _tableA, _mm1);

        Assert.Equal(FaultStatus.Busy, result.Status);
        Assert.Same(other, _a.AttachmentAt(5));
        Assert.Empty(_tableA.Installed);
        // The mm keeps its PASID; another device can still bind it.
        Assert.Equal((FaultStatus.Ok, 5u), _binder.Bind(_b, _tableB, _mm1));
    }

    [Fact]
    public void R26_bind_is_no_memory_when_the_pasid_space_is_exhausted()
    {
        _binder.Bind(_a, _tableA, _mm1);
        _binder.Bind(_a, _tableA, _mm2);

        var third = _binder.Bind(_a, _tableA, new AddressSpace("mm3"));

        Assert.Equal(FaultStatus.NoMemory, third.Status);
        Assert.Equal(2, _tableA.Installed.Count);
    }

    [Fact]
    public void R26_bind_at_the_rid_allocates_no_pasid_and_a_second_address_space_is_busy()
    {
        Assert.Equal((FaultStatus.Ok, 0u), _binder.BindAtRid(_a, _tableA, _mm1));

        var domain = Assert.IsType<SvaDomain>(_a.AttachmentAt(0)!.Handler);
        Assert.True(domain.AtRid);
        Assert.Same(_mm1, domain.AddressSpace);
        Assert.Equal([(0u, (Faultline.Iommu.IPageTable)_mm1)], _tableA.Installed);
        Assert.Null(_binder.PasidOf(_mm1));
        Assert.Equal((FaultStatus.Busy, 0u), _binder.BindAtRid(_a, _tableA, _mm2));
        Assert.Single(_tableA.Installed);
        Assert.Equal((FaultStatus.Ok, 5u), _binder.Bind(_b, _tableB, _mm1)); // the first PASID is still free
    }
}
