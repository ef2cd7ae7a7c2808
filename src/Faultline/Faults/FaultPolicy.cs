namespace Faultline.Faults;

/// <summary>POL-1: a request for a (device, PASID) that has no fault-capable handler.</summary>
public enum NoHandlerPolicy
{
    /// <summary>R10: answer INVALID at once, even a request that is not last in its group.</summary>
    AnswerEveryRequest,
    /// <summary>Drop non-last requests (counted); answer INVALID once, on the last.</summary>
    AnswerLastOnly,
    /// <summary>
    /// BUG-5 (v6.9–v6.10, the void report): a request for a device without fault state is answered by nothing, so
    /// the function waits for ever; with fault state but no handler the last request is aborted with FAILURE (R15).
    /// </summary>
    VoidReport,
}

/// <summary>POL-2: what joins partial requests into a group.</summary>
public enum GroupKeyPolicy
{
    /// <summary>R14: the PRG index only; two PASIDs using the same index merge.</summary>
    PrgIndexOnly,
    /// <summary>(PASID present, PASID, PRG index).</summary>
    PasidAndPrgIndex,
}

/// <summary>POL-3: what the framework answers when it cannot allocate a group, or a handler refuses one.</summary>
public enum AbortPolicy
{
    /// <summary>R15: FAILURE, which stops PRI on the function until reset.</summary>
    Failure,
    /// <summary>Never FAILURE on the framework's own account: SUCCESS (retry, counted as a deferral)
    /// for an allocation failure, INVALID for a handler that refuses the group (F7).</summary>
    Defer,
}

/// <summary>POL-4: how many partial requests the framework holds for one device.</summary>
public enum PartialLimitPolicy
{
    /// <summary>Unbounded until a hardware queue overflow (R24) or removal (R4); F2: memory DoS.</summary>
    Unbounded,
    /// <summary>At most the function's PRI allocation as the host gives it to <c>AddDevice</c>, else
    /// <see cref="FaultPolicy.DefaultPartialLimit"/>; past it the oldest incomplete group is dropped whole, counted.</summary>
    PriAllocation,
}

/// <summary>POL-8: what a flush of one (device, PASID) waits for.</summary>
public enum FlushScopePolicy
{
    /// <summary>R23 (<c>flush_workqueue</c>): the work of every group pending on the device's whole queue, all devices and PASIDs (F5).</summary>
    Queue,
    /// <summary>Only the work of that (device, PASID).</summary>
    DevicePasid,
}

/// <summary>POL-10: partial requests of a PASID whose attachment is detached.</summary>
public enum DetachedPartialsPolicy
{
    /// <summary>They linger until overflow (R24) or removal (R4), and join a later group that reuses the key (F4).</summary>
    Linger,
    /// <summary>Purged at detach, counted: their group can never complete now.</summary>
    Purge,
}

/// <summary>POL-7: a response for a group that is unknown or already answered.</summary>
public enum StaleResponsePolicy
{
    /// <summary>R20: dropped silently; the responder learns nothing.</summary>
    DropSilently,
    /// <summary>Rejected with a status the responder sees (Unknown / AlreadyAnswered), counted.</summary>
    Reject,
}

/// <summary>POL-11: the response code a driver puts on the wire.</summary>
public enum WireCodePolicy
{
    /// <summary>The enum value as is: the Intel driver sends FAILURE as 0010b, a reserved PCIe code (§1.2 OBS).</summary>
    EnumVerbatim,
    /// <summary>Mapped per transport: PCIe 0 / 1 / 0xF.</summary>
    PerTransport,
}

/// <summary>H-VTD-9: private data of a request in the page group response.</summary>
public enum PrivateDataPolicy
{
    /// <summary>Mainline Linux since v6.10 (621b7e54f288): the response's QW2/QW3 are zero and PDP is clear.</summary>
    Drop,
    /// <summary>VT-d §7.7 as cited by Linux commit 1d421058, and Linux v6.6–v6.9: echo the request's private data unchanged.</summary>
    Echo,
}

/// <summary>
/// Page requests of a PASID that reach the page request queue during its hardware drain (vtd.md §7
/// step 3: the drain only guarantees they are queued).
/// </summary>
public enum LateRequestPolicy
{
    /// <summary>R33 as upstream: the drain returns once they are queued; they are handled later, possibly
    /// after the PASID was freed and reused.</summary>
    LeaveQueued,
    /// <summary>The drain also waits until they are handled and answered, so nothing of the PASID is left.</summary>
    Handle,
}

/// <summary>Work queued for a (device, PASID) being torn down, not yet started by a worker.</summary>
public enum QueuedWorkAtTeardownPolicy
{
    /// <summary>R23: the flush waits for it to run, however long the queue ahead of it (F5).</summary>
    Run,
    /// <summary>Answered INVALID at once and freed: the function stopped the PASID (its responses are
    /// discarded after a Stop Marker) or the process is exiting (R27 would answer INVALID anyway).</summary>
    Cancel,
}

/// <summary>What <c>remove_device</c> does with groups still pending.</summary>
public enum RemovePendingPolicy
{
    /// <summary>R4 (v6.9–v6.18, with the BUG-1 fix from v6.14): answer each INVALID, free it, remove the device.</summary>
    AnswerInvalid,
    /// <summary>R5 HIST (v5.13–v6.8): refuse with -EBUSY; the caller must flush and retry.</summary>
    RefuseBusy,
}

/// <summary>How many groups a userspace fault queue holds (POL-6).</summary>
public enum UserQueueDepthPolicy
{
    /// <summary>R42: the deliver list has no limit.</summary>
    Unbounded,
    /// <summary>At most the sum of the PRI allocations of the devices attached; past it SUCCESS (retry), counted as lost.</summary>
    PriAllocations,
}

/// <summary>What the <c>flags</c> of a userspace fault record carry (R49, F11).</summary>
public enum RecordFlagsPolicy
{
    /// <summary>R49 as Linux: the kernel's <c>prm.flags</c> verbatim, bits 0–2, so the internal NEEDS_PASID (bit 2) leaks.</summary>
    Verbatim,
    /// <summary>F11: only the bits the uAPI defines (PASID_VALID, LAST_PAGE).</summary>
    DefinedOnly,
}

/// <summary>Which cookie a userspace fault queue hands out next (R46, R50; POL-7).</summary>
public enum CookiePolicy
{
    /// <summary>R46: the lowest free id, so an answered cookie names the next group at once and a duplicate
    /// or stale response can answer a group its sender never read.</summary>
    LowestFree,
    /// <summary>Cyclic: a cookie comes back only after 2^32 − 1 others, so a stale one is recognised and rejected.</summary>
    Cyclic,
}

/// <summary>POL-12: the share of an SMMU's STALL_MAX one owner may hold at once.</summary>
public enum StallBudgetPolicy
{
    /// <summary>Linux: no limit; one slow owner can fill the stall buffer and stall every master behind it (H-SMMU-9).</summary>
    Unlimited,
    /// <summary>Half of STALL_MAX (at least 1); past it the owner's new faults are terminated instead of stalled. An owner whose
    /// faults are slow (they wait for I/O) holds no stall: its faults are terminated and resolved in the background, and its master retries.</summary>
    HalfOfStallMax,
}

/// <summary>
/// The host policy (policies.md): <see cref="Linux"/> reproduces upstream rule for rule,
/// <see cref="Hardened"/> (the default) removes its weak points. Each switch can be flipped alone.
/// </summary>
public sealed record FaultPolicy
{
    /// <summary>The policy's name: <c>linux</c>, <c>hardened</c>, or one a scenario gives.</summary>
    public required string Name { get; init; }
    /// <summary>POL-1: a request for a (device, PASID) with no fault-capable handler.</summary>
    public required NoHandlerPolicy NoHandler { get; init; }
    /// <summary>POL-2: what joins partial requests into a group.</summary>
    public required GroupKeyPolicy GroupKey { get; init; }
    /// <summary>POL-3: the answer when a group cannot be allocated or its handler refuses it.</summary>
    public required AbortPolicy Abort { get; init; }
    /// <summary>POL-7: a response for a group unknown or already answered.</summary>
    public required StaleResponsePolicy StaleResponse { get; init; }
    /// <summary>POL-11: the response code a driver puts on the wire.</summary>
    public required WireCodePolicy WireCodes { get; init; }
    /// <summary>H-VTD-9: whether a page group response echoes the request's private data.</summary>
    public required PrivateDataPolicy PrivateData { get; init; }
    /// <summary>POL-4: how many partial requests the framework holds for one device.</summary>
    public required PartialLimitPolicy PartialLimit { get; init; }
    /// <summary>POL-8: what a flush of one (device, PASID) waits for.</summary>
    public required FlushScopePolicy FlushScope { get; init; }
    /// <summary>POL-10: partial requests of a PASID whose attachment is detached.</summary>
    public required DetachedPartialsPolicy DetachedPartials { get; init; }
    /// <summary>R33: page requests of a PASID that reach the queue during its drain.</summary>
    public required LateRequestPolicy LateRequests { get; init; }
    /// <summary>Work queued for a (device, PASID) being torn down: run it, or cancel it.</summary>
    public required QueuedWorkAtTeardownPolicy QueuedWorkAtTeardown { get; init; }

    /// <summary>POL-5: a group its userspace handler has not answered this long after delivery is answered
    /// INVALID and a later response is rejected as expired. Null: held forever (Linux).</summary>
    public long? ResponseDeadlineNs { get; init; }

    /// <summary>POL-6.</summary>
    public UserQueueDepthPolicy UserQueueDepth { get; init; }

    /// <summary>R49 / F11.</summary>
    public RecordFlagsPolicy UserRecordFlags { get; init; }

    /// <summary>POL-7 for cookies.</summary>
    public CookiePolicy Cookies { get; init; }

    /// <summary>POL-9: a PRI reset of a guest-owned function when its domain changes, so credits a guest held come back.</summary>
    public bool PriResetOnDomainChange { get; init; }

    /// <summary>
    /// H-PCI-20: a Stop Marker that an IOMMU logs like a page request (AMD's PPR log) is consumed by the driver,
    /// never reported. VT-d's driver (R31) and the SMMUv3 PRI series drop them under either preset.
    /// </summary>
    public bool DropStopMarkers { get; init; }

    /// <summary>
    /// POL-13: a PASID stop (H-PCI-19) that waits while the host holds nothing of the function — only a credit the
    /// function keeps (H-PCI-21) can hold it — ends in a PRI reset of the function instead of a teardown that hangs.
    /// </summary>
    public bool PriResetOnStuckStop { get; init; }

    /// <summary>
    /// POL-14: after an IOMMU lost page requests that nothing will answer (AMD's PPR log overflow, H-AMD-2), each
    /// function behind it has its PRI reset once the host holds nothing of it, so the lost requests' credits return.
    /// </summary>
    public bool PriResetAfterLostRequests { get; init; }

    /// <summary>POL-12: how many stalls of a shared stall buffer one owner (a guest, a userspace driver) may hold.</summary>
    public StallBudgetPolicy StallBudget { get; init; }

    /// <summary>
    /// The Linux release whose behaviour the release-dependent switches below follow (<see cref="LinuxAt"/>);
    /// <see cref="KernelRelease.Newest"/> for both presets.
    /// </summary>
    public KernelRelease Kernel { get; init; } = KernelRelease.Newest;

    /// <summary>R5 HIST: <see cref="RemovePendingPolicy.RefuseBusy"/> before v6.9; both presets use the current one (R4).</summary>
    public RemovePendingPolicy RemovePending { get; init; } = RemovePendingPolicy.AnswerInvalid;

    /// <summary>
    /// R22, H-VTD-10: a VT-d page group response copies the request's LPIG into QW1 bit 2, as
    /// <c>intel_iommu_page_response()</c> did up to v6.17; v6.18 leaves the bit (reserved since VT-d 4.0) zero.
    /// </summary>
    public bool VtdResponseLpig { get; init; }

    /// <summary>
    /// H-VTD-14, BUG-16: VT-d enables IOPF only on a unit with page-drain support (ECAP.PDS), as
    /// <c>intel_iommu_probe_device()</c> does from v6.18. Off (v6.6–v6.17): IOPF is enabled anyway and the PASID
    /// drain sets PD in its trailing wait, a reserved bit there, so the hardware rejects it and the drain never ends.
    /// </summary>
    public bool VtdIopfNeedsPageDrain { get; init; } = true;

    /// <summary>
    /// R36: the SMMUv3 event thread reports stage-2 stall events to the fault framework like stage-1 ones, as
    /// <c>arm_smmu_handle_event()</c> does from v6.12; before, they are printed and not reported.
    /// </summary>
    public bool ReportStage2Stalls { get; init; }

    /// <summary>
    /// R41, BUG-14: iommufd refuses a fault-capable HWPT on every virtual function (-EINVAL), as
    /// <c>iommufd_fault_iopf_enable()</c> did in v6.11–v6.12; later releases refuse only a VF whose PF has PRI.
    /// </summary>
    public bool RefuseEveryVf { get; init; }

    /// <summary>
    /// R4, BUG-1: <c>iopf_queue_remove_device()</c> frees each pending group after answering it, as v6.14 does. Off
    /// (v6.9–v6.13): it answers and unlinks them but never frees them, so a group no handler frees later leaks (R19).
    /// </summary>
    public bool RemoveDeviceFreesGroups { get; init; } = true;

    /// <summary>
    /// H-VTD-12, R31: the VT-d page request thread treats a request without a PASID as bad ("Page request without
    /// PASID"), as <c>prq_event_thread()</c> did up to v6.12; from v6.13 it is reported at the RID.
    /// </summary>
    public bool VtdPasidlessRequestsAreBad { get; init; }

    /// <summary>
    /// POL-4 under <see cref="PartialLimitPolicy.PriAllocation"/>: the bound for a device added without
    /// one. 2048 is the largest PRI allocation Linux VT-d grants (min(Capacity, PRQ depth), numbers.md),
    /// so no well-behaved function reaches it.
    /// </summary>
    public int DefaultPartialLimit { get; init; } = 2048;

    /// <summary>The <c>linux</c> preset: upstream behaviour, rule for rule, as of <see cref="KernelRelease.Newest"/> (<see cref="LinuxAt"/>).</summary>
    public static FaultPolicy Linux { get; } = new()
    {
        Name = "linux",
        NoHandler = NoHandlerPolicy.AnswerEveryRequest,
        GroupKey = GroupKeyPolicy.PrgIndexOnly,
        Abort = AbortPolicy.Failure,
        StaleResponse = StaleResponsePolicy.DropSilently,
        WireCodes = WireCodePolicy.EnumVerbatim,
        PrivateData = PrivateDataPolicy.Drop,
        PartialLimit = PartialLimitPolicy.Unbounded,
        FlushScope = FlushScopePolicy.Queue,
        DetachedPartials = DetachedPartialsPolicy.Linger,
        LateRequests = LateRequestPolicy.LeaveQueued,
        QueuedWorkAtTeardown = QueuedWorkAtTeardownPolicy.Run,
        ResponseDeadlineNs = null,
        UserQueueDepth = UserQueueDepthPolicy.Unbounded,
        UserRecordFlags = RecordFlagsPolicy.Verbatim,
        Cookies = CookiePolicy.LowestFree,
        PriResetOnDomainChange = false,
        DropStopMarkers = false,
        PriResetOnStuckStop = false,
        PriResetAfterLostRequests = false,
        StallBudget = StallBudgetPolicy.Unlimited,
        ReportStage2Stalls = true,
    };

    /// <summary>
    /// The <c>linux</c> preset pinned to <paramref name="release"/>: <see cref="Linux"/> with each release-dependent
    /// switch set as that release behaves (docs/policies.md, "Kernel releases"). Named <c>linux@6.12</c>; for the
    /// newest release it equals <see cref="Linux"/>, name included.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The release is not modelled (<see cref="KernelRelease.IsModelled"/>).</exception>
    public static FaultPolicy LinuxAt(KernelRelease release)
    {
        if (!release.IsModelled)
            throw new ArgumentOutOfRangeException(nameof(release), $"{release} is not modelled; Faultline models {KernelRelease.Oldest} to {KernelRelease.Newest}");
        return Linux with
        {
            Name = release == KernelRelease.Newest ? Linux.Name : $"linux@{release.Major}.{release.Minor}",
            Kernel = release,
            // R10 from the BUG-5 fix (v6.11-rc5); BUG-5 in v6.9–v6.10; before v6.9 the framework returned an error
            // and the driver answered the last request itself (R17, VT-d handle_bad_prq_event()).
            NoHandler = release >= new KernelRelease(6, 11) ? NoHandlerPolicy.AnswerEveryRequest
                : release >= new KernelRelease(6, 9) ? NoHandlerPolicy.VoidReport
                : NoHandlerPolicy.AnswerLastOnly,
            RemovePending = release >= new KernelRelease(6, 9) ? RemovePendingPolicy.AnswerInvalid : RemovePendingPolicy.RefuseBusy, // R4 / R5
            VtdResponseLpig = release < new KernelRelease(6, 18), // R22, H-VTD-10: 4402e8f39d0b
            VtdIopfNeedsPageDrain = release >= new KernelRelease(6, 18), // H-VTD-14, BUG-16: 5ef7e24c7420
            ReportStage2Stalls = release >= new KernelRelease(6, 12), // R36: "Report stalled S2 events"
            PrivateData = release >= new KernelRelease(6, 10) ? PrivateDataPolicy.Drop : PrivateDataPolicy.Echo, // H-VTD-9: 621b7e54f288
            VtdPasidlessRequestsAreBad = release < new KernelRelease(6, 13), // H-VTD-12: 9f831c16c69e
            RefuseEveryVf = release < new KernelRelease(6, 13), // R41, BUG-14: narrowed to VFs with PRI in late 2024
            // R4, BUG-1: brought by v6.9's answering removal, fixed by 9759ae2cee7c (v6.14-rc3).
            RemoveDeviceFreesGroups = release < new KernelRelease(6, 9) || release >= new KernelRelease(6, 14),
        };
    }

    /// <summary>The <c>hardened</c> preset, the default: Linux with its weak points fixed.</summary>
    public static FaultPolicy Hardened { get; } = new()
    {
        Name = "hardened",
        NoHandler = NoHandlerPolicy.AnswerLastOnly,
        GroupKey = GroupKeyPolicy.PasidAndPrgIndex,
        Abort = AbortPolicy.Defer,
        StaleResponse = StaleResponsePolicy.Reject,
        WireCodes = WireCodePolicy.PerTransport,
        PrivateData = PrivateDataPolicy.Echo,
        PartialLimit = PartialLimitPolicy.PriAllocation,
        FlushScope = FlushScopePolicy.DevicePasid,
        DetachedPartials = DetachedPartialsPolicy.Purge,
        LateRequests = LateRequestPolicy.Handle,
        QueuedWorkAtTeardown = QueuedWorkAtTeardownPolicy.Cancel,
        ResponseDeadlineNs = 1_000_000_000, // policies.md POL-5 default: 1 s of virtual time
        UserQueueDepth = UserQueueDepthPolicy.PriAllocations,
        UserRecordFlags = RecordFlagsPolicy.DefinedOnly,
        Cookies = CookiePolicy.Cyclic,
        PriResetOnDomainChange = true,
        DropStopMarkers = true,
        PriResetOnStuckStop = true,
        PriResetAfterLostRequests = true,
        StallBudget = StallBudgetPolicy.HalfOfStallMax,
        ReportStage2Stalls = true, // v6.18 (R36): a stage-2 stall printed and never resumed would hold its master for ever
    };

    /// <summary>
    /// The preset named <paramref name="name"/>: <c>linux</c>, <c>hardened</c>, or <c>linux@6.12</c> (<c>linux@v6.12</c>)
    /// for <see cref="LinuxAt"/> a modelled release; null for any other name.
    /// </summary>
    public static FaultPolicy? ByName(string name) => name switch
    {
        "linux" => Linux,
        "hardened" => Hardened,
        _ when name.StartsWith("linux@", StringComparison.Ordinal)
            && KernelRelease.Parse(name["linux@".Length..]) is { IsModelled: true } release => LinuxAt(release),
        _ => null,
    };
}
