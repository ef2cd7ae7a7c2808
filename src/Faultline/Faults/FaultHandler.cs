namespace Faultline.Faults;

/// <summary>
/// A fault-capable domain's handler (<c>iopf_handler</c>). Returning true hands the group over:
/// the handler must later respond (R18) and free it (R19). Returning false aborts it (R15).
/// </summary>
public interface IFaultHandler
{
    /// <summary>Takes a group completed at <paramref name="now"/>: true hands it over (respond, R18; free, R19), false aborts it (R15).</summary>
    bool Handle(FaultGroup group, long now);
}

/// <summary>The IOMMU driver's <c>page_response</c> op: turns a response into a hardware command (R22).</summary>
public interface IPageResponder
{
    /// <summary>Sends <paramref name="response"/> for the group closed by <paramref name="lastFault"/> to the device (<c>ops->page_response</c>) at <paramref name="now"/>.</summary>
    void PageResponse(FaultDevice device, in Fault lastFault, in PageResponse response, long now);
}

/// <summary>
/// What is attached to a (device, PASID) (<c>iommu_attach_handle</c>, R28): a domain, fault-capable
/// iff it has a handler (R9 step 3).
/// </summary>
public sealed class FaultAttachment(string domain, IFaultHandler? handler)
{
    /// <summary>The attached domain's name.</summary>
    public string Domain { get; } = domain;
    /// <summary>The domain's fault handler (<c>domain->iopf_handler</c>); null if it is not fault-capable.</summary>
    public IFaultHandler? Handler { get; } = handler;

    /// <summary>A nested domain (a guest's stage 1 over a host stage 2): found for any PASID of a device
    /// whose PASID table the user manages (R9 step 1).</summary>
    public bool Nested { get; init; }
}
