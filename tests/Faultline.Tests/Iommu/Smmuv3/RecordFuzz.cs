using System.Buffers.Binary;

namespace Faultline.Tests.Iommu.Smmuv3;

/// <summary>
/// Pseudo-random inputs (fixed seed) for an SMMUv3 codec: decode never throws, and a record that decodes
/// re-encodes to the same bytes with the bits no field owns cleared (SMMUv3 sources name no reserved bits,
/// so decoders ignore them rather than reject them).
/// </summary>
internal static class RecordFuzz
{
    public const int Inputs = 4000;

    /// <param name="fieldMasks">Per 64-bit word, the bits some field owns.</param>
    /// <param name="makeValid">Turns random bytes into a record that must decode (applied to every other input).</param>
    /// <returns>How many inputs decoded.</returns>
    public static int DecodeNeverThrows<T>(int size, int seed, Func<byte[], DecodeResult<T>> decode, Action<T, byte[]> encode,
        ulong[] fieldMasks, Action<byte[]>? makeValid = null) where T : struct
    {
        var random = new Random(seed);
        var bytes = new byte[size];
        var again = new byte[size];
        var expected = new byte[size];
        int valid = 0;
        for (int i = 0; i < Inputs; i++)
        {
            random.NextBytes(bytes);
            if (i % 2 == 0) makeValid?.Invoke(bytes);
            var result = decode(bytes);
            if (i % 2 == 0) Assert.True(result.IsOk, result.Error?.ToString());
            if (!result.IsOk)
            {
                Assert.False(string.IsNullOrEmpty(result.Error!.Value.Field));
                continue;
            }
            valid++;
            encode(result.Value, again);
            for (int w = 0; w < size / 8; w++)
                BinaryPrimitives.WriteUInt64LittleEndian(expected.AsSpan(w * 8), BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(w * 8)) & fieldMasks[w]);
            Assert.Equal(expected, again);
            Assert.Equal(result.Value, decode(again).Value);
        }
        for (int length = 0; length <= 64; length++)
        {
            var result = decode(new byte[length]);
            if (length != size)
            {
                Assert.False(result.IsOk);
                Assert.Equal("length", result.Error!.Value.Field);
            }
        }
        return valid;
    }

    public static ulong Dw(byte[] bytes, int index) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(index * 8));

    public static void SetDw(byte[] bytes, int index, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(index * 8), value);
}
