using Faultline.Pcie;

namespace Faultline.Devices;

/// <summary>The fixed properties of a PRI-capable function.</summary>
public sealed record PriFunctionConfig
{
    /// <summary>The function's name in reports and traces.</summary>
    public required string Name { get; init; }
    /// <summary>The function's requester id (bus, device, function).</summary>
    public required RequesterId Requester { get; init; }

    /// <summary>Outstanding Page Request Capacity (pcie.md §2).</summary>
    public uint Capacity { get; init; } = 32;

    /// <summary>Most page requests the function puts in one group before it sets L.</summary>
    public int PagesPerGroup { get; init; } = 4;

    /// <summary>PRI Status: PRG Response PASID Required; the host refuses a PASID-enabled function without it (R34).</summary>
    public bool PrgResponsePasidRequired { get; init; } = true;

    /// <summary>Has a PASID capability; with it, whether Execute / Privileged Mode are supported.</summary>
    public bool PasidSupported { get; init; } = true;
    /// <summary>PASID Capability: Execute Permission Supported.</summary>
    public bool ExecuteSupported { get; init; }
    /// <summary>PASID Capability: Privileged Mode Supported.</summary>
    public bool PrivilegedSupported { get; init; }

    /// <summary>ATS Page Aligned Request (H-PCI-17).</summary>
    public bool PageAlignedRequest { get; init; } = true;

    /// <summary>Translations the ATC holds; the oldest is evicted first.</summary>
    public int AtcEntries { get; init; } = 1024;

    /// <summary>H-PCI-21 [UNVERIFIED] switch: whether a Stop Marker takes a credit. It is never answered,
    /// so a credit it takes stays in use until a PRI reset. Default: it takes none.</summary>
    public bool StopMarkerConsumesCredit { get; init; }

    /// <summary>Fault injection (a buggy function): every Nth group goes out without its last request, so
    /// it is never answered and its partial requests wait at the host (POL-4). 0 = never.</summary>
    public int OmitLastEvery { get; init; }

    /// <summary>How many Success responses a page may get without becoming usable before the access fails.</summary>
    public int RetryLimit { get; init; } = 16;

    /// <summary>
    /// Whether an access translates through ATS first. False is a modelling shortcut for throughput studies:
    /// every page of an access goes straight out as a page request, with no Translation Request, and a Success
    /// response completes the page (the re-issued request is taken as translated, so the H-PCI-7 retry loop and
    /// the ATC are not modelled). Invalid Request and Response Failure act as with ATS (H-PCI-8, H-PCI-9).
    /// </summary>
    public bool Ats { get; init; } = true;
}
