namespace Faultline;

/// <summary>
/// The one place a host in this assembly reads a clock: the runtime's <see cref="Runtime.HostLoop"/> turns its
/// <see cref="TimeProvider"/>'s timestamp into the nanoseconds every input of the core carries (DESIGN rule 1:
/// the fault path itself reads no clock).
/// </summary>
public static class Clock
{
    /// <summary>The provider's current timestamp converted to nanoseconds (exact when its frequency is 1 GHz).</summary>
    public static long Nanoseconds(this TimeProvider time) =>
        time.TimestampFrequency == 1_000_000_000
            ? time.GetTimestamp()
            : (long)((Int128)time.GetTimestamp() * 1_000_000_000 / time.TimestampFrequency);
}
