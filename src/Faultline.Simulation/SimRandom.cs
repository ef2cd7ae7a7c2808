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
    public long NextExponential(double mean) => mean <= 0 ? 0 : (long)Math.Round(-mean * Math.Log(1.0 - NextDouble()));

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
