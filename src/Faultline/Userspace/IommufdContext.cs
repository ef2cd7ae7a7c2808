using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Userspace;

/// <summary>
/// An iommufd context (<c>struct iommufd_ctx</c>, the open <c>/dev/iommu</c>), sans-IO: its object table and the
/// commands that change it, each returning the errno the ioctl would (None for success) and its out ids.
/// <list type="bullet">
/// <item>Ids: lowest free in 1…2^31−1 (<c>xa_alloc</c>, <c>xa_limit_31b</c>), so in allocation order and
/// reused once freed; an object becomes visible only when its command succeeds (finalize), and a failed
/// command gives its id back (abort).</item>
/// <item>References (framework.md §1.4): an object some other object or attachment holds cannot be destroyed
/// (EBUSY); every command puts the lookup references it took, once — <see cref="IommufdObject.ShortTermUsers"/>
/// is 0 between commands.</item>
/// <item><see cref="FailNth"/>: the n-th failable step of the coming commands fails, as the kernel's fail-nth
/// fault injection: object and domain allocations (ENOMEM), attach-handle allocations (ENOMEM) and the copy of a
/// command's result to user space (EFAULT).</item>
/// </list>
/// Faults reach a fault-capable HWPT's queue through the framework's routing (R9): the context installs the
/// attach handles (<see cref="FaultDevice.Attach"/>); adding the device to a fault queue stays the IOMMU
/// driver's part.
/// </summary>
public sealed class IommufdContext
{
    /// <summary>The highest object id (<c>xa_limit_31b</c>).</summary>
    public const uint MaxId = int.MaxValue;

    private const HwptAllocFlags PagingFlags =
        HwptAllocFlags.NestParent | HwptAllocFlags.DirtyTracking | HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid;
    private const HwptAllocFlags NestedFlags = HwptAllocFlags.FaultIdValid | HwptAllocFlags.Pasid;

    private readonly SortedDictionary<uint, IommufdObject> _objects = new();
    private readonly SortedSet<uint> _freeIds = [];
    private uint _nextId = 1;
    private int _failNth;

    /// <summary>A context on <paramref name="framework"/>.</summary>
    public IommufdContext(FaultFramework framework)
    {
        ArgumentNullException.ThrowIfNull(framework);
        Framework = framework;
    }

    /// <summary>The fault framework whose devices the context attaches and whose routing reaches its fault queues (R9).</summary>
    public FaultFramework Framework { get; }

    /// <summary>
    /// A (device, PASID) left a fault-capable HWPT — detach, or a successful replace away from it — after its
    /// groups were answered (R43). The host's place for POL-9: a user- or guest-owned function changed domain,
    /// so it may reset the function's PRI once nothing of it is in flight. Arguments: dev_id, PASID, groups answered.
    /// </summary>
    public Action<uint, uint, int>? FaultCapableDomainLeft { get; set; }

    /// <summary>Ids of the visible objects, ascending.</summary>
    public uint[] Ids() => [.. _objects.Keys];

    /// <summary>The visible object with <paramref name="id"/>, or null.</summary>
    public IommufdObject? Find(uint id) => _objects.GetValueOrDefault(id);
    /// <summary>The bound device with <paramref name="id"/>, or null if there is none or it is another type.</summary>
    public IommufdDevice? FindDevice(uint id) => Find(id) as IommufdDevice;
    /// <summary>The HWPT with <paramref name="id"/>, or null if there is none or it is another type.</summary>
    public Hwpt? FindHwpt(uint id) => Find(id) as Hwpt;

    /// <summary>The queue (and file) of FAULT object <paramref name="faultId"/>, or null.</summary>
    public UserFaultQueue? QueueOf(uint faultId) => (Find(faultId) as IommufdFault)?.Queue;

    /// <summary>The HWPT (device <paramref name="devId"/>, <paramref name="pasid"/>) is attached to, or null.</summary>
    public uint? AttachedHwpt(uint devId, uint pasid) => FindDevice(devId)?.AttachmentAt(pasid)?.Hwpt.Id;

    // ---- Fault injection ----------------------------------------------------------------------------

    /// <summary>The <paramref name="n"/>-th failable step from now fails (1 = the next); 0 cancels.</summary>
    public void FailNth(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        _failNth = n;
    }

    /// <summary>True while an injected failure has not been reached.</summary>
    public bool FailNthPending => _failNth > 0;

    private bool StepFails() => _failNth > 0 && --_failNth == 0;

    // ---- Allocation commands --------------------------------------------------------------------------

    /// <summary><c>IOMMU_IOAS_ALLOC</c>.</summary>
    public FaultQueueErrno AllocIoas(out uint ioasId)
    {
        ioasId = 0;
        var rc = ReserveId(out uint id);
        if (rc != FaultQueueErrno.None) return rc;
        return Finalize(new Ioas(id), out ioasId);
    }

    /// <summary>
    /// <c>iommufd_device_bind</c>: a VFIO driver hands <paramref name="device"/> (its framework side) and
    /// <paramref name="function"/> (its config space) to the context. The driver's reference keeps it until
    /// <see cref="Unbind"/>.
    /// </summary>
    public FaultQueueErrno BindDevice(FaultDevice device, IPciConfigSpace function, out uint devId)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(function);
        devId = 0;
        var rc = ReserveId(out uint id);
        if (rc != FaultQueueErrno.None) return rc;
        _objects.Add(id, new IommufdDevice(id, device, function));
        devId = id;
        return FaultQueueErrno.None;
    }

    /// <summary><c>iommufd_device_unbind</c>: EBUSY while the device is attached or has a vDEVICE.</summary>
    public FaultQueueErrno Unbind(uint devId)
    {
        if (FindDevice(devId) is not { } idev) return FaultQueueErrno.ENOENT;
        if (idev.Attachments.Count > 0 || idev.Vdevice is not null || idev.ShortTermUsers > 0) return FaultQueueErrno.EBUSY;
        idev.HeldBy--;
        Remove(idev);
        return FaultQueueErrno.None;
    }

    /// <summary>
    /// <c>IOMMU_FAULT_QUEUE_ALLOC</c> (R39): <paramref name="flags"/> ≠ 0 → EOPNOTSUPP; else a FAULT object whose
    /// file is open (<see cref="QueueOf"/>). Close the file with <see cref="UserFaultQueue.Close"/>.
    /// </summary>
    public FaultQueueErrno AllocFaultQueue(uint flags, out uint faultId)
    {
        faultId = 0;
        if (flags != 0) return FaultQueueErrno.EOPNOTSUPP;
        var rc = ReserveId(out uint id);
        if (rc != FaultQueueErrno.None) return rc;
        UserFaultQueue.Allocate(Framework, flags, id, out var queue);
        return Finalize(new IommufdFault(queue!), out faultId);
    }

    /// <summary>
    /// <c>IOMMU_HWPT_ALLOC</c> for device <paramref name="devId"/> on <paramref name="ptId"/>, in Linux's order:
    /// <list type="bullet">
    /// <item>device unknown → ENOENT; <paramref name="ptId"/> unknown → EINVAL (Linux maps that lookup to EINVAL).</item>
    /// <item>on an IOAS, a paging HWPT: flags outside bits 0–3, or NEST_PARENT with FAULT_ID_VALID → EOPNOTSUPP (R40).</item>
    /// <item>on a paging HWPT, a nested one: flags other than FAULT_ID_VALID and PASID → EOPNOTSUPP; a parent
    /// that is an auto domain or not a nest parent → EINVAL.</item>
    /// <item>on a vIOMMU, a nested one: flags other than FAULT_ID_VALID and PASID → EOPNOTSUPP.</item>
    /// <item>anything else → EINVAL. Then the object and its domain are allocated (ENOMEM).</item>
    /// <item>FAULT_ID_VALID: <paramref name="faultId"/> not a FAULT object → ENOENT; else the HWPT takes its
    /// long-term reference and drops the lookup's (R40). A later failure (the copy of out_hwpt_id, EFAULT) aborts
    /// the HWPT, whose teardown drops that long-term reference — the only put (BUG-12).</item>
    /// </list>
    /// </summary>
    public FaultQueueErrno AllocHwpt(uint devId, uint ptId, HwptAllocFlags flags, uint faultId, out uint hwptId)
    {
        hwptId = 0;
        if (Get<IommufdDevice>(devId) is not { } idev) return FaultQueueErrno.ENOENT;
        var rc = FaultQueueErrno.EINVAL;
        Hwpt? hwpt = null;
        if (Get<IommufdObject>(ptId) is { } pt)
        {
            rc = pt switch
            {
                Ioas ioas => AllocPaging(ioas, flags, isAutoDomain: false, out hwpt),
                Hwpt { IsNested: false } parent => AllocNested(parent, null, flags, out hwpt),
                Viommu viommu => AllocNested(null, viommu, flags, out hwpt),
                _ => FaultQueueErrno.EINVAL,
            };
            Put(pt);
        }
        Put(idev);
        if (rc != FaultQueueErrno.None) return rc;

        if ((flags & HwptAllocFlags.FaultIdValid) != 0)
        {
            if (Get<IommufdFault>(faultId) is not { } fault)
            {
                Abort(hwpt!);
                return FaultQueueErrno.ENOENT;
            }
            // R40, BUG-12: the HWPT's own reference first, then the lookup's goes — here, and nowhere else.
            var taken = fault.Queue.AddHwptReference(); // ENOENT only if the queue was destroyed behind the context's back
            Put(fault);
            if (taken != FaultQueueErrno.None)
            {
                Abort(hwpt!);
                return taken;
            }
            hwpt!.Fault = fault;
        }
        return Finalize(hwpt!, out hwptId);
    }

    /// <summary>
    /// <c>IOMMU_VIOMMU_ALLOC</c> on the nest-parent HWPT <paramref name="hwptId"/> for device <paramref name="devId"/>'s
    /// IOMMU: device unknown or <paramref name="hwptId"/> not a paging HWPT → ENOENT; not a nest parent → EINVAL.
    /// </summary>
    public FaultQueueErrno AllocViommu(uint devId, uint hwptId, out uint viommuId)
    {
        viommuId = 0;
        if (Get<IommufdDevice>(devId) is not { } idev) return FaultQueueErrno.ENOENT;
        Put(idev);
        if (Get<Hwpt>(hwptId) is not { } parent) return FaultQueueErrno.ENOENT;
        Put(parent);
        if (parent.IsNested) return FaultQueueErrno.ENOENT;
        if (!parent.IsNestParent) return FaultQueueErrno.EINVAL;
        var rc = ReserveId(out uint id);
        if (rc != FaultQueueErrno.None) return rc;
        parent.HeldBy++;
        return Finalize(new Viommu(id, parent), out viommuId);
    }

    /// <summary>
    /// <c>IOMMU_VDEVICE_ALLOC</c>: device <paramref name="devId"/> is <paramref name="virtId"/> behind
    /// <paramref name="viommuId"/>. Unknown ids → ENOENT; a device that has a vDEVICE, or a virtual id taken → EEXIST.
    /// </summary>
    public FaultQueueErrno AllocVdevice(uint viommuId, uint devId, ulong virtId, out uint vdeviceId)
    {
        vdeviceId = 0;
        if (Get<Viommu>(viommuId) is not { } viommu) return FaultQueueErrno.ENOENT;
        Put(viommu);
        if (Get<IommufdDevice>(devId) is not { } idev) return FaultQueueErrno.ENOENT;
        Put(idev);
        if (idev.Vdevice is not null || viommu.VirtIds.ContainsKey(virtId)) return FaultQueueErrno.EEXIST;
        var rc = ReserveId(out uint id);
        if (rc != FaultQueueErrno.None) return rc;
        var vdevice = new Vdevice(id, viommu, idev, virtId);
        Hold(vdevice);
        return Finalize(vdevice, out vdeviceId);
    }

    // ---- Attach, replace, detach ----------------------------------------------------------------------

    /// <summary>
    /// <c>iommufd_device_attach</c> of (<paramref name="devId"/>, <paramref name="pasid"/>, 0 = RID) to
    /// <paramref name="ptId"/>: an HWPT, or an IOAS (through an auto domain, made if none fits). Writes back the
    /// HWPT's id. Unknown ids → ENOENT, other kinds → EINVAL; already attached elsewhere → EINVAL, to the same HWPT
    /// → EBUSY; the checks of <see cref="Prepare"/> (PASID capability, R41, vDEVICE).
    /// </summary>
    public FaultQueueErrno Attach(uint devId, uint pasid, uint ptId, long now, out uint hwptId) =>
        ChangePt(devId, pasid, ptId, replace: false, now, out hwptId);

    /// <summary>
    /// <c>iommufd_device_replace</c> (R29): as <see cref="Attach"/>, but the (device, PASID) must be attached
    /// (else EINVAL and nothing happens, BUG-13). A failed replace leaves the old HWPT and answers nothing; a
    /// successful one swaps the handle and then, if the old HWPT was fault-capable, answers every group of the
    /// old handle INVALID (R43). Replacing with the HWPT already attached does nothing.
    /// </summary>
    public FaultQueueErrno Replace(uint devId, uint pasid, uint ptId, long now, out uint hwptId) =>
        ChangePt(devId, pasid, ptId, replace: true, now, out hwptId);

    /// <summary>The errno <see cref="Detach"/> would return now (ENOENT, EINVAL), or None: a host that drains
    /// before the handle goes (VT-d) asks first, so a refused detach starts nothing.</summary>
    public FaultQueueErrno CheckDetach(uint devId, uint pasid) =>
        FindDevice(devId) is not { } idev ? FaultQueueErrno.ENOENT
        : idev.Attachments.ContainsKey(pasid) ? FaultQueueErrno.None : FaultQueueErrno.EINVAL;

    /// <summary>
    /// <c>iommufd_device_detach</c>: the hardware detach (<see cref="FaultFramework.Detach"/>), then R43 for a
    /// fault-capable HWPT. Not attached → EINVAL. An auto domain left without attachments goes.
    /// </summary>
    public FaultQueueErrno Detach(uint devId, uint pasid, long now)
    {
        var rc = CheckDetach(devId, pasid);
        if (rc != FaultQueueErrno.None) return rc;
        var idev = FindDevice(devId)!;
        idev.Attachments.Remove(pasid, out var current);
        Framework.Detach(idev.Device, pasid);
        Leave(idev, pasid, current, now);
        return FaultQueueErrno.None;
    }

    // ---- Destroy ---------------------------------------------------------------------------------------

    /// <summary>
    /// <c>IOMMU_DESTROY</c>: unknown id → ENOENT. A FAULT object: <see cref="UserFaultQueue.Destroy"/> (EBUSY while
    /// its fd is open or an HWPT references it, R40/R45; then R44 answers every group). Anything else: EBUSY while
    /// held (an attached HWPT, a nest parent with children, a vIOMMU with HWPTs or vDEVICEs, a bound device); else
    /// it goes and drops what it held (an HWPT its fault object's reference, R40).
    /// </summary>
    public FaultQueueErrno Destroy(uint id, long now)
    {
        if (!_objects.TryGetValue(id, out var obj)) return FaultQueueErrno.ENOENT;
        if (obj is IommufdFault fault)
        {
            var rc = fault.Queue.Destroy(now);
            if (rc != FaultQueueErrno.None) return rc;
        }
        else
        {
            if (obj.Users > 0 || obj.ShortTermUsers > 0) return FaultQueueErrno.EBUSY;
            Unhold(obj);
        }
        Remove(obj);
        return FaultQueueErrno.None;
    }

    // ---- Selftest op -------------------------------------------------------------------------------------

    /// <summary>
    /// R51 <c>IOMMU_TEST_OP_TRIGGER_IOPF</c>: a single-fault group on device <paramref name="devId"/> —
    /// LAST_PAGE, PASID_VALID iff <paramref name="pasid"/> ≠ 0 — reported to the framework; its result is ignored.
    /// Unknown device → ENOENT.
    /// </summary>
    public FaultQueueErrno TriggerIopf(uint devId, uint pasid, long now, uint grpid = 2,
        FaultPermissions perm = FaultPermissions.Read | FaultPermissions.Write, ulong addr = 0xdeadbeaf)
    {
        if (FindDevice(devId) is not { } idev) return FaultQueueErrno.ENOENT;
        var flags = FaultFlags.LastPage | (pasid != 0 ? FaultFlags.PasidValid : FaultFlags.None);
        Framework.Report(idev.Device, new Fault(flags, pasid, grpid, perm, addr), now);
        return FaultQueueErrno.None;
    }

    // ---- Internals ---------------------------------------------------------------------------------------

    private FaultQueueErrno ChangePt(uint devId, uint pasid, uint ptId, bool replace, long now, out uint hwptId)
    {
        hwptId = 0;
        if (FindDevice(devId) is not { } idev) return FaultQueueErrno.ENOENT;
        if (!_objects.TryGetValue(ptId, out var pt)) return FaultQueueErrno.ENOENT;
        Hwpt target;
        bool made = false;
        switch (pt)
        {
            case Hwpt hwpt:
                target = hwpt;
                break;
            case Ioas ioas:
                if (AutoDomainOf(ioas) is { } existing)
                {
                    target = existing;
                    break;
                }
                var rc = AllocPaging(ioas, HwptAllocFlags.None, isAutoDomain: true, out var auto);
                if (rc != FaultQueueErrno.None) return rc;
                target = auto!;
                made = true;
                break;
            default:
                return FaultQueueErrno.EINVAL;
        }

        var result = replace ? DoReplace(idev, pasid, target, now) : DoAttach(idev, pasid, target, now);
        if (result != FaultQueueErrno.None)
        {
            if (made) Abort(target);
            return result;
        }
        if (made) _objects.Add(target.Id, target);
        hwptId = target.Id;
        return FaultQueueErrno.None;
    }

    private FaultQueueErrno DoAttach(IommufdDevice idev, uint pasid, Hwpt hwpt, long now)
    {
        if (idev.AttachmentAt(pasid) is { } current) return current.Hwpt == hwpt ? FaultQueueErrno.EBUSY : FaultQueueErrno.EINVAL;
        var rc = Prepare(idev, pasid, hwpt, out var handle);
        if (rc != FaultQueueErrno.None) return rc;
        if (idev.Device.Attach(pasid, handle!) != FaultStatus.Ok)
        {
            // The slot was taken behind the context's back (R28 compare-exchange): forget the unused handle.
            hwpt.Fault?.Queue.AutoRespond(handle!, now);
            return FaultQueueErrno.EBUSY;
        }
        Enter(idev, pasid, hwpt, handle!);
        return FaultQueueErrno.None;
    }

    private FaultQueueErrno DoReplace(IommufdDevice idev, uint pasid, Hwpt hwpt, long now)
    {
        if (idev.AttachmentAt(pasid) is not { } current) return FaultQueueErrno.EINVAL; // BUG-13: before anything else
        if (current.Hwpt == hwpt) return FaultQueueErrno.None;
        var rc = Prepare(idev, pasid, hwpt, out var handle);
        if (rc != FaultQueueErrno.None) return rc; // R29: a failed replace answers nothing
        Framework.Detach(idev.Device, pasid);
        idev.Device.Attach(pasid, handle!); // the slot was just emptied
        Enter(idev, pasid, hwpt, handle!);
        Leave(idev, pasid, current, now);
        return FaultQueueErrno.None;
    }

    /// <summary>
    /// The checks before a handle is installed, in Linux's order: a PASID attach of an HWPT not allocated for
    /// PASIDs → EINVAL; fault-capable on a VF whose PF has PRI → EINVAL (R41); the handle allocation (ENOMEM);
    /// nested on a vIOMMU without the device's vDEVICE there → ENOENT (R41, the driver's attach op).
    /// </summary>
    private FaultQueueErrno Prepare(IommufdDevice idev, uint pasid, Hwpt hwpt, out FaultAttachment? handle)
    {
        handle = null;
        if (pasid != 0 && !hwpt.IsPasidCapable) return FaultQueueErrno.EINVAL;
        if (hwpt.IsFaultCapable && FaultCapableAttach.Check(idev.Function, Framework.Policy.RefuseEveryVf) is var refused and not FaultQueueErrno.None) return refused;
        if (StepFails()) return FaultQueueErrno.ENOMEM;
        if (hwpt.Viommu is { } viommu && idev.Vdevice?.Viommu != viommu) return FaultQueueErrno.ENOENT;
        handle = hwpt.Fault is { } fault
            ? fault.Queue.CreateAttachment(idev.Id, hwpt.Domain, idev.DepthShare, hwpt.IsNested)
            : new FaultAttachment(hwpt.Domain, null) { Nested = hwpt.IsNested };
        return FaultQueueErrno.None;
    }

    private static void Enter(IommufdDevice idev, uint pasid, Hwpt hwpt, FaultAttachment handle)
    {
        idev.Attachments[pasid] = new HwptAttachment(hwpt, handle);
        hwpt.HeldBy++;
    }

    /// <summary>After the hardware detach or a successful replace: R43 for the old handle, then the HWPT's hold goes.</summary>
    private void Leave(IommufdDevice idev, uint pasid, HwptAttachment old, long now)
    {
        if (old.Hwpt.Fault is { } fault)
        {
            int answered = fault.Queue.AutoRespond(old.Handle, now);
            FaultCapableDomainLeft?.Invoke(idev.Id, pasid, answered);
        }
        old.Hwpt.HeldBy--;
        if (old.Hwpt.IsAutoDomain && old.Hwpt.Users == 0)
        {
            Unhold(old.Hwpt);
            Remove(old.Hwpt);
        }
    }

    private Hwpt? AutoDomainOf(Ioas ioas)
    {
        foreach (var obj in _objects.Values) // id order
            if (obj is Hwpt { IsAutoDomain: true } hwpt && hwpt.Ioas == ioas) return hwpt;
        return null;
    }

    private FaultQueueErrno AllocPaging(Ioas ioas, HwptAllocFlags flags, bool isAutoDomain, out Hwpt? hwpt)
    {
        hwpt = null;
        if ((flags & ~PagingFlags) != 0) return FaultQueueErrno.EOPNOTSUPP;
        // R40: a nesting parent cannot be fault-capable.
        if ((flags & (HwptAllocFlags.NestParent | HwptAllocFlags.FaultIdValid)) == (HwptAllocFlags.NestParent | HwptAllocFlags.FaultIdValid))
            return FaultQueueErrno.EOPNOTSUPP;
        return NewHwpt(flags, ioas, null, null, isAutoDomain, out hwpt);
    }

    private FaultQueueErrno AllocNested(Hwpt? parent, Viommu? viommu, HwptAllocFlags flags, out Hwpt? hwpt)
    {
        hwpt = null;
        if ((flags & ~NestedFlags) != 0) return FaultQueueErrno.EOPNOTSUPP;
        if (parent is { IsAutoDomain: true } or { IsNestParent: false }) return FaultQueueErrno.EINVAL;
        return NewHwpt(flags, null, parent, viommu, isAutoDomain: false, out hwpt);
    }

    /// <summary>The object (ENOMEM), its hold on what it sits on, then its domain (ENOMEM, aborting the object).</summary>
    private FaultQueueErrno NewHwpt(HwptAllocFlags flags, Ioas? ioas, Hwpt? parent, Viommu? viommu, bool isAutoDomain, out Hwpt? hwpt)
    {
        hwpt = null;
        var rc = ReserveId(out uint id);
        if (rc != FaultQueueErrno.None) return rc;
        var made = new Hwpt(id, flags, ioas, parent, viommu, isAutoDomain);
        Hold(made);
        if (StepFails())
        {
            Abort(made);
            return FaultQueueErrno.ENOMEM;
        }
        hwpt = made;
        return FaultQueueErrno.None;
    }

    /// <summary>The references <paramref name="obj"/> holds on other objects are taken.</summary>
    private static void Hold(IommufdObject obj)
    {
        switch (obj)
        {
            case Hwpt hwpt:
                if (hwpt.Ioas is { } ioas) ioas.HeldBy++;
                if (hwpt.Parent is { } parent) parent.HeldBy++;
                if (hwpt.Viommu is { } viommu) viommu.HeldBy++;
                break;
            case Vdevice vdevice:
                vdevice.Viommu.HeldBy++;
                vdevice.Viommu.VirtIds.Add(vdevice.VirtId, vdevice);
                vdevice.Device.Vdevice = vdevice;
                vdevice.Device.HeldBy++;
                break;
        }
    }

    /// <summary>The references <paramref name="obj"/> holds go: the reverse of <see cref="Hold"/>, plus an HWPT's fault reference.</summary>
    private static void Unhold(IommufdObject obj)
    {
        switch (obj)
        {
            case Hwpt hwpt:
                if (hwpt.Fault is { } fault) fault.Queue.ReleaseHwptReference();
                hwpt.Fault = null;
                if (hwpt.Ioas is { } ioas) ioas.HeldBy--;
                if (hwpt.Parent is { } parent) parent.HeldBy--;
                if (hwpt.Viommu is { } viommu) viommu.HeldBy--;
                break;
            case Viommu held:
                held.Parent.HeldBy--;
                break;
            case Vdevice vdevice:
                vdevice.Viommu.HeldBy--;
                vdevice.Viommu.VirtIds.Remove(vdevice.VirtId);
                vdevice.Device.Vdevice = null;
                vdevice.Device.HeldBy--;
                break;
        }
    }

    /// <summary><c>iommufd_object_abort_and_destroy</c>: an object never made visible lets go of what it held and of its id.</summary>
    private void Abort(IommufdObject obj)
    {
        Unhold(obj);
        ReleaseId(obj.Id);
    }

    /// <summary>The copy of the out id to user space (EFAULT aborts), then the object becomes visible.</summary>
    private FaultQueueErrno Finalize(IommufdObject obj, out uint id)
    {
        id = 0;
        if (StepFails())
        {
            if (obj is IommufdFault fault) fault.Queue.Close(); // the reserved fd goes with the object (R39)
            Abort(obj);
            return FaultQueueErrno.EFAULT;
        }
        _objects.Add(obj.Id, obj);
        id = obj.Id;
        return FaultQueueErrno.None;
    }

    private void Remove(IommufdObject obj)
    {
        _objects.Remove(obj.Id);
        ReleaseId(obj.Id);
    }

    private FaultQueueErrno ReserveId(out uint id)
    {
        id = 0;
        if (StepFails()) return FaultQueueErrno.ENOMEM;
        if (_freeIds.Count > 0)
        {
            id = _freeIds.Min;
            _freeIds.Remove(id);
            return FaultQueueErrno.None;
        }
        if (_nextId > MaxId) return FaultQueueErrno.EBUSY; // xa_alloc: the range is full
        id = _nextId++;
        return FaultQueueErrno.None;
    }

    private void ReleaseId(uint id) => _freeIds.Add(id);

    /// <summary><c>iommufd_get_object</c>: a lookup reference on a visible object of type <typeparamref name="T"/>, or null.</summary>
    private T? Get<T>(uint id) where T : IommufdObject
    {
        if (_objects.GetValueOrDefault(id) is not T obj) return null;
        obj.ShortTermUsers++;
        return obj;
    }

    private static void Put(IommufdObject obj) => obj.ShortTermUsers--;
}
