using System.Buffers.Binary;
using Faultline.Pcie;

namespace Faultline.Iommu.Smmuv3;

/// <summary>
/// The Resp field of CMD_PRI_RESP (DW1 bits 13:12), named as mainline Linux names it
/// (<c>enum pri_resp { PRI_RESP_DENY = 0, PRI_RESP_FAIL = 1, PRI_RESP_SUCC = 2 }</c>,
/// drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h). 3 is not a value: decode rejects it.
/// </summary>
public enum PriResponse : byte
{
    /// <summary>0, <c>PRI_RESP_DENY</c>: the function gets Invalid Request.</summary>
    Deny = 0,
    /// <summary>1, <c>PRI_RESP_FAIL</c>: the function gets Response Failure.</summary>
    Fail = 1,
    /// <summary>2, <c>PRI_RESP_SUCC</c>: the function gets Success.</summary>
    Success = 2,
}

/// <summary>
/// The PCIe PRG Response code each Resp value stands for (smmuv3.md §3): Deny ↔ Invalid Request,
/// Fail ↔ Response Failure, Success ↔ Success.
/// </summary>
public static class PriResponses
{
    /// <summary>Resp is 2 bits wide (DW1 13:12).</summary>
    public const byte FieldMask = 0x3;

    /// <summary>Whether the value is Deny, Fail or Success (3 is not a value).</summary>
    public static bool IsDefined(this PriResponse response) => (byte)response <= (byte)PriResponse.Success;

    /// <summary>The PCIe PRG Response code the value stands for; throws for an undefined value.</summary>
    public static ResponseCode ToResponseCode(this PriResponse response) => response switch
    {
        PriResponse.Deny => ResponseCode.InvalidRequest,
        PriResponse.Fail => ResponseCode.ResponseFailure,
        PriResponse.Success => ResponseCode.Success,
        _ => throw new ArgumentOutOfRangeException(nameof(response), response, "CMD_PRI_RESP Resp is 0 (Deny), 1 (Fail) or 2 (Success)"),
    };

    /// <summary>The Resp value for a PCIe code; false for the reserved codes, which no Resp value carries.</summary>
    public static bool TryFromResponseCode(ResponseCode code, out PriResponse response)
    {
        switch (code)
        {
            case ResponseCode.InvalidRequest: response = PriResponse.Deny; return true;
            case ResponseCode.ResponseFailure: response = PriResponse.Fail; return true;
            case ResponseCode.Success: response = PriResponse.Success; return true;
            default: response = default; return false;
        }
    }

    /// <summary>The Resp value for a PCIe code; throws for the reserved codes, which no Resp value carries.</summary>
    public static PriResponse FromResponseCode(ResponseCode code) =>
        TryFromResponseCode(code, out var response)
            ? response
            : throw new ArgumentOutOfRangeException(nameof(code), code, "a reserved PRG Response code has no CMD_PRI_RESP Resp value");

    /// <summary>Deny, Fail, Success, or Reserved&lt;n&gt; for another value.</summary>
    public static string Name(this PriResponse response) => response switch
    {
        PriResponse.Deny => "Deny",
        PriResponse.Fail => "Fail",
        PriResponse.Success => "Success",
        _ => $"Reserved{(byte)response}",
    };
}

/// <summary>
/// The 16-byte SMMUv3 CMD_PRI_RESP command (opcode 0x41, smmuv3.md §3): the PRG Response the SMMU
/// sends to the function. DW0: opcode 7:0, SSV 11, SubstreamID 31:12, StreamID 63:32. DW1: PRG index
/// 8:0, Resp 13:12 (0 Deny, 1 Fail, 2 Success; 3 is not a value and decodes as an error on "resp").
/// <para>
/// Sources. Linux drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (torvalds/linux): <c>CMDQ_OP_PRI_RESP</c> 0x41,
/// <c>CMDQ_0_OP</c> = GENMASK_ULL(7, 0), <c>CMDQ_0_SSV</c> = 1 &lt;&lt; 11, <c>CMDQ_PRI_0_SSID</c> = GENMASK_ULL(31, 12),
/// <c>CMDQ_PRI_0_SID</c> = GENMASK_ULL(63, 32), <c>CMDQ_PRI_1_GRPID</c> = GENMASK_ULL(8, 0),
/// <c>CMDQ_PRI_1_RESP</c> = GENMASK_ULL(13, 12), <c>enum pri_resp</c> DENY 0 / FAIL 1 / SUCC 2;
/// <c>arm_smmu_cmdq_build_cmd</c> (arm-smmu-v3.c) returns -EINVAL for any other Resp, and
/// <c>arm_smmu_handle_ppr</c> answers a last request with <c>PRI_RESP_DENY</c> and SSV copied (R38).
/// QEMU hw/arm/smmuv3-internal.h agrees on <c>CMD_TYPE</c> (word[0] 7:0), <c>CMD_SSV</c> (word[0] bit 11),
/// <c>CMD_SSID</c> (word[0] 31:12) and <c>CMD_SID</c> (word[1]) but its unused <c>CMD_RESP(x)</c> =
/// extract32(word[2], 11, 2) puts Resp at DW1 12:11; this codec follows Linux (13:12). The unmerged
/// 2020 PRI series renamed the values FAILURE 0 / INVALID 1 / SUCCESS 2; mainline names are used here.
/// No source names reserved bits: decode ignores the other bits and encode writes them as 0.
/// </para>
/// </summary>
public readonly record struct PriResponseCommand(
    uint StreamId,
    bool SubstreamValid,
    Pasid SubstreamId,
    PrgIndex Index,
    PriResponse Response)
{
    /// <summary>16 bytes, as every SMMUv3 command.</summary>
    public const int Size = Smmuv3Command.Size;
    /// <summary>0x41 (Linux <c>CMDQ_OP_PRI_RESP</c>).</summary>
    public const byte Opcode = Smmuv3Command.PriResponseOpcode;

    /// <summary>DW0 bit 11, SSV: the response carries SubstreamID as its PASID (<c>CMDQ_0_SSV</c>).</summary>
    public const ulong SubstreamValidBit = 1UL << 11;
    /// <summary>DW0 31:12: SubstreamID (<c>CMDQ_PRI_0_SSID</c>).</summary>
    public const int SubstreamIdShift = 12;
    /// <summary>DW0 63:32: StreamID (<c>CMDQ_PRI_0_SID</c>).</summary>
    public const int StreamIdShift = 32;
    /// <summary>DW1 13:12: Resp (<c>CMDQ_PRI_1_RESP</c>).</summary>
    public const int ResponseShift = 12;

    /// <summary>The bits of DW0 that carry a field; the rest are written as 0 and ignored on decode.</summary>
    public const ulong Dw0Fields = 0xFFUL | SubstreamValidBit | ((ulong)Pasid.Mask << SubstreamIdShift) | (0xFFFF_FFFFUL << StreamIdShift);
    /// <summary>The bits of DW1 that carry a field; the rest are written as 0 and ignored on decode.</summary>
    public const ulong Dw1Fields = PrgIndex.Mask | ((ulong)PriResponses.FieldMask << ResponseShift);

    /// <summary>The PCIe PRG Response code this command delivers.</summary>
    public ResponseCode Code => Response.ToResponseCode();

    /// <summary>
    /// The command answering <paramref name="entry"/> with <paramref name="code"/>; SSV and SubstreamID are
    /// copied from the request, as <c>arm_smmu_handle_ppr</c> does.
    /// </summary>
    public static PriResponseCommand Answer(in PriQueueEntry entry, ResponseCode code) =>
        new(entry.StreamId, entry.SubstreamValid, entry.SubstreamValid ? entry.SubstreamId : default, entry.Index,
            PriResponses.FromResponseCode(code));

    /// <summary>Writes the command; an undefined <see cref="Response"/> is written as is (its low 2 bits), and decodes as an error.</summary>
    public void Encode(Span<byte> destination)
    {
        if (destination.Length < Size) throw new ArgumentException($"needs {Size} bytes", nameof(destination));
        ulong dw0 = Opcode
            | (SubstreamValid ? SubstreamValidBit : 0)
            | ((ulong)(SubstreamId.Value & Pasid.Mask) << SubstreamIdShift)
            | ((ulong)StreamId << StreamIdShift);
        ulong dw1 = ((ulong)Index.Value & PrgIndex.Mask) | ((ulong)((byte)Response & PriResponses.FieldMask) << ResponseShift);
        BinaryPrimitives.WriteUInt64LittleEndian(destination, dw0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], dw1);
    }

    /// <summary>Reads exactly 16 bytes; fails on length, opcode, or Resp = 3.</summary>
    public static DecodeResult<PriResponseCommand> Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Size)
            return DecodeResult<PriResponseCommand>.Fail("length", $"{bytes.Length} bytes, a CMD_PRI_RESP is {Size}");
        ulong dw0 = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        ulong dw1 = BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        byte opcode = Smmuv3Command.OpcodeOf(dw0);
        if (opcode != Opcode)
            return DecodeResult<PriResponseCommand>.Fail("opcode", $"DW0[7:0] is 0x{opcode:x2}, CMD_PRI_RESP has opcode 0x{Opcode:x2}");
        var response = (PriResponse)((dw1 >> ResponseShift) & PriResponses.FieldMask);
        if (!response.IsDefined())
            return DecodeResult<PriResponseCommand>.Fail("resp", $"DW1[13:12] is {(byte)response}, Resp is 0 (Deny), 1 (Fail) or 2 (Success)");
        return new PriResponseCommand(
            (uint)(dw0 >> StreamIdShift),
            (dw0 & SubstreamValidBit) != 0,
            new Pasid((uint)(dw0 >> SubstreamIdShift) & Pasid.Mask),
            new PrgIndex((ushort)(dw1 & PrgIndex.Mask)),
            response);
    }
}
