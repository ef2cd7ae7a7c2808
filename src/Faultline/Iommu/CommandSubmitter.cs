namespace Faultline.Iommu;

/// <summary>
/// Software's side of an IOMMU command queue (VT-d invalidation queue, SMMUv3 CMDQ, AMD command
/// buffer): when the queue is full the submitter waits, as the Linux drivers spin
/// (<c>qi_submit_sync</c>, <c>arm_smmu_cmdq_issue_cmdlist</c>, <c>iommu_queue_command_sync</c>), so a
/// command is kept, in order behind any already waiting, until <see cref="Retry"/> finds room.
/// Steady state (room in the queue) copies nothing.
/// </summary>
public sealed class CommandSubmitter(CommandSubmitter.Queue submit)
{
    /// <summary>Writes one command at the queue's tail; false when the queue is full.</summary>
    public delegate bool Queue(ReadOnlySpan<byte> command);

    private readonly Queue<byte[]> _waiting = new();

    /// <summary>Commands waiting for room.</summary>
    public int Waiting => _waiting.Count;

    /// <summary>Submits the command, or keeps it behind those waiting; true when it has to wait.</summary>
    public bool Submit(ReadOnlySpan<byte> command)
    {
        if (_waiting.Count == 0 && submit(command)) return false;
        _waiting.Enqueue(command.ToArray());
        return true;
    }

    /// <summary>Submits what waited, in order, while there is room; the host calls it when the hardware has consumed some.</summary>
    public void Retry()
    {
        while (_waiting.TryPeek(out var command) && submit(command)) _waiting.Dequeue();
    }
}
