using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>
/// xoshiro256** seeded through SplitMix64: the same seed gives the same stream on every runtime
/// (System.Random makes no such promise across versions). Components get their own stream by name,
/// so adding a device does not shift another device's numbers.
/// </summary>
public sealed class SimRandom
{
    private readonly ulong _seed;
    private ulong _s0, _s1, _s2, _s3;

    public SimRandom(ulong seed)
    {
        _seed = seed;
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public SimRandom Fork(string stream)
    {
        ulong hash = 0xcbf29ce484222325; // FNV-1a
        foreach (char c in stream)
        {
            hash ^= c;
            hash *= 0x100000001b3;
        }
        // From the seed and the name only: neither the numbers drawn so far nor the other streams
        // forked before it change a stream (a run and its baseline without some tenants agree).
        return new SimRandom(_seed ^ hash);
    }

    public ulong NextUInt64()
    {
        ulong result = ulong.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = ulong.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1), 53 bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [min, max] (inclusive), without modulo bias.</summary>
    public long NextInclusive(long min, long max)
    {
        if (max < min) throw new ArgumentOutOfRangeException(nameof(max));
        ulong range = (ulong)(max - min) + 1;
        if (range == 0) return (long)NextUInt64();
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return min + (long)(r % range);
    }

    public bool Chance(double probability) => NextDouble() < probability;

    /// <summary>Exponentially distributed with the given mean, rounded to whole nanoseconds.</summary>
    public long NextExponential(double mean) => mean <= 0 ? 0 : (long)Math.Round(-mean * Log(1.0 - NextDouble()));

    /// <summary>
    /// The natural logarithm of a positive finite <paramref name="x"/> from IEEE 754 additions, multiplications and
    /// divisions only, each correctly rounded everywhere, so a variate has the same bits on every machine and
    /// runtime (Math.Log's last bit is the platform's libm's; DESIGN rule 2). Within 2 ulp of the exact value:
    /// x = m·2^e with m in [√½, √2), ln m = 2·atanh(s) with s = (m−1)/(m+1), |s| ≤ 0.172, summed to s^23.
    /// </summary>
    internal static double Log(double x)
    {
        if (!(x > 0) || double.IsInfinity(x)) throw new ArgumentOutOfRangeException(nameof(x), x, "the logarithm of a positive finite number");
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7FF);
        if (exponent == 0) // subnormal: scale into the normal range exactly
        {
            bits = BitConverter.DoubleToInt64Bits(x * 18014398509481984.0); // 2^54
            exponent = (int)((bits >> 52) & 0x7FF) - 54;
        }
        exponent -= 1023;
        double m = BitConverter.Int64BitsToDouble((bits & 0x000F_FFFF_FFFF_FFFFL) | 0x3FF0_0000_0000_0000L); // [1, 2)
        if (m > 1.4142135623730951)
        {
            m *= 0.5;
            exponent++;
        }
        double s = (m - 1.0) / (m + 1.0);
        double s2 = s * s;
        // atanh(s)/s = 1 + s²/3 + s⁴/5 + …, Horner from the smallest term.
        double series = 1.0 / 23;
        for (int k = 21; k >= 1; k -= 2) series = 1.0 / k + s2 * series;
        const double Ln2Hi = 0.693147180369123816490;   // ln 2, upper bits (exact times any exponent)
        const double Ln2Lo = 1.90821492927058770002e-10; // ln 2 - Ln2Hi
        return exponent * Ln2Hi + (exponent * Ln2Lo + 2.0 * s * series);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
