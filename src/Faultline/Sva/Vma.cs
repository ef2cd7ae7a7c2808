namespace Faultline.Sva;

/// <summary>The access rights of a VMA, as <c>VM_READ</c> / <c>VM_WRITE</c> / <c>VM_EXEC</c> in <c>vm_flags</c>.</summary>
[Flags]
public enum VmaPermissions
{
    /// <summary>No rights (a <c>PROT_NONE</c> mapping).</summary>
    None = 0,
    /// <summary>Readable (<c>VM_READ</c>).</summary>
    Read = 1,
    /// <summary>Writable (<c>VM_WRITE</c>).</summary>
    Write = 2,
    /// <summary>Executable (<c>VM_EXEC</c>).</summary>
    Exec = 4,
}

/// <summary>How expensive it is to bring a page of a mapping in: a minor fault (zero-fill,
/// page cache hit) or a major fault (I/O).</summary>
public enum FaultCost
{
    /// <summary>A minor fault: the page is found or zero-filled without I/O (<see cref="SvaCosts.MinorFaultNanoseconds"/>).</summary>
    Minor,
    /// <summary>A major fault: the page is read in from storage (<see cref="SvaCosts.MajorFaultNanoseconds"/>).</summary>
    Major,
}

/// <summary>A virtual memory area of a process: [Start, Start + Length), with its rights.</summary>
public readonly record struct Vma(ulong Start, ulong Length, VmaPermissions Permissions, FaultCost Cost)
{
    /// <summary>The first address past the VMA (<c>vm_end</c>).</summary>
    public ulong End => Start + Length;

    /// <summary>Whether <paramref name="address"/> lies in [Start, End).</summary>
    public bool Contains(ulong address) => address >= Start && address - Start < Length;

    /// <inheritdoc />
    public override string ToString() =>
        $"[0x{Start:x}, 0x{End:x}) {(Permissions.HasFlag(VmaPermissions.Read) ? 'r' : '-')}{(Permissions.HasFlag(VmaPermissions.Write) ? 'w' : '-')}{(Permissions.HasFlag(VmaPermissions.Exec) ? 'x' : '-')} {Cost}";
}
