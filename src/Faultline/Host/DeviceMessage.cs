using System.Runtime.InteropServices;
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
    /// <summary>
    /// The function's word that it stopped using a PASID (H-PCI-19), as its driver reads it: a completion, which may
    /// not pass the page requests and Stop Marker posted before it (PCIe ordering), so it reaches the host behind them.
    /// </summary>
    PasidStopped,
}

/// <summary>
/// One message of a device on its way to the IOMMU, as a value: the host carries it (the simulator after a link
/// time, the runtime at once) and hands it to <see cref="HostKernel.Receive"/>. Only the payload its kind names is
/// meaningful: the payloads share their bytes.
/// </summary>
[StructLayout(LayoutKind.Explicit)]
public readonly struct DeviceMessage
{
    private const int Payload = 8;

    [FieldOffset(0)] private readonly int _device;
    [FieldOffset(4)] private readonly DeviceMessageKind _kind;
    [FieldOffset(Payload)] private readonly PageRequest _pageRequest;
    [FieldOffset(Payload)] private readonly TranslationRequest _translationRequest;
    [FieldOffset(Payload)] private readonly InvalidationCompletion _invalidationCompletion;
    [FieldOffset(Payload)] private readonly StallTransaction _transaction;
    [FieldOffset(Payload)] private readonly Pasid _stoppedPasid;

    /// <summary>What the message is.</summary>
    public DeviceMessageKind Kind { get => _kind; init => _kind = value; }
    /// <summary>The sender's <see cref="DevicePort.Id"/>.</summary>
    public int Device { get => _device; init => _device = value; }
    /// <summary>The Page Request or Stop Marker, for <see cref="DeviceMessageKind.PageRequest"/>.</summary>
    public PageRequest PageRequest { get => _pageRequest; init => _pageRequest = value; }
    /// <summary>The ATS Translation Request, for <see cref="DeviceMessageKind.TranslationRequest"/>.</summary>
    public TranslationRequest TranslationRequest { get => _translationRequest; init => _translationRequest = value; }
    /// <summary>The ATS Invalidation Completion, for <see cref="DeviceMessageKind.InvalidationCompletion"/>.</summary>
    public InvalidationCompletion InvalidationCompletion { get => _invalidationCompletion; init => _invalidationCompletion = value; }
    /// <summary>The master's transaction, for <see cref="DeviceMessageKind.Transaction"/>.</summary>
    public StallTransaction Transaction { get => _transaction; init => _transaction = value; }
    /// <summary>The PASID the function stopped using, for <see cref="DeviceMessageKind.PasidStopped"/>.</summary>
    public Pasid StoppedPasid { get => _stoppedPasid; init => _stoppedPasid = value; }

    /// <summary>A Page Request or Stop Marker from <paramref name="from"/>.</summary>
    public static DeviceMessage Of(DevicePort from, in PageRequest request) => new() { Kind = DeviceMessageKind.PageRequest, Device = from.Id, PageRequest = request };
    /// <summary>An ATS Translation Request sent by <paramref name="from"/>.</summary>
    /// <summary>An ATS Translation Request from <paramref name="from"/>.</summary>
    public static DeviceMessage Of(DevicePort from, in TranslationRequest request) => new() { Kind = DeviceMessageKind.TranslationRequest, Device = from.Id, TranslationRequest = request };
    /// <summary>An ATS Invalidation Completion sent by <paramref name="from"/>.</summary>
    /// <summary>An ATS Invalidation Completion from <paramref name="from"/>.</summary>
    public static DeviceMessage Of(DevicePort from, in InvalidationCompletion completion) => new() { Kind = DeviceMessageKind.InvalidationCompletion, Device = from.Id, InvalidationCompletion = completion };
    /// <summary>A memory transaction issued by the platform master <paramref name="from"/>.</summary>
    /// <summary>A transaction of the master <paramref name="from"/>.</summary>
    public static DeviceMessage Of(DevicePort from, in StallTransaction transaction) => new() { Kind = DeviceMessageKind.Transaction, Device = from.Id, Transaction = transaction };
    /// <summary>The function <paramref name="from"/> stopped using <paramref name="pasid"/>.</summary>
    public static DeviceMessage Stopped(DevicePort from, Pasid pasid) => new() { Kind = DeviceMessageKind.PasidStopped, Device = from.Id, StoppedPasid = pasid };
}
