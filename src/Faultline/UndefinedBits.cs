namespace Faultline;

/// <summary>
/// What a decoder of a hardware record does with bits its sources leave undefined (reserved bits, a type field).
/// Tools and tests refuse them, to show a record as it is; Linux's drivers read only the fields they use, so the
/// modelled drivers decode with <see cref="Ignore"/> (R31, R35) and count what they ignored.
/// </summary>
public enum UndefinedBits
{
    /// <summary>A set undefined bit fails the decode, naming the bits.</summary>
    Refuse,
    /// <summary>Undefined bits are dropped and the defined fields decoded.</summary>
    Ignore,
}
