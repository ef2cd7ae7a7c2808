using System.Buffers.Binary;

namespace Faultline.Tests;

/// <summary>
/// Checks every bit-exact record shares (DESIGN rule 3): pseudo-random inputs (fixed seed) never make
/// decode throw, a wrong length is named "length", and a record that decodes re-encodes to the same bytes
/// — all of them for records that reject reserved bits, the bits a field owns for records whose sources
/// name no reserved bits (SMMUv3), which decode ignores.
/// </summary>
internal static class RecordChecks
{
    public const int Inputs = 4000;

    /// <param name="fieldMasks">Per 64-bit word, the bits some field owns; null when decode rejects every other bit.</param>
    /// <param name="makeValid">Turns random bytes into a record that must decode (applied to every other input).</param>
    /// <returns>How many inputs decoded.</returns>
    public static int DecodeNeverThrows<T>(int size, int seed, Func<byte[], DecodeResult<T>> decode, Action<T, byte[]> encode,
        ulong[]? fieldMasks = null, Action<byte[]>? makeValid = null) where T : struct
    {
        fieldMasks ??= Enumerable.Repeat(ulong.MaxValue, size / 8).ToArray();
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

    /// <summary>
    /// A VT-d invalidation-queue decoder names "type" for every other type-low value and for any
    /// type-high bit (QW0 11:9) set on its own type.
    /// </summary>
    public static void WrongInvalidationTypesNameType<T>(int size, byte type, Func<byte[], DecodeResult<T>> decode) where T : struct
    {
        var bad = Enumerable.Range(0, 16).Where(t => t != type).Select(t => (ulong)t)
            .Concat([type | (1UL << 9), type | (1UL << 10), type | (1UL << 11)]);
        foreach (ulong qw0 in bad)
        {
            var bytes = new byte[size];
            SetDw(bytes, 0, qw0);
            var result = decode(bytes);
            Assert.False(result.IsOk, $"QW0 = 0x{qw0:x} does not have type 0x{type:x}");
            Assert.Equal("type", result.Error!.Value.Field);
        }
    }
}
