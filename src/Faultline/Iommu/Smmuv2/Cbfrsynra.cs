namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// SMMU_CBFRSYNRAn, in global register space 1 at 0x400 + 4n: the StreamID (15:0) and SSD index (30:16)
/// of the transaction whose fault context bank n recorded (docs/smmuv2.md §2). Bit 31 is reserved.
/// <para>
/// Sources. Linux arm-smmu.h <c>ARM_SMMU_GR1_CBFRSYNRA(n)</c> (0x400 + ((n) &lt;&lt; 2)); Linux's
/// qcom debug path masks the SID with <c>CBFRSYNRA_SID_MASK</c> / <c>ARM_SMMU_CBFRSYNRA_SID</c> GENMASK(15, 0).
/// AMD UG1087 SMMU_CBFRSYNRAn (MMU-500): SSD_Index 30:16, StreamID 14:0 (MMU-500 has 15-bit StreamIDs).
/// </para>
/// </summary>
public readonly record struct Cbfrsynra(ushort StreamId, ushort SsdIndex)
{
    /// <summary>SSD_Index at bits 30:16.</summary>
    public const int SsdIndexShift = 16;
    /// <summary>SSD_Index is 15 bits wide.</summary>
    public const uint SsdIndexMask = 0x7FFF;
    /// <summary>The bits that carry a field: StreamID 15:0 and SSD_Index 30:16.</summary>
    public const uint Fields = 0xFFFFu | (SsdIndexMask << SsdIndexShift);

    /// <summary>The offset of SMMU_CBFRSYNRAn in global register space 1: 0x400 + 4n (<c>ARM_SMMU_GR1_CBFRSYNRA(n)</c>).</summary>
    public static int Offset(int contextBank) => 0x400 + (contextBank << 2);

    /// <summary>Writes the value; an <see cref="SsdIndex"/> above 0x7FFF is written as its low 15 bits.</summary>
    public uint Encode() => StreamId | ((SsdIndex & SsdIndexMask) << SsdIndexShift);

    /// <summary>Reads a register value; fails when reserved bit 31 is set.</summary>
    public static DecodeResult<Cbfrsynra> Decode(uint value)
    {
        if ((value & ~Fields) != 0)
            return DecodeResult<Cbfrsynra>.Fail("reserved", $"CBFRSYNRA bit 31 is reserved (value 0x{value:x8})");
        return new Cbfrsynra((ushort)value, (ushort)((value >> SsdIndexShift) & SsdIndexMask));
    }
}
