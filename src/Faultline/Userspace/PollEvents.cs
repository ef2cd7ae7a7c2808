namespace Faultline.Userspace;

/// <summary>poll(2) events (R48), with Linux's values.</summary>
[Flags]
public enum PollEvents : uint
{
    /// <summary>Nothing ready: the deliver list is empty.</summary>
    None = 0,
    /// <summary>A fault record can be read.</summary>
    EPOLLIN = 0x001,
    /// <summary>A response can be written (always set, R48).</summary>
    EPOLLOUT = 0x004,
    /// <summary>Normal data can be read; set with <see cref="EPOLLIN"/>.</summary>
    EPOLLRDNORM = 0x040,
}

/// <summary>One group as the typed API returns it: its cookie and its records, last fault last.</summary>
public sealed record UserFaultGroup(uint Cookie, PageFaultRecord[] Records);
