using Faultline.Faults;

namespace Faultline.Host;

/// <summary>
/// What the IOMMU drivers print while they run: the kernel's tracepoints and log lines, each at the time of the
/// input the kernel is handling. A host that writes an ftrace capture sets <see cref="HostKernel.DriverTrace"/>;
/// nothing of the fault path depends on it.
/// </summary>
public interface IDriverTrace
{
    /// <summary>
    /// <c>intel_iommu:prq_report</c>: the VT-d driver reported a page request descriptor (its 32 bytes) of
    /// <paramref name="device"/> to the framework; <paramref name="sequence"/> is the IOMMU's <c>prq_seq_number</c>.
    /// </summary>
    void PageRequestReported(IommuUnit unit, string device, long sequence, ReadOnlySpan<byte> descriptor, long now);

    /// <summary><c>intel_iommu:qi_submit</c>: the VT-d driver wrote a descriptor (its 16 or 32 bytes) to the invalidation queue.</summary>
    void InvalidationSubmitted(IommuUnit unit, ReadOnlySpan<byte> descriptor, long now);

    /// <summary>
    /// A driver without a page-request tracepoint upstream (SMMUv3, AMD) reported a fault of <paramref name="device"/>
    /// to the framework: the proposed, never merged <c>iommu:dev_fault</c>. <paramref name="stall"/>: a stalled
    /// transaction of a platform master (its group id is the stall tag), not a PCIe page request.
    /// </summary>
    void FaultReported(IommuUnit unit, string device, in Fault fault, bool stall, long now);

    /// <summary>Such a driver sent a response for a group of <paramref name="device"/>: the proposed <c>iommu:dev_page_response</c>.</summary>
    void PageResponseSent(IommuUnit unit, string device, in PageResponse response, long now);

    /// <summary>
    /// A kernel log line of the unit's driver, without the driver's prefix; with no unit, a line of the host kernel
    /// that upstream does not print (a hardened policy's step, such as POL-9's PRI reset).
    /// </summary>
    void Log(IommuUnit? unit, string line, long now);
}
