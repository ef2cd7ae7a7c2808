namespace Faultline.Pcie;

/// <summary>Page Request Group index: 9 bits, chosen by the function (pcie.md §3.1).</summary>
public readonly record struct PrgIndex(ushort Value)
{
    /// <summary>Width of the PRG Index field: 9 bits.</summary>
    public const int Width = 9;
    /// <summary>Number of PRG indexes a function can use: 512.</summary>
    public const int Count = 1 << Width;
    /// <summary>Mask of the 9 PRG Index bits.</summary>
    public const ushort Mask = Count - 1;

    /// <summary>A PRG index, checked to fit in 9 bits.</summary>
    public static PrgIndex Create(int value) =>
        (uint)value < Count ? new PrgIndex((ushort)value) : throw new ArgumentOutOfRangeException(nameof(value), value, "PRG index is 9 bits");

    /// <inheritdoc />
    public override string ToString() => $"0x{Value:x}";
}
