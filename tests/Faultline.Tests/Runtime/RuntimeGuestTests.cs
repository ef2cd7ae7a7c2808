using System.Collections.Concurrent;
using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Runtime;
using Faultline.Sva;
using Faultline.Userspace;

namespace Faultline.Tests.Runtime;

/// <summary>
/// A guest behind an iommufd fault queue on the wall clock: a VMM thread reads whole groups when the queue turns
/// readable (R46, R48), resolves them in the guest's address space and writes one answer per group (R47); the host
/// detaches the function while its device still faults (R43) and, under hardened, resets its PRI (POL-9).
/// </summary>
public class RuntimeGuestTests
{
    [Theory(DisplayName = "R43, POL-9: a guest answers through its fault queue from its own thread; a detach under load ends every access")]
    [InlineData(IommuType.Vtd)]
    [InlineData(IommuType.Smmuv3)]
    [InlineData(IommuType.Amd)]
    public async Task Guest_answers_from_its_thread_and_a_detach_under_load_ends_every_access(IommuType type)
    {
        const uint GuestPasid = 5;
        await using var rig = await RuntimeRig.Start(type, FaultPolicy.Hardened, devices: 1, processes: 1);
        var mm = rig.Processes[0];
        var readable = new SemaphoreSlim(0);
        rig.Host.FaultQueueReadable += _ => readable.Release();
        var guest = await rig.Host.AttachGuest("vm0", rig.Devices[0], GuestPasid, mm).WaitAsync(RuntimeRig.HangGuard);
        Assert.NotNull(guest);

        using var stop = new CancellationTokenSource();
        long answered = 0;
        var vmm = Task.Run(async () =>
        {
            var record = new byte[PageResponseRecord.Size];
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await readable.WaitAsync(TimeSpan.FromMilliseconds(20), stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                var groups = new List<UserFaultGroup>();
                var read = await rig.Host.ReadFaults(guest, groups, 4096).WaitAsync(RuntimeRig.HangGuard);
                if (read.IsError) break; // detached: the queue is gone
                foreach (var group in groups)
                {
                    // The guest maps the pages in its stage-1 address space (on the loop: the address space is the loop's).
                    var code = await rig.Loop.InvokeAsync(() =>
                    {
                        long cost = 0;
                        foreach (var r in group.Records)
                            if (mm.Fault(r.Address, SvaDomain.Required((FaultPermissions)(uint)r.Perm), SvaCosts.Default, ref cost) != PageResponseCode.Success)
                                return IommufdPageResponseCode.Invalid;
                        return IommufdPageResponseCode.Success;
                    }).WaitAsync(RuntimeRig.HangGuard);
                    new PageResponseRecord(group.Cookie, code).Encode(record);
                    await rig.Host.WriteResponse(guest, record).WaitAsync(RuntimeRig.HangGuard);
                    Interlocked.Increment(ref answered);
                }
            }
        });

        var accesses = new ConcurrentBag<Task<AccessResult>>();
        var device = Task.Run(async () =>
        {
            var random = new Random(11);
            for (int i = 0; i < 400; i++)
            {
                var t = rig.Host.Access(rig.Devices[0], new PasidPrefix(new Pasid(GuestPasid), false, false),
                    RuntimeRig.VmaBase + ((ulong)random.Next(10_000) << 12), random.Next(1, 4), true);
                accesses.Add(t);
                if (i % 4 == 3) await t.WaitAsync(RuntimeRig.HangGuard);
            }
        });
        while (Interlocked.Read(ref answered) < 50 && !device.IsCompleted) await Task.Delay(1);
        Assert.True(await rig.Host.DetachGuest(guest).WaitAsync(RuntimeRig.HangGuard), "iommufd detach");
        await device.WaitAsync(RuntimeRig.HangGuard);
        await Task.WhenAll(accesses).WaitAsync(RuntimeRig.HangGuard); // every access ended
        stop.Cancel();
        await vmm.WaitAsync(RuntimeRig.HangGuard);

        Assert.True(Interlocked.Read(ref answered) >= 50, "the guest answered groups from its own thread");
        Assert.True(await rig.Quiet(), "the kernel went quiet after the detach");
        var violations = await rig.Host.CheckEnd().WaitAsync(RuntimeRig.HangGuard);
        Assert.True(violations.Count == 0, string.Join("\n", violations));
        Assert.Contains(accesses, t => t.Result == AccessResult.Completed);
    }
}
