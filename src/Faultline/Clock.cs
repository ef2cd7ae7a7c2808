namespace Faultline;

/// <summary>
/// The one place the core reads an injected clock (DESIGN rule 1): a <see cref="TimeProvider"/>'s
/// timestamp in nanoseconds, whatever its frequency — the simulator's virtual time, or a wall clock.
/// </summary>
public static class Clock
{
    /// <summary>The provider's current timestamp converted to nanoseconds (exact when its frequency is 1 GHz).</summary>
    public static long Nanoseconds(this TimeProvider time) =>
        time.TimestampFrequency == 1_000_000_000
            ? time.GetTimestamp()
            : (long)((Int128)time.GetTimestamp() * 1_000_000_000 / time.TimestampFrequency);
}
