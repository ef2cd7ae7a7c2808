using System.Buffers.Binary;

namespace Faultline.Tests.Iommu;

/// <summary>Queue records as little-endian 64-bit words, the way the spec tables describe them.</summary>
internal static class Qwords
{
    /// <summary>The words a record's encoder writes.</summary>
    public static ulong[] Of(int size, SpanAction encode)
    {
        var bytes = new byte[size];
        encode(bytes);
        return [.. Enumerable.Range(0, size / 8).Select(i => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(i * 8)))];
    }

    /// <summary>The bytes of a record given word by word, padded with zero words to <paramref name="size"/>.</summary>
    public static byte[] Bytes(int size, params ulong[] words)
    {
        var bytes = new byte[size];
        for (int i = 0; i < words.Length; i++) BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(i * 8), words[i]);
        return bytes;
    }

    public delegate void SpanAction(Span<byte> destination);
}
