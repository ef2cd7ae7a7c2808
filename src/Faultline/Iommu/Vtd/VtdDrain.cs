using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Iommu.Vtd;

/// <summary>Where a <see cref="VtdDrain"/> stands (R33).</summary>
public enum VtdDrainStage
{
    /// <summary>The queue part shared by every IOMMU: scan, then flush (<see cref="QueueDrain"/>).</summary>
    Queue,
    /// <summary>Waiting for the final invalidation wait of the hardware drain (fence, PASID-IOTLB, device-TLB, wait with PD).</summary>
    Hardware,
    /// <summary>PRO was set after the hardware drain: waiting for the PRQ thread, then draining again.</summary>
    OverflowRetry,
    /// <summary>Hardened only: requests that landed during the hardware drain are handled before the PASID goes.</summary>
    LateRequests,
    /// <summary>Drained: nothing of the (device, PASID) is left to wait for, and the PASID may be reused.</summary>
    Done,
}

/// <summary>
/// Draining the page requests of one (device, PASID) before it is freed (R33,
/// <c>intel_iommu_drain_pasid_prq</c>; vtd.md §7): first the <see cref="QueueDrain"/> every IOMMU shares
/// (no descriptor of it left between PQH and PQT, then the fault queue flush), then the hardware step as
/// Linux submits it: a wait with fence, a PASID-selective IOTLB invalidation, a PASID device-TLB
/// invalidation of every address, and the trailing wait with status write and page-request drain that
/// <c>qi_submit_sync(QI_OPT_WAIT_DRAIN)</c> appends (open point 1, settled against the Linux source).
/// Under <c>linux</c> the drain ends there, leaving requests that arrived during the drain in the PRQ;
/// under <c>hardened</c> it waits until they are handled too, so nothing of the PASID is left anywhere
/// when it may be reused.
/// </summary>
public sealed class VtdDrain : IPasidDrain
{
    private readonly VtdDriver _driver;
    private readonly FaultFramework _framework;
    private readonly QueueDrain _queue;
    private long _batchesAtOverflow;
    private bool _waitCompleted;

    internal VtdDrain(VtdDriver driver, FaultFramework framework, FaultDevice device, RequesterId requester, uint pasid, ulong statusAddress, long now)
    {
        _driver = driver;
        _framework = framework;
        _queue = new QueueDrain(framework, device, driver.Queue, pasid, () => driver.RingHolds(requester, pasid));
        Device = device;
        Requester = requester;
        Pasid = pasid;
        StatusAddress = statusAddress;
        StartedAt = now;
    }

    /// <summary>The device whose page requests are drained.</summary>
    public FaultDevice Device { get; }
    /// <summary>The device's requester id: the RID of its PRQ descriptors and the SID of the drain's invalidations.</summary>
    public RequesterId Requester { get; }
    /// <summary>The PASID drained; 0 drains the RID's requests without a PASID (BUG-8).</summary>
    public uint Pasid { get; }
    /// <summary>The stage the drain is in.</summary>
    public VtdDrainStage Stage { get; private set; } = VtdDrainStage.Queue;
    /// <summary>The stage by name; during <see cref="VtdDrainStage.Queue"/>, the shared drain's stage (ScanRing, Flush).</summary>
    public string StageName => Stage == VtdDrainStage.Queue ? _queue.StageName : Stage.ToString();

    /// <summary>Where the final wait writes its status: the drain's own slot, as qi_submit_sync's desc_status.</summary>
    public ulong StatusAddress { get; }

    /// <summary>When the drain began.</summary>
    public long StartedAt { get; }
    /// <summary>When the framework flush began, or null before.</summary>
    public long? FlushStartedAt => _queue.FlushStartedAt;
    /// <summary>When the flush had nothing left of this (device, PASID) to wait for.</summary>
    public long? OwnGroupsDoneAt => _queue.OwnGroupsDoneAt;
    /// <summary>When the framework flush completed, or null.</summary>
    public long? FlushDoneAt => _queue.FlushDoneAt;
    /// <summary>When the drain finished, or null while it runs.</summary>
    public long? DoneAt { get; private set; }
    /// <summary>Hardware drains submitted: more than one when PRO was set afterwards (R33).</summary>
    public int HardwareRounds { get; private set; }
    /// <summary>Queued groups of the PASID answered INVALID before the flush (hardened).</summary>
    public int CancelledGroups => _queue.CancelledGroups;
    /// <inheritdoc />
    public int FlushedGroups => _queue.FlushedGroups;
    /// <inheritdoc />
    public long UnrelatedWaitNs => _queue.UnrelatedWaitNs;

    /// <inheritdoc />
    public bool IsDone => Stage == VtdDrainStage.Done;

    internal void OnWaitCompleted() => _waitCompleted = true;

    /// <summary>Moves the drain on as far as the world allows; true once it is done.</summary>
    public bool Advance(long now)
    {
        while (true)
        {
            switch (Stage)
            {
                case VtdDrainStage.Queue:
                    if (!_queue.Advance(now)) return false;
                    // R33: Linux has no hardware step for a device that no longer takes faults through this unit
                    // (intel_iommu_drain_pasid_prq returns at once); hardened drains its requests in flight all the same.
                    if (_queue.FlushDoneAt is null && _framework.Policy.LateRequests != LateRequestPolicy.Handle)
                    {
                        Stage = VtdDrainStage.Done;
                        break;
                    }
                    SubmitHardwareDrain();
                    Stage = VtdDrainStage.Hardware;
                    break;
                case VtdDrainStage.Hardware:
                    if (!_waitCompleted) return false;
                    if ((_driver.Iommu.Prs & VtdIommu.PrsOverflow) != 0)
                    {
                        // R33: requests may have been lost; wait for the PRQ thread, then drain again.
                        _batchesAtOverflow = _driver.Counters.Batches;
                        Stage = VtdDrainStage.OverflowRetry;
                        break;
                    }
                    Stage = _framework.Policy.LateRequests == LateRequestPolicy.Handle ? VtdDrainStage.LateRequests : VtdDrainStage.Done;
                    break;

                case VtdDrainStage.OverflowRetry:
                    if (_driver.Counters.Batches == _batchesAtOverflow) return false;
                    SubmitHardwareDrain();
                    Stage = VtdDrainStage.Hardware;
                    break;

                case VtdDrainStage.LateRequests:
                    if (_driver.RingHolds(Requester, Pasid) || Device.WorkPendingAt(Pasid) > 0) return false;
                    Stage = VtdDrainStage.Done;
                    break;

                default:
                    DoneAt ??= now;
                    return true;
            }
        }
    }

    private void SubmitHardwareDrain()
    {
        _waitCompleted = false;
        HardwareRounds++;
        _driver.SubmitDrainDescriptors(this);
    }
}
