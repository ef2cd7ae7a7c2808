using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using static Faultline.Tests.Iommu.VtdRig;

namespace Faultline.Tests.Iommu;

/// <summary>VT-d rules of docs/rules/vtd.md that no other test names.</summary>
public sealed class VtdRuleTests
{
    private const ulong Page = 0x7000_0000;

    /// <summary>A page table the test changes between translations.</summary>
    private sealed class PageTableStub : IPageTable
    {
        private readonly Dictionary<ulong, Translation> _pages = new();

        public void Map(ulong page, bool write) => _pages[page] = new Translation(true, true, write, false);
        public void Unmap(ulong page) => _pages.Remove(page);
        public Translation Translate(ulong address) => _pages.GetValueOrDefault(address & PageRequest.PageMask);
    }

    private static (VtdIommu Iommu, PageTableStub Pages) Unit()
    {
        var iommu = new VtdIommu(new VtdConfig { Name = "dmar0", PageRequestQueueOrder = 0 }, new RecordingVtdPlatform());
        var pages = new PageTableStub();
        iommu.SetContext(new RequesterId(DeviceRid), pageRequestEnable: true).Install(DevicePasid, pages);
        return (iommu, pages);
    }

    private static TranslationCompletion TranslateWrite(VtdIommu iommu, int tag) =>
        iommu.Translate(new TranslationRequest(new RequesterId(DeviceRid), new PasidPrefix(new Pasid(DevicePasid), false, false), Page, WriteWanted: true, tag));

    [Fact]
    public void H_VTD_8_the_translation_after_a_page_request_sees_the_page_mapped_since()
    {
        var (iommu, pages) = Unit();
        var before = TranslateWrite(iommu, 1);
        Assert.Equal(TranslationStatus.Success, before.Status);
        Assert.False(before.Grants(write: true, execute: false));

        Assert.Equal(RingWrite.Written, iommu.OnPageRequest(Request(read: false, write: true, address: Page)));
        pages.Map(Page, write: true);

        // The retry after Success walks the tables again: no not-present answer is kept for the page.
        Assert.True(TranslateWrite(iommu, 2).Grants(write: true, execute: false));
    }

    [Fact]
    public void H_VTD_8_a_page_unmapped_after_a_translation_is_not_served_from_a_cache()
    {
        var (iommu, pages) = Unit();
        pages.Map(Page, write: true);
        Assert.True(TranslateWrite(iommu, 1).Grants(write: true, execute: false));

        pages.Unmap(Page);
        Assert.Equal(RingWrite.Written, iommu.OnPageRequest(Request(read: false, write: true, address: Page)));

        var after = TranslateWrite(iommu, 2);
        Assert.Equal(TranslationStatus.Success, after.Status);
        Assert.False(after.Read || after.Write);
    }
}
