using System.Buffers.Binary;

namespace Faultline.Userspace;

/// <summary>
/// <c>enum iommufd_page_response_code</c> (userspace.md §2.6). Value 2, <c>IOMMUFD_PAGE_RESP_FAILURE</c>,
/// existed in v6.11 and was removed (BUG-10); the queue answers it, and any other value, with EINVAL (R47).
/// </summary>
public enum IommufdPageResponseCode : uint
{
    /// <summary><c>IOMMUFD_PAGE_RESP_SUCCESS</c>: retry the access.</summary>
    Success = 0,
    /// <summary><c>IOMMUFD_PAGE_RESP_INVALID</c>: do not retry.</summary>
    Invalid = 1,
}

/// <summary>
/// <c>struct iommu_hwpt_page_response</c>, the 8-byte record write(2) takes (userspace.md §2.6):
/// cookie @0 (from a read record), code @4. Every code value decodes: validating it is the queue's
/// job (R47), so the record only says whether it is one the uAPI defines.
/// </summary>
public readonly record struct PageResponseRecord(uint Cookie, IommufdPageResponseCode Code)
{
    /// <summary>The record's size in bytes: <c>sizeof(struct iommu_hwpt_page_response)</c>.</summary>
    public const int Size = 8;
    /// <summary>Byte offset of <c>cookie</c>.</summary>
    public const int CookieOffset = 0;
    /// <summary>Byte offset of <c>code</c>.</summary>
    public const int CodeOffset = 4;

    /// <summary>SUCCESS (0) or INVALID (1): the only codes R47 accepts.</summary>
    public bool HasDefinedCode => Code is IommufdPageResponseCode.Success or IommufdPageResponseCode.Invalid;

    /// <summary>Writes the 8 bytes, the code as it is, defined or not.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CookieOffset..], Cookie);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CodeOffset..], (uint)Code);
    }

    /// <summary>Decodes exactly 8 bytes; the only error is <c>length</c>.</summary>
    public static DecodeResult<PageResponseRecord> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<PageResponseRecord>.Fail("length", $"{bytes.Length} bytes, an iommu_hwpt_page_response is {Size}");
        return new PageResponseRecord(
            BinaryPrimitives.ReadUInt32LittleEndian(bytes[CookieOffset..]),
            (IommufdPageResponseCode)BinaryPrimitives.ReadUInt32LittleEndian(bytes[CodeOffset..]));
    }
}
