using System.Collections.Concurrent;
using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Runtime;

namespace Faultline.Tests.Runtime;

/// <summary>
/// Every IOMMU kind on the wall clock: device threads fault while other threads unbind, rebind, exit and remove
/// (R25, R33, H-SMMU-13, R4), seeded and repeated. Every access ends, every page request group gets exactly one
/// response (R8, R18; H-PCI-10 would report a second), and the kernel's invariants hold at the end.
/// Counts and codes only, never timing.
/// </summary>
public class RuntimeHostStressTests
{
    public static TheoryData<IommuType, PasidStopMode, int> Kinds() => new()
    {
        { IommuType.Vtd, PasidStopMode.StopMarker, 1 },
        { IommuType.Vtd, PasidStopMode.WaitForResponses, 2 },
        { IommuType.Smmuv3, PasidStopMode.StopMarker, 3 },
        { IommuType.Smmuv3, PasidStopMode.WaitForResponses, 4 },
        { IommuType.Amd, PasidStopMode.WaitForResponses, 5 },
        { IommuType.Smmuv2, PasidStopMode.WaitForResponses, 6 },
    };

    [Theory(DisplayName = "R25, R18: device threads fault while another thread unbinds and rebinds; every access ends and the invariants hold")]
    [MemberData(nameof(Kinds))]
    public async Task Faulting_under_unbind_and_rebind_churn(IommuType type, PasidStopMode mode, int seed)
    {
        const int Devices = 4, AccessesPerDevice = 400, Window = 4, ChurnRounds = 40;
        bool smmuv2 = type == IommuType.Smmuv2;
        await using var rig = await RuntimeRig.Start(type, FaultPolicy.Hardened, Devices, processes: smmuv2 ? Devices : 2);
        // Which PASID each (device, process) has now; the device threads read it, the churn thread changes it.
        var bound = new ConcurrentDictionary<(int Device, int Process), uint>();
        for (int d = 0; d < Devices; d++)
            foreach (int p in ProcessesOf(d))
                bound[(d, p)] = (await rig.Host.Bind(rig.Devices[d], rig.Processes[p]).WaitAsync(RuntimeRig.HangGuard))
                    ?? throw new InvalidOperationException($"bind of p{p} to {rig.Devices[d].Name} refused");

        var results = new ConcurrentDictionary<AccessResult, int>();
        var devices = Enumerable.Range(0, Devices).Select(d => Task.Run(async () =>
        {
            var random = new Random(seed * 100 + d);
            var window = new List<Task<AccessResult>>();
            for (int i = 0; i < AccessesPerDevice; i++)
            {
                int p = ProcessesOf(d)[random.Next(ProcessesOf(d).Length)];
                if (!bound.TryGetValue((d, p), out uint pasid)) continue; // unbound now: a driver issues nothing for it
                ulong page = (ulong)random.Next((int)RuntimeRig.VmaPages - 4);
                var prefix = smmuv2 ? (PasidPrefix?)null : new PasidPrefix(new Pasid(pasid), false, false);
                window.Add(rig.Host.Access(rig.Devices[d], prefix, RuntimeRig.VmaBase + ((ulong)p << 32) + (page << 12), random.Next(1, 5), random.Next(2) == 0));
                if (window.Count < Window) continue;
                var done = await Task.WhenAny(window).WaitAsync(RuntimeRig.HangGuard);
                window.Remove(done);
                results.AddOrUpdate(await done, 1, (_, n) => n + 1);
            }
            foreach (var t in window) results.AddOrUpdate(await t.WaitAsync(RuntimeRig.HangGuard), 1, (_, n) => n + 1);
        })).ToArray();

        var churn = Task.Run(async () =>
        {
            var random = new Random(seed);
            for (int round = 0; round < ChurnRounds; round++)
            {
                int d = random.Next(Devices);
                int p = ProcessesOf(d)[random.Next(ProcessesOf(d).Length)];
                if (!bound.TryRemove((d, p), out _)) continue;
                await rig.Host.Unbind(rig.Devices[d], rig.Processes[p], mode).WaitAsync(RuntimeRig.HangGuard);
                await Task.Delay(random.Next(0, 2));
                // The PASID comes back once its teardown is done (R25): until then a bind is refused.
                for (int attempt = 0; attempt < 1000; attempt++)
                {
                    if (await rig.Host.Bind(rig.Devices[d], rig.Processes[p]).WaitAsync(RuntimeRig.HangGuard) is { } pasid)
                    {
                        bound[(d, p)] = pasid;
                        break;
                    }
                    await Task.Delay(1);
                }
            }
        });

        await Task.WhenAll(devices.Append(churn)).WaitAsync(RuntimeRig.HangGuard);
        Assert.True(await rig.Quiet(), "the kernel went quiet after the device threads stopped");
        var violations = await rig.Host.CheckEnd().WaitAsync(RuntimeRig.HangGuard);
        Assert.True(violations.Count == 0, string.Join("\n", violations));
        Assert.True(results.GetValueOrDefault(AccessResult.Completed) > 0, "some accesses completed");
        var (faultGroups, teardowns, uprgi) = await rig.Loop.InvokeAsync(() => (
            rig.Host.Kernel.Framework.Counters.Groups,
            rig.Host.Kernel.Teardowns.Count,
            rig.Host.Kernel.Functions.Count(f => f.Function.Pri.UnexpectedPrgIndex)));
        Assert.Equal(0, uprgi);
        Assert.True(faultGroups >= 200, $"the devices faulted ({faultGroups} groups)");
        Assert.True(teardowns >= ChurnRounds / 4, $"teardowns ran while they did ({teardowns})");

        int[] ProcessesOf(int d) => smmuv2 ? [d] : [0, 1];
    }

    [Theory(DisplayName = "R25, R4: processes exit and devices are removed while faults are in flight; every access ends")]
    [InlineData(IommuType.Vtd)]
    [InlineData(IommuType.Smmuv3)]
    [InlineData(IommuType.Amd)]
    public async Task Exit_and_remove_device_under_load(IommuType type)
    {
        const int Devices = 4;
        await using var rig = await RuntimeRig.Start(type, FaultPolicy.Hardened, Devices, processes: 2);
        var pasids = new uint[Devices, 2];
        for (int d = 0; d < Devices; d++)
            for (int p = 0; p < 2; p++)
                pasids[d, p] = (await rig.Host.Bind(rig.Devices[d], rig.Processes[p]).WaitAsync(RuntimeRig.HangGuard))!.Value;

        var accesses = new ConcurrentBag<Task<AccessResult>>();
        var devices = Enumerable.Range(0, Devices).Select(d => Task.Run(async () =>
        {
            var random = new Random(d);
            for (int i = 0; i < 300; i++)
            {
                int p = random.Next(2);
                var t = rig.Host.Access(rig.Devices[d], new PasidPrefix(new Pasid(pasids[d, p]), false, false),
                    RuntimeRig.VmaBase + ((ulong)p << 32) + ((ulong)random.Next(10_000) << 12), 2, true);
                accesses.Add(t);
                if (i % 4 == 3) await t.WaitAsync(RuntimeRig.HangGuard);
            }
        })).ToArray();
        await Task.Delay(2);
        await rig.Host.Exit(rig.Processes[0], PasidStopMode.WaitForResponses).WaitAsync(RuntimeRig.HangGuard);
        await rig.Host.RemoveDevice(rig.Devices[3]).WaitAsync(RuntimeRig.HangGuard);
        await Task.WhenAll(devices).WaitAsync(RuntimeRig.HangGuard);
        await Task.WhenAll(accesses).WaitAsync(RuntimeRig.HangGuard); // every access ended, none hangs

        Assert.True(await rig.Quiet(), "the kernel went quiet");
        var violations = await rig.Host.CheckEnd().WaitAsync(RuntimeRig.HangGuard);
        Assert.True(violations.Count == 0, string.Join("\n", violations));
        Assert.Contains(accesses, t => t.Result == AccessResult.Completed);
    }

    [Fact(DisplayName = "Disposal under load: every access still in flight or queued ends (refused, counted), no device thread waits for ever")]
    public async Task Dispose_under_load_ends_every_access()
    {
        var rig = await RuntimeRig.Start(IommuType.Vtd, FaultPolicy.Hardened, 2, processes: 1);
        uint pasid = (await rig.Host.Bind(rig.Devices[0], rig.Processes[0]).WaitAsync(RuntimeRig.HangGuard))!.Value;
        var accesses = new List<Task<AccessResult>>();
        for (int i = 0; i < 2000; i++)
            accesses.Add(rig.Host.Access(rig.Devices[0], new PasidPrefix(new Pasid(pasid), false, false), RuntimeRig.VmaBase + ((ulong)i << 12), 1, false));
        rig.Host.Dispose();
        var ended = await Task.WhenAll(accesses.Select(t => t.ContinueWith(x => x.Status, TaskScheduler.Default))).WaitAsync(RuntimeRig.HangGuard);
        Assert.All(ended, s => Assert.True(s is TaskStatus.RanToCompletion or TaskStatus.Faulted));
        Assert.Equal(ended.Count(s => s == TaskStatus.Faulted), rig.Host.RefusedAccesses);
        // After disposal every later access is refused the same way, and counted.
        var late = rig.Host.Access(rig.Devices[0], null, RuntimeRig.VmaBase, 1, false);
        await Assert.ThrowsAsync<InvalidOperationException>(() => late);
        Assert.Equal(ended.Count(s => s == TaskStatus.Faulted) + 1, rig.Host.RefusedAccesses);
    }
}
