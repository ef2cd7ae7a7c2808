namespace Faultline.Pcie;

/// <summary>
/// PRG Response code as carried on the wire (4 bits, pcie.md §3.3). Values 0010b–1110b are
/// reserved; they are representable so a model can receive what a buggy host sends.
/// </summary>
public enum ResponseCode : byte
{
    /// <summary>Success (0000b): the pages are resident; the function retries its translations (H-PCI-7).</summary>
    Success = 0x0,
    /// <summary>Invalid Request (0001b): the pages cannot be made resident; the access fails without retry (H-PCI-8).</summary>
    InvalidRequest = 0x1,
    /// <summary>Response Failure (1111b): the function sets RF and sends no more page requests (H-PCI-9).</summary>
    ResponseFailure = 0xF,
}

/// <summary>The 4-bit Response Code field: its mask, reserved values and names.</summary>
public static class ResponseCodes
{
    /// <summary>Mask of the 4-bit Response Code field.</summary>
    public const byte FieldMask = 0xF;

    /// <summary>Whether the code is one of the reserved values 0010b–1110b.</summary>
    public static bool IsReserved(this ResponseCode code) =>
        code is not (ResponseCode.Success or ResponseCode.InvalidRequest or ResponseCode.ResponseFailure);

    /// <summary>The code in the low 4 bits of <paramref name="value"/>, reserved values included.</summary>
    public static ResponseCode FromWire(int value) => (ResponseCode)(value & FieldMask);

    /// <summary>The code's name, or ReservedXh for a reserved value.</summary>
    public static string Name(this ResponseCode code) => code switch
    {
        ResponseCode.Success => "Success",
        ResponseCode.InvalidRequest => "InvalidRequest",
        ResponseCode.ResponseFailure => "ResponseFailure",
        _ => $"Reserved{(byte)code:X}h",
    };
}
