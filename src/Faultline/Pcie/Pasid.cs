namespace Faultline.Pcie;

/// <summary>A Process Address Space ID: up to 20 bits (pcie.md §2, numbers.md §1).</summary>
public readonly record struct Pasid(uint Value)
{
    /// <summary>Widest PASID the PASID capability can declare: 20 bits.</summary>
    public const int MaxWidth = 20;
    /// <summary>Mask of the 20 PASID bits.</summary>
    public const uint Mask = (1u << MaxWidth) - 1;

    /// <summary>PASID 0 stands for "no PASID" (the RID) in the Linux core (framework.md §1.1).</summary>
    public static readonly Pasid NoPasid = new(0);

    /// <summary>A PASID, checked to fit in 20 bits.</summary>
    public static Pasid Create(uint value) =>
        value <= Mask ? new Pasid(value) : throw new ArgumentOutOfRangeException(nameof(value), value, "PASID is 20 bits");

    /// <inheritdoc />
    public override string ToString() => $"0x{Value:x}";
}
