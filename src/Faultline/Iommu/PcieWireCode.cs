using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Iommu;

/// <summary>The PCIe response code an IOMMU command carries for a framework response (POL-11).</summary>
public static class PcieWireCode
{
    /// <summary>
    /// <c>linux</c> places the enum value as is (VT-d <c>prq.c</c>, AMD <c>build_complete_ppr</c>), so
    /// FAILURE (2) reaches the wire as a reserved code; <c>hardened</c> maps it to PCIe 0 / 1 / 0xF.
    /// </summary>
    public static ResponseCode For(PageResponseCode code, WireCodePolicy policy) => policy switch
    {
        WireCodePolicy.EnumVerbatim => (ResponseCode)(byte)code,
        _ => code switch
        {
            PageResponseCode.Success => ResponseCode.Success,
            PageResponseCode.Invalid => ResponseCode.InvalidRequest,
            _ => ResponseCode.ResponseFailure,
        },
    };
}
