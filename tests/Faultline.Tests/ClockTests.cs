namespace Faultline.Tests;

public sealed class ClockTests
{
    private sealed class Fixed(long frequency, long timestamp) : TimeProvider
    {
        public override long TimestampFrequency => frequency;
        public override long GetTimestamp() => timestamp;
    }

    [Theory]
    [InlineData(1_000_000_000L, 123_456_789L, 123_456_789L)] // virtual time: nanoseconds as they are
    [InlineData(1_000_000L, 42L, 42_000L)]                     // a microsecond clock
    [InlineData(10_000_000L, 4_000_000_000_000_000L, 400_000_000_000_000_000L)] // the product passes 2^63 on the way: no overflow
    public void An_injected_clock_reads_as_nanoseconds_whatever_its_frequency(long frequency, long timestamp, long expected)
    {
        Assert.Equal(expected, new Fixed(frequency, timestamp).Nanoseconds());
    }
}
