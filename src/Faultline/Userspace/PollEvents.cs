namespace Faultline.Userspace;

/// <summary>poll(2) events (R48), with Linux's values.</summary>
[Flags]
public enum PollEvents : uint
{
    None = 0,
    EPOLLIN = 0x001,
    EPOLLOUT = 0x004,
    EPOLLRDNORM = 0x040,
}

/// <summary>One group as the typed API returns it: its cookie and its records, last fault last.</summary>
public sealed record UserFaultGroup(uint Cookie, PageFaultRecord[] Records);
