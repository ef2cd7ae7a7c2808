namespace Faultline.Pcie;

/// <summary>PCIe requester id: bus[15:8], device[7:3], function[2:0].</summary>
public readonly record struct RequesterId(ushort Value)
{
    /// <summary>A requester id from bus (8 bits), device (5 bits) and function (3 bits), each range-checked.</summary>
    public static RequesterId From(int bus, int device, int function)
    {
        if ((uint)bus > 0xFF) throw new ArgumentOutOfRangeException(nameof(bus));
        if ((uint)device > 0x1F) throw new ArgumentOutOfRangeException(nameof(device));
        if ((uint)function > 0x7) throw new ArgumentOutOfRangeException(nameof(function));
        return new RequesterId((ushort)((bus << 8) | (device << 3) | function));
    }

    /// <summary>Bus number, bits 15:8.</summary>
    public int Bus => Value >> 8;
    /// <summary>Device number, bits 7:3.</summary>
    public int Device => (Value >> 3) & 0x1F;
    /// <summary>Function number, bits 2:0.</summary>
    public int Function => Value & 0x7;

    /// <inheritdoc />
    public override string ToString() => $"{Bus:x2}:{Device:x2}.{Function:x}";
}
