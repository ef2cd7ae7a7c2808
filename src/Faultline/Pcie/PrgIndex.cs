namespace Faultline.Pcie;

/// <summary>Page Request Group index: 9 bits, chosen by the function (pcie.md §3.1).</summary>
public readonly record struct PrgIndex(ushort Value)
{
    public const int Width = 9;
    public const int Count = 1 << Width;
    public const ushort Mask = Count - 1;

    public static PrgIndex Create(int value) =>
        (uint)value < Count ? new PrgIndex((ushort)value) : throw new ArgumentOutOfRangeException(nameof(value), value, "PRG index is 9 bits");

    public override string ToString() => $"0x{Value:x}";
}
