using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Host;

/// <summary>What a device sends toward its IOMMU.</summary>
public enum DeviceMessageKind : byte
{
    /// <summary>A Page Request or a Stop Marker (PCIe PRI).</summary>
    PageRequest,
    /// <summary>An ATS Translation Request; the completion comes back as <see cref="HostActionKind.TranslationCompletion"/>.</summary>
    TranslationRequest,
    /// <summary>An ATS Invalidation Completion, posted behind the page requests sent before it (H-PCI-18).</summary>
    InvalidationCompletion,
    /// <summary>A platform master's memory transaction.</summary>
    Transaction,
}

/// <summary>
/// One message of a device on its way to the IOMMU, as a value: the host carries it (the simulator after a link
/// time, the runtime at once) and hands it to <see cref="HostKernel.Receive"/>. Only the payload its kind names is meaningful.
/// </summary>
public readonly struct DeviceMessage
{
    /// <summary>What the message is, and so which payload is meaningful.</summary>
    public DeviceMessageKind Kind { get; init; }
    /// <summary>The sender's <see cref="DevicePort.Id"/>.</summary>
    public int Device { get; init; }
    /// <summary>The Page Request or Stop Marker, for <see cref="DeviceMessageKind.PageRequest"/>.</summary>
    public PageRequest PageRequest { get; init; }
    /// <summary>The ATS Translation Request, for <see cref="DeviceMessageKind.TranslationRequest"/>.</summary>
    public TranslationRequest TranslationRequest { get; init; }
    /// <summary>The ATS Invalidation Completion, for <see cref="DeviceMessageKind.InvalidationCompletion"/>.</summary>
    public InvalidationCompletion InvalidationCompletion { get; init; }
    /// <summary>The platform master's transaction, for <see cref="DeviceMessageKind.Transaction"/>.</summary>
    public StallTransaction Transaction { get; init; }

    /// <summary>A Page Request or Stop Marker sent by <paramref name="from"/>.</summary>
    public static DeviceMessage Of(DevicePort from, in PageRequest request) => new() { Kind = DeviceMessageKind.PageRequest, Device = from.Id, PageRequest = request };
    /// <summary>An ATS Translation Request sent by <paramref name="from"/>.</summary>
    public static DeviceMessage Of(DevicePort from, in TranslationRequest request) => new() { Kind = DeviceMessageKind.TranslationRequest, Device = from.Id, TranslationRequest = request };
    /// <summary>An ATS Invalidation Completion sent by <paramref name="from"/>.</summary>
    public static DeviceMessage Of(DevicePort from, in InvalidationCompletion completion) => new() { Kind = DeviceMessageKind.InvalidationCompletion, Device = from.Id, InvalidationCompletion = completion };
    /// <summary>A memory transaction issued by the platform master <paramref name="from"/>.</summary>
    public static DeviceMessage Of(DevicePort from, in StallTransaction transaction) => new() { Kind = DeviceMessageKind.Transaction, Device = from.Id, Transaction = transaction };
}
