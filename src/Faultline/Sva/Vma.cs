namespace Faultline.Sva;

[Flags]
public enum VmaPermissions
{
    None = 0,
    Read = 1,
    Write = 2,
    Exec = 4,
}

/// <summary>How expensive it is to bring a page of a mapping in: a minor fault (zero-fill,
/// page cache hit) or a major fault (I/O).</summary>
public enum FaultCost
{
    Minor,
    Major,
}

/// <summary>A virtual memory area of a process: [Start, Start + Length), with its rights.</summary>
public readonly record struct Vma(ulong Start, ulong Length, VmaPermissions Permissions, FaultCost Cost)
{
    public ulong End => Start + Length;

    public bool Contains(ulong address) => address >= Start && address - Start < Length;

    public override string ToString() =>
        $"[0x{Start:x}, 0x{End:x}) {(Permissions.HasFlag(VmaPermissions.Read) ? 'r' : '-')}{(Permissions.HasFlag(VmaPermissions.Write) ? 'w' : '-')}{(Permissions.HasFlag(VmaPermissions.Exec) ? 'x' : '-')} {Cost}";
}
