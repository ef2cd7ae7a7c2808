using System.Buffers.Binary;

namespace Faultline.Userspace;

/// <summary>
/// <c>iommu_hwpt_pgfault.flags</c> (userspace.md §2.5). The uAPI defines bits 0–1; the kernel copies
/// <c>prm.flags</c> verbatim, so bit 2, its internal NEEDS_PASID, reaches user space too (R49 OBS, F11).
/// </summary>
[Flags]
public enum PageFaultFlags : uint
{
    /// <summary>No PASID, and not the last fault of its group.</summary>
    None = 0,
    /// <summary><c>IOMMU_PGFAULT_FLAGS_PASID_VALID</c>.</summary>
    PasidValid = 1 << 0,
    /// <summary><c>IOMMU_PGFAULT_FLAGS_LAST_PAGE</c>.</summary>
    LastPage = 1 << 1,
    /// <summary>Not in the uAPI: the kernel's <c>IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID</c>, leaked by the verbatim copy.</summary>
    ResponseNeedsPasid = 1 << 2,
}

/// <summary><c>iommu_hwpt_pgfault.perm</c> (<c>IOMMU_PGFAULT_PERM_*</c>).</summary>
[Flags]
public enum PageFaultPermissions : uint
{
    /// <summary>No access asked for.</summary>
    None = 0,
    /// <summary><c>IOMMU_PGFAULT_PERM_READ</c>.</summary>
    Read = 1 << 0,
    /// <summary><c>IOMMU_PGFAULT_PERM_WRITE</c>.</summary>
    Write = 1 << 1,
    /// <summary>PCIe Execute-Requested.</summary>
    Exec = 1 << 2,
    /// <summary>PCIe Privileged-Mode-Requested.</summary>
    Priv = 1 << 3,
}

/// <summary>
/// <c>struct iommu_hwpt_pgfault</c>, the 40-byte record read(2) returns from an iommufd fault queue
/// (userspace.md §2.5, little-endian): flags @0, dev_id @4, pasid @8, grpid @12, perm @16,
/// __reserved @20 (must be 0; BUG-4), addr @24 (u64), length @32 (prefetch hint, 0 = none), cookie @36.
/// </summary>
public readonly record struct PageFaultRecord(
    PageFaultFlags Flags,
    uint DevId,
    uint Pasid,
    uint GroupId,
    PageFaultPermissions Perm,
    ulong Address,
    uint Length,
    uint Cookie)
{
    /// <summary>The record's size in bytes: <c>sizeof(struct iommu_hwpt_pgfault)</c>.</summary>
    public const int Size = 40;

    /// <summary>Byte offset of <c>flags</c>.</summary>
    public const int FlagsOffset = 0;
    /// <summary>Byte offset of <c>dev_id</c>.</summary>
    public const int DevIdOffset = 4;
    /// <summary>Byte offset of <c>pasid</c>.</summary>
    public const int PasidOffset = 8;
    /// <summary>Byte offset of <c>grpid</c>.</summary>
    public const int GroupIdOffset = 12;
    /// <summary>Byte offset of <c>perm</c>.</summary>
    public const int PermOffset = 16;
    /// <summary>Byte offset of <c>__reserved</c>.</summary>
    public const int ReservedOffset = 20;
    /// <summary>Byte offset of <c>addr</c>.</summary>
    public const int AddressOffset = 24;
    /// <summary>Byte offset of <c>length</c>.</summary>
    public const int LengthOffset = 32;
    /// <summary>Byte offset of <c>cookie</c>.</summary>
    public const int CookieOffset = 36;

    /// <summary>The flag bits the uAPI defines (<c>PASID_VALID</c>, <c>LAST_PAGE</c>).</summary>
    public const PageFaultFlags DefinedFlags = PageFaultFlags.PasidValid | PageFaultFlags.LastPage;

    /// <summary><c>IOMMU_PGFAULT_FLAGS_PASID_VALID</c> is set: <c>pasid</c> is meaningful.</summary>
    public bool HasPasid => (Flags & PageFaultFlags.PasidValid) != 0;
    /// <summary><c>IOMMU_PGFAULT_FLAGS_LAST_PAGE</c> is set: the last fault of its group, the one to answer.</summary>
    public bool IsLast => (Flags & PageFaultFlags.LastPage) != 0;

    /// <summary>Writes the 40 bytes; <c>__reserved</c> is always written as 0.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[FlagsOffset..], (uint)Flags);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[DevIdOffset..], DevId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[PasidOffset..], Pasid);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[GroupIdOffset..], GroupId);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[PermOffset..], (uint)Perm);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[ReservedOffset..], 0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[AddressOffset..], Address);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[LengthOffset..], Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CookieOffset..], Cookie);
    }

    /// <summary>
    /// Decodes exactly 40 bytes. Errors: <c>length</c> (not 40 bytes), <c>reserved</c> (bytes 20..23 not
    /// zero). Flag and permission bits the uAPI does not define are kept, not rejected (R49: the kernel
    /// sends bit 2), and so is a non-zero <c>length</c> hint (the field exists for it).
    /// </summary>
    public static DecodeResult<PageFaultRecord> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<PageFaultRecord>.Fail("length", $"{bytes.Length} bytes, an iommu_hwpt_pgfault is {Size}");
        uint reserved = BinaryPrimitives.ReadUInt32LittleEndian(bytes[ReservedOffset..]);
        if (reserved != 0)
            return DecodeResult<PageFaultRecord>.Fail("reserved", $"__reserved (bytes 20..23) is 0x{reserved:x8}, must be 0");
        return new PageFaultRecord(
            (PageFaultFlags)BinaryPrimitives.ReadUInt32LittleEndian(bytes[FlagsOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[DevIdOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[PasidOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[GroupIdOffset..]),
            (PageFaultPermissions)BinaryPrimitives.ReadUInt32LittleEndian(bytes[PermOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(bytes[AddressOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[LengthOffset..]),
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[CookieOffset..]));
    }
}
