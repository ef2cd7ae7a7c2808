namespace Faultline.Pcie;

/// <summary>
/// PRG Response code as carried on the wire (4 bits, pcie.md §3.3). Values 0010b–1110b are
/// reserved; they are representable so a model can receive what a buggy host sends.
/// </summary>
public enum ResponseCode : byte
{
    Success = 0x0,
    InvalidRequest = 0x1,
    ResponseFailure = 0xF,
}

public static class ResponseCodes
{
    public const byte FieldMask = 0xF;

    public static bool IsReserved(this ResponseCode code) =>
        code is not (ResponseCode.Success or ResponseCode.InvalidRequest or ResponseCode.ResponseFailure);

    public static ResponseCode FromWire(int value) => (ResponseCode)(value & FieldMask);

    public static string Name(this ResponseCode code) => code switch
    {
        ResponseCode.Success => "Success",
        ResponseCode.InvalidRequest => "InvalidRequest",
        ResponseCode.ResponseFailure => "ResponseFailure",
        _ => $"Reserved{(byte)code:X}h",
    };
}
