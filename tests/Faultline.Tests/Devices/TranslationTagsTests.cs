using Faultline.Devices;

namespace Faultline.Tests.Devices;

/// <summary>
/// The table of translation requests in flight by tag (issue 9) answers as the dictionary it replaced (kept below as
/// the reference), in order or not, and its size follows the requests in flight.
/// </summary>
public sealed class TranslationTagsTests
{
    [Theory]
    [InlineData(1, 0.0)]  // answered in order, as a constant translation time gives
    [InlineData(2, 0.5)]  // half of them out of order
    [InlineData(3, 1.0)]  // any order
    public void Answers_as_a_dictionary_of_tags_would_in_order_or_not(int seed, double shuffled)
    {
        var random = new Random(seed);
        var table = new TranslationTags<long>();
        var reference = new Dictionary<int, long>();
        var inFlight = new List<int>();
        int nextTag = int.MaxValue - 5_000; // the tags wrap past int.MaxValue on the way
        for (int step = 0; step < 20_000; step++)
        {
            if (inFlight.Count < 64 && (inFlight.Count == 0 || random.Next(2) == 0))
            {
                int tag = nextTag++;
                table.Add(tag, tag * 3L);
                reference.Add(tag, tag * 3L);
                inFlight.Add(tag);
                continue;
            }
            int at = random.NextDouble() < shuffled ? random.Next(inFlight.Count) : 0;
            int answered = random.Next(10) == 0 ? nextTag + 7 : inFlight[at]; // sometimes a tag never asked
            Assert.Equal(reference.Remove(answered, out long expected), table.Remove(answered, out long value));
            Assert.Equal(expected, value);
            inFlight.Remove(answered);
            Assert.Equal(reference.Count, table.Count);
        }
        foreach (int tag in inFlight) Assert.True(table.Any(tag, static (t, v) => v == t * 3L));
        Assert.False(table.Any(0, static (_, v) => v == 1));
    }

    [Fact]
    public void A_request_never_answered_keeps_one_slot_however_far_the_tags_move_on()
    {
        var table = new TranslationTags<int>();
        table.Add(0, 0); // never answered
        for (int tag = 1; tag < 1_000_000; tag++)
        {
            table.Add(tag, tag);
            Assert.True(table.Remove(tag, out _));
        }
        Assert.Equal(1, table.Count);
        Assert.True(table.Slots <= 16, $"{table.Slots} slots for 1 request in flight");
        Assert.True(table.Remove(0, out _));
    }
}
