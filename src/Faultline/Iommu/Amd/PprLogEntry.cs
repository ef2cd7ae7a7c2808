using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Amd;

/// <summary>
/// The 16-byte AMD-Vi PPR log entry the IOMMU writes into the peripheral page request log
/// (amd.md §2, R35). QW0: DeviceID 15:0, PASID[15:0] 31:16, tag 41:32 (PRG index 40:32, last
/// request in group 41), PASID[19:16] 45:42, flags 59:48 of which execute 49, read 50, write 53,
/// U/S 54 (1 = user), RVSD 55, GN 56; type 63:60 (1 = page service request). QW1: page address
/// 63:12. The other bits (QW0 47:46, 48, 52:51, 59:57; QW1 11:0) are defined by neither Linux
/// nor amd.md and decode as <c>reserved</c>.
/// <para>
/// Sources, torvalds/linux drivers/iommu/amd/amd_iommu_types.h: <c>PPR_DEVID(x) = x &amp; 0xffff</c>,
/// <c>PPR_PASID1(x) = (x &gt;&gt; 16) &amp; 0xffff</c>, <c>PPR_PASID2(x) = (x &gt;&gt; 42) &amp; 0xf</c>,
/// <c>PPR_PASID = PASID2 &lt;&lt; 16 | PASID1</c>, <c>PPR_TAG(x) = (x &gt;&gt; 32) &amp; 0x3ff</c>,
/// <c>PPR_FLAGS(x) = (x &gt;&gt; 48) &amp; 0xfff</c> with <c>PPR_FLAG_EXEC 0x002</c>, <c>PPR_FLAG_READ 0x004</c>,
/// <c>PPR_FLAG_WRITE 0x020</c>, <c>PPR_FLAG_US 0x040</c> ("1: User, 0: Supervisor"),
/// <c>PPR_FLAG_RVSD 0x080</c> ("Reserved bit not zero"), <c>PPR_FLAG_GN 0x100</c> ("GVA and PASID is
/// valid"), <c>PPR_REQ_TYPE(x) = (x &gt;&gt; 60) &amp; 0xf</c>, <c>PPR_REQ_FAULT 0x01</c>,
/// <c>PPR_ENTRY_SIZE 16</c>. drivers/iommu/amd/ppr.c (@3c6a2bac): page address
/// <c>raw[1] &amp; PAGE_MASK</c>, PRIV iff US is clear, <c>LAST_PAGE</c> from <c>PPR_TAG_LAST_PAGE</c>;
/// the last-page bit is tag bit 9 as in the former iommu_v2.c (<c>tag &amp; 0x1ff</c>,
/// <c>finish = (tag &gt;&gt; 9) &amp; 1</c>). QEMU's AMD-Vi model never writes a PPR entry (amd.md §7).
/// </para>
/// </summary>
public readonly record struct PprLogEntry(
    RequesterId DeviceId,
    Pasid Pasid,
    ushort Tag,
    bool ExecuteRequested,
    bool ReadRequested,
    bool WriteRequested,
    bool User,
    bool Rvsd,
    bool Gn,
    byte RequestType,
    ulong PageAddress)
{
    /// <summary>16 bytes (Linux <c>PPR_ENTRY_SIZE</c>).</summary>
    public const int Size = 16;

    /// <summary>Whether the entry is a request of <paramref name="requester"/> at <paramref name="pasid"/> (0: no PASID, GN clear).</summary>
    internal bool Concerns(RequesterId requester, uint pasid) => DeviceId == requester && (Gn ? Pasid.Value : 0) == pasid;
    /// <summary><c>PPR_REQ_FAULT</c>: the only type Linux handles (R35).</summary>
    public const byte PageServiceRequestType = 0x1;
    /// <summary>The tag is 10 bits, QW0 41:32: the PRG index and L.</summary>
    public const int TagWidth = 10;
    /// <summary>The tag's 10 bits.</summary>
    public const ushort TagMask = (1 << TagWidth) - 1;
    /// <summary>Tag bit 9: last request in the page request group.</summary>
    public const ushort LastFlag = 1 << PrgIndex.Width;

    private const int TagShift = 32;
    private const int Pasid1Shift = 16;
    private const int Pasid2Shift = 42;
    private const int FlagsShift = 48;
    private const int TypeShift = 60;
    private const ulong FlagExec = 0x002UL << FlagsShift;
    private const ulong FlagRead = 0x004UL << FlagsShift;
    private const ulong FlagWrite = 0x020UL << FlagsShift;
    private const ulong FlagUs = 0x040UL << FlagsShift;
    private const ulong FlagRvsd = 0x080UL << FlagsShift;
    private const ulong FlagGn = 0x100UL << FlagsShift;
    private const ulong Qw0Reserved = (0x3UL << 46) | (1UL << 48) | (0x3UL << 51) | (0x7UL << 57);
    private const ulong Qw1Reserved = 0xFFFUL;

    /// <summary>Tag bits 8:0, the PRG index the response must carry (Linux <c>grpid</c>).</summary>
    public PrgIndex PrgIndex => new((ushort)(Tag & PrgIndex.Mask));

    /// <summary>Tag bit 9, the PCIe L bit: last request in the group.</summary>
    public bool Last => (Tag & LastFlag) != 0;

    /// <summary>A PCIe Stop Marker as the IOMMU logs it: a PASID (GN), L = 1, neither read nor write (H-PCI-20).</summary>
    public bool IsStopMarker => Gn && Last && !ReadRequested && !WriteRequested;

    /// <summary>Type 1. Linux ignores any other type without a response (R35).</summary>
    public bool IsPageServiceRequest => RequestType == PageServiceRequestType;

    /// <summary>PCIe "privileged mode requested": U/S is inverted against it (PRIV iff US clear).</summary>
    public bool PrivilegedModeRequested => !User;

    /// <summary>The tag of a request: the PRG index in bits 8:0, L in bit 9.</summary>
    public static ushort TagOf(PrgIndex index, bool last) =>
        (ushort)((index.Value & PrgIndex.Mask) | (last ? LastFlag : 0));

    /// <summary>
    /// What the IOMMU logs for a Page Request message: GN and the PASID from the prefix, the tag
    /// from the PRG index and L, U/S as the inverse of Privileged Mode Requested (no prefix: not
    /// privileged, so U/S = 1), execute from the prefix, the page address of the payload.
    /// </summary>
    public static PprLogEntry From(in PageRequest request) => new(
        request.Requester,
        request.PasidOrZero,
        TagOf(request.Index, request.Last),
        request.ExecuteRequested,
        request.Read,
        request.Write,
        User: !request.PrivilegedModeRequested,
        Rvsd: false,
        Gn: request.PasidPresent,
        PageServiceRequestType,
        request.PageAddress & PageRequest.PageMask);

    /// <summary>Writes the 16 bytes little-endian; undefined bits and QW1 11:0 as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        uint pasid = Pasid.Value & Pasid.Mask;
        ulong qw0 = DeviceId.Value
            | ((ulong)(pasid & 0xFFFF) << Pasid1Shift)
            | ((ulong)(Tag & TagMask) << TagShift)
            | ((ulong)(pasid >> 16) << Pasid2Shift)
            | (ExecuteRequested ? FlagExec : 0)
            | (ReadRequested ? FlagRead : 0)
            | (WriteRequested ? FlagWrite : 0)
            | (User ? FlagUs : 0)
            | (Rvsd ? FlagRvsd : 0)
            | (Gn ? FlagGn : 0)
            | ((ulong)(RequestType & 0xF) << TypeShift);
        ulong qw1 = PageAddress & PageRequest.PageMask;
        BinaryPrimitives.WriteUInt64LittleEndian(destination, qw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], qw1);
    }

    /// <summary>
    /// Decodes an entry of any type (a zeroed slot has type 0, H-AMD-3); callers check
    /// <see cref="IsPageServiceRequest"/>. Fails only on length and on bits no source defines.
    /// </summary>
    public static DecodeResult<PprLogEntry> Decode(ReadOnlySpan<byte> bytes, UndefinedBits undefinedBits = UndefinedBits.Refuse)
    {
        if (bytes.Length != Size)
            return DecodeResult<PprLogEntry>.Fail("length", $"{bytes.Length} bytes, a PPR log entry is {Size}");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong qw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        if (undefinedBits == UndefinedBits.Ignore)
        {
            qw0 &= ~Qw0Reserved;
            qw1 &= ~Qw1Reserved;
        }
        if ((qw0 & Qw0Reserved) != 0)
            return DecodeResult<PprLogEntry>.Fail("reserved", $"QW0 reserved bits 47:46 / 48 / 52:51 / 59:57 are 0x{qw0 & Qw0Reserved:x16}, must be 0");
        if ((qw1 & Qw1Reserved) != 0)
            return DecodeResult<PprLogEntry>.Fail("reserved", $"QW1 bits 11:0 below the page address are 0x{qw1 & Qw1Reserved:x3}, must be 0");
        uint pasid = (uint)((qw0 >> Pasid1Shift) & 0xFFFF) | ((uint)((qw0 >> Pasid2Shift) & 0xF) << 16);
        return new PprLogEntry(
            new RequesterId((ushort)qw0),
            new Pasid(pasid),
            (ushort)((qw0 >> TagShift) & TagMask),
            (qw0 & FlagExec) != 0,
            (qw0 & FlagRead) != 0,
            (qw0 & FlagWrite) != 0,
            (qw0 & FlagUs) != 0,
            (qw0 & FlagRvsd) != 0,
            (qw0 & FlagGn) != 0,
            (byte)(qw0 >> TypeShift),
            qw1 & PageRequest.PageMask);
    }
}
