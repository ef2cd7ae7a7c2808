namespace Faultline.Devices;

/// <summary>H-PCI-19: how a function finishes stopping a PASID.</summary>
public enum PasidStopMode
{
    /// <summary>(a) Wait until every outstanding page request group of the PASID has its response.</summary>
    WaitForResponses,
    /// <summary>(b) Send a Stop Marker after the PASID's last page request and stop waiting (H-PCI-20..22).</summary>
    StopMarker,
}
