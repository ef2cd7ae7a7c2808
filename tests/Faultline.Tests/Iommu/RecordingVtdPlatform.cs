using Faultline.Iommu.Vtd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu;

/// <summary>An <see cref="IVtdPlatform"/> that records what the VT-d model does to the outside world.</summary>
internal sealed class RecordingVtdPlatform : IVtdPlatform
{
    public List<PrgResponse> Responses { get; } = [];
    public int Events { get; private set; }
    public int InvalidationsQueued { get; private set; }

    /// <summary>Runs inside <see cref="RaisePageRequestEvent"/>, to look at the model as the event fires.</summary>
    public Action<VtdIommu>? OnEvent { get; set; }

    public void RaisePageRequestEvent(VtdIommu iommu)
    {
        Events++;
        OnEvent?.Invoke(iommu);
    }

    public void InvalidationQueued(VtdIommu iommu) => InvalidationsQueued++;

    public void SendPrgResponse(VtdIommu iommu, in PrgResponse response) => Responses.Add(response);

    public List<InvalidateRequest> InvalidateRequests { get; } = [];
    public List<InvalidationWaitDescriptor> CompletedWaits { get; } = [];

    public void SendInvalidateRequest(VtdIommu iommu, in InvalidateRequest request) => InvalidateRequests.Add(request);

    /// <summary>Runs inside <see cref="InvalidationWaitCompleted"/>, to look at the model as the status write lands.</summary>
    public Action<VtdIommu, InvalidationWaitDescriptor>? OnWaitCompleted { get; set; }

    public void InvalidationWaitCompleted(VtdIommu iommu, in InvalidationWaitDescriptor wait)
    {
        CompletedWaits.Add(wait);
        OnWaitCompleted?.Invoke(iommu, wait);
    }
}
