using Faultline.Iommu.Amd;
using Faultline.Pcie;

namespace Faultline.Tests.Iommu.Amd;

/// <summary>
/// An <see cref="IAmdPlatform"/> that records what the AMD model does to the outside world. Queued
/// commands are decoded as submitted and, unless <see cref="ProcessCommands"/> is false, executed at once.
/// </summary>
internal sealed class RecordingAmdPlatform : IAmdPlatform
{
    public List<PrgResponse> Responses { get; } = [];
    public List<long> ScheduledWrites { get; } = [];
    public List<CompletePprRequestCommand> Commands { get; } = [];
    public int Interrupts { get; private set; }
    public bool ProcessCommands { get; set; } = true;

    /// <summary>Runs inside <see cref="RaisePprInterrupt"/>, to look at the model as the interrupt fires.</summary>
    public Action<AmdIommu>? OnInterrupt { get; set; }

    public void RaisePprInterrupt(AmdIommu iommu)
    {
        Interrupts++;
        OnInterrupt?.Invoke(iommu);
    }

    public void SchedulePprLogWrite(AmdIommu iommu, long due) => ScheduledWrites.Add(due);

    public void CommandQueued(AmdIommu iommu)
    {
        var buffer = iommu.CommandBuffer;
        var decoded = CompletePprRequestCommand.Decode(buffer.At(buffer.Producer - 1));
        if (decoded.IsOk) Commands.Add(decoded.Value);
        if (ProcessCommands) iommu.ProcessCommandBuffer();
    }

    public void SendPrgResponse(AmdIommu iommu, in PrgResponse response) => Responses.Add(response);
}
