using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Faultline.Faults;

/// <summary>
/// A mainline Linux release (<c>torvalds/linux</c> tag <c>vMAJOR.MINOR</c>) that the <c>linux</c> policy can be
/// pinned to (<see cref="FaultPolicy.LinuxAt"/>). Faultline models every release from <see cref="Oldest"/> (the
/// v6.6 long-term release) to <see cref="Newest"/>; stable point releases (v6.12.16) are not told apart.
/// </summary>
public readonly record struct KernelRelease(int Major, int Minor) : IComparable<KernelRelease>
{
    /// <summary>v6.6, the oldest release modelled (a long-term release).</summary>
    public static KernelRelease Oldest { get; } = new(6, 6);
    /// <summary>v6.18, the newest mainline release modelled: what <see cref="FaultPolicy.Linux"/> and <see cref="FaultPolicy.Hardened"/> follow.</summary>
    public static KernelRelease Newest { get; } = new(6, 18);

    /// <summary>Whether this release lies in <see cref="Oldest"/>..<see cref="Newest"/>.</summary>
    public bool IsModelled => this >= Oldest && this <= Newest;

    /// <summary>
    /// Reads <c>6.12</c> or <c>v6.12</c>. Null when the text is not MAJOR.MINOR; a release outside the
    /// modelled range parses (the caller says why it is refused, <see cref="IsModelled"/>).
    /// </summary>
    public static KernelRelease? Parse(string text)
    {
        var s = text.Trim();
        if (s.StartsWith('v') || s.StartsWith('V')) s = s[1..];
        var parts = s.Split('.');
        return parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int major)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int minor)
            ? new KernelRelease(major, minor)
            : null;
    }

    /// <summary>Parses <paramref name="text"/> and accepts it only inside the modelled range; <paramref name="error"/> says why not.</summary>
    public static bool TryParseModelled(string text, out KernelRelease release, [NotNullWhen(false)] out string? error)
    {
        release = default;
        if (Parse(text) is not { } parsed)
        {
            error = $"'{text}' is not a kernel release; write MAJOR.MINOR, e.g. 6.12";
            return false;
        }
        if (!parsed.IsModelled)
        {
            error = $"{parsed} is not modelled; Faultline models {Oldest} to {Newest}";
            return false;
        }
        release = parsed;
        error = null;
        return true;
    }

    /// <inheritdoc/>
    public int CompareTo(KernelRelease other) => Major != other.Major ? Major.CompareTo(other.Major) : Minor.CompareTo(other.Minor);

    /// <summary>Whether <paramref name="a"/> is older than <paramref name="b"/>.</summary>
    public static bool operator <(KernelRelease a, KernelRelease b) => a.CompareTo(b) < 0;
    /// <summary>Whether <paramref name="a"/> is newer than <paramref name="b"/>.</summary>
    public static bool operator >(KernelRelease a, KernelRelease b) => a.CompareTo(b) > 0;
    /// <summary>Whether <paramref name="a"/> is <paramref name="b"/> or older.</summary>
    public static bool operator <=(KernelRelease a, KernelRelease b) => a.CompareTo(b) <= 0;
    /// <summary>Whether <paramref name="a"/> is <paramref name="b"/> or newer.</summary>
    public static bool operator >=(KernelRelease a, KernelRelease b) => a.CompareTo(b) >= 0;

    /// <summary>The tag's name, <c>v6.12</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"v{Major}.{Minor}");
}
