namespace Faultline.Tests.Userspace;

/// <summary>A clock the test moves by hand, in nanoseconds.</summary>
public sealed class ManualTime : TimeProvider
{
    public long Now { get; set; }
    public override long TimestampFrequency => 1_000_000_000;
    public override long GetTimestamp() => Now;
}
