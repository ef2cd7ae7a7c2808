using System.Numerics;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>
/// What the two device-TLB invalidation descriptors (type 3 for the RID, type 8 for a PASID) share:
/// the ATS range encoding of the address with the S bit, and the PFSID split over QW0 15:12 and 63:52
/// (Linux <c>QI_DEV_IOTLB_PFSID</c> = <c>QI_DEV_EIOTLB_PFSID</c>, fixed by commit 4e7120d79edb).
/// </summary>
public static class DeviceTlbRange
{
    /// <summary>Linux <c>MAX_AGAW_PFN_WIDTH</c> (64 − 12): the size order of "every address".</summary>
    public const int MaxSizeOrder = 52;

    private const ulong PageMask = ~0xFFFUL;

    /// <summary>
    /// QW1's address for 2^<paramref name="sizeOrder"/> pages at <paramref name="address"/>, as Linux's
    /// <c>qi_desc_dev_iotlb</c> / <c>qi_desc_dev_iotlb_pasid</c> build it: for order &gt; 0 the bits
    /// 12 … 12+order−2 are set and bit 12+order−1 is clear (and S is set).
    /// </summary>
    public static ulong EncodeAddress(ulong address, int sizeOrder)
    {
        if ((uint)sizeOrder > MaxSizeOrder) throw new ArgumentOutOfRangeException(nameof(sizeOrder), sizeOrder, $"0..{MaxSizeOrder}");
        ulong encoded = address & PageMask;
        if (sizeOrder > 0)
        {
            encoded |= ((1UL << (sizeOrder - 1)) - 1) << 12;
            encoded &= ~(1UL << (12 + sizeOrder - 1));
        }
        return encoded;
    }

    /// <summary>2^order pages: S = 0 is one page; with S = 1 order = 1 + the 1 bits above bit 11 below the lowest 0.</summary>
    public static int SizeOrder(ulong address, bool sizeBit) =>
        sizeBit ? 1 + BitOperations.TrailingZeroCount(~(address >> 12)) : 0;

    /// <summary>The byte range the invalidation covers (all of it for <see cref="MaxSizeOrder"/> and above).</summary>
    public static (ulong Start, ulong Length) Range(ulong address, bool sizeBit)
    {
        int order = SizeOrder(address, sizeBit);
        if (order >= MaxSizeOrder) return (0, ulong.MaxValue);
        ulong length = 1UL << (12 + order);
        return (address & ~(length - 1), length);
    }

    /// <summary>The PFSID as QW0 carries it: bits 3:0 at 15:12, bits 15:4 at 63:52.</summary>
    public static ulong EncodePfsid(RequesterId pfsid) =>
        ((ulong)(pfsid.Value & 0xF) << 12) | ((ulong)((pfsid.Value >> 4) & 0xFFF) << 52);

    /// <summary>The PFSID from QW0 bits 15:12 (PFSID 3:0) and 63:52 (PFSID 15:4).</summary>
    public static RequesterId DecodePfsid(ulong qw0) =>
        new((ushort)(((qw0 >> 12) & 0xF) | (((qw0 >> 52) & 0xFFF) << 4)));
}
