using System.Text;
using Faultline.Simulation;

namespace Faultline.Fuzz;

/// <summary>
/// Seeded mutations of an input, byte- and text-wise: flips, interesting bytes, deletions, insertions, repeated
/// chunks (deep nesting, long lists), splices with another input and dictionary tokens. Same seed, same inputs.
/// </summary>
internal static class Mutator
{
    private static readonly byte[] Interesting = [0x00, 0x01, 0x7F, 0x80, 0xFF, (byte)'\n', (byte)'\r', (byte)'\t', (byte)' ', (byte)'[', (byte)']', (byte)'{',
        (byte)'}', (byte)':', (byte)',', (byte)'-', (byte)'*', (byte)'&', (byte)'!', (byte)'?', (byte)'"', (byte)'\'', (byte)'#', (byte)'|', (byte)'>', (byte)'@', (byte)'%', (byte)'0', (byte)'9'];

    public static byte[] Mutate(byte[] input, SimRandom random, IReadOnlyList<byte[]> pool, IReadOnlyList<byte[]> dictionary, int maxLength)
    {
        var bytes = new List<byte>(input);
        int rounds = (int)random.NextInclusive(1, 4);
        for (int r = 0; r < rounds; r++) MutateOnce(bytes, random, pool, dictionary, maxLength);
        if (bytes.Count > maxLength) bytes.RemoveRange(maxLength, bytes.Count - maxLength);
        return [.. bytes];
    }

    private static void MutateOnce(List<byte> bytes, SimRandom random, IReadOnlyList<byte[]> pool, IReadOnlyList<byte[]> dictionary, int maxLength)
    {
        int At(int extra = 0) => (int)random.NextInclusive(0, bytes.Count - 1 + extra);
        switch (random.NextInclusive(0, 9))
        {
            case 0 when bytes.Count > 0:
                bytes[At()] ^= (byte)(1 << (int)random.NextInclusive(0, 7));
                break;
            case 1 when bytes.Count > 0:
                bytes[At()] = Interesting[random.NextInclusive(0, Interesting.Length - 1)];
                break;
            case 2 when bytes.Count > 0:
            {
                int from = At(), length = (int)random.NextInclusive(1, Math.Min(64, bytes.Count - from));
                bytes.RemoveRange(from, length);
                break;
            }
            case 3:
                bytes.Insert(At(1), (byte)random.NextInclusive(0, 255));
                break;
            case 4 when bytes.Count > 0:
            {
                // A chunk repeated: long lists, deep nesting, long scalars.
                int from = At(), length = (int)random.NextInclusive(1, Math.Min(32, bytes.Count - from));
                var chunk = bytes.GetRange(from, length);
                int times = (int)Math.Min(random.NextInclusive(1, 256), Math.Max(1, (maxLength - bytes.Count) / length));
                for (int t = 0; t < times; t++) bytes.InsertRange(from, chunk);
                break;
            }
            case 5 when pool.Count > 0:
            {
                var other = pool[(int)random.NextInclusive(0, pool.Count - 1)];
                int keep = At(1), from = (int)random.NextInclusive(0, other.Length);
                bytes.RemoveRange(keep, bytes.Count - keep);
                bytes.AddRange(other.AsSpan(from).ToArray());
                break;
            }
            case 6 or 7 when dictionary.Count > 0:
                bytes.InsertRange(At(1), dictionary[(int)random.NextInclusive(0, dictionary.Count - 1)]);
                break;
            case 8 when bytes.Count > 0:
            {
                int cut = At();
                bytes.RemoveRange(cut, bytes.Count - cut);
                break;
            }
            default:
            {
                // A line swapped for another line of the input: keys moved, lists reordered.
                var text = Encoding.UTF8.GetString([.. bytes]).Split('\n');
                if (text.Length < 2) break;
                text[random.NextInclusive(0, text.Length - 1)] = text[random.NextInclusive(0, text.Length - 1)];
                bytes.Clear();
                bytes.AddRange(Encoding.UTF8.GetBytes(string.Join('\n', text)));
                break;
            }
        }
    }
}
