using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Runtime;

namespace Faultline.Tests.Runtime;

/// <summary>
/// Issue 14: accesses submitted while the loop ends — faulted, stopped or disposed under them — each end or are
/// refused, and every refusal is counted; none is accepted and then lost. Counts only, never timing.
/// </summary>
public class RuntimeHostRefusalTests
{
    public enum Ending { Faulted, Stopped, Disposed }

    [Theory]
    [InlineData(Ending.Faulted)]
    [InlineData(Ending.Stopped)]
    [InlineData(Ending.Disposed)]
    public async Task Every_access_submitted_around_the_end_of_the_loop_ends_or_is_refused_and_counted(Ending ending)
    {
        const int Threads = 4, Before = 1000, RefusalsSeen = 200, Window = 32;
        var rig = await RuntimeRig.Start(IommuType.Vtd, FaultPolicy.Hardened, devices: Threads, processes: 1);
        var pasids = new uint[Threads];
        for (int d = 0; d < Threads; d++) pasids[d] = (await rig.Host.Bind(rig.Devices[d], rig.Processes[0]).WaitAsync(RuntimeRig.HangGuard))!.Value;
        var boom = new InvalidOperationException("boom");
        var tasks = new List<Task<AccessResult>>[Threads];
        int submitted = 0;

        // Each device thread, at most Window accesses outstanding as a device has, submits before, during and
        // after the end, until it has seen refusals of its own.
        var submitters = Enumerable.Range(0, Threads).Select(d => new Thread(() =>
        {
            tasks[d] = [];
            var window = new List<Task<AccessResult>>();
            for (int i = 0, seen = 0; seen < RefusalsSeen; i++)
            {
                if (window.Count == Window)
                {
                    int done = Task.WaitAny([.. window], RuntimeRig.HangGuard);
                    if (done < 0) return; // none of them ever ends: the lost accesses are found below
                    window.RemoveAt(done);
                }
                var t = rig.Host.Access(rig.Devices[d], new PasidPrefix(new Pasid(pasids[d]), false, false),
                    RuntimeRig.VmaBase + ((ulong)(i % 4096) << 12), 1 + i % 3, i % 2 == 0);
                tasks[d].Add(t);
                window.Add(t);
                if (t.IsFaulted) seen++;
                Interlocked.Increment(ref submitted);
            }
        })).ToList();
        submitters.ForEach(t => t.Start());
        SpinWait.SpinUntil(() => Volatile.Read(ref submitted) >= Before, RuntimeRig.HangGuard);
        switch (ending)
        {
            case Ending.Faulted: rig.Loop.Post(() => throw boom); break;
            case Ending.Stopped: _ = rig.Loop.StopAsync(); break;
            case Ending.Disposed: rig.Host.Dispose(); break;
        }
        submitters.ForEach(t => Assert.True(t.Join(RuntimeRig.HangGuard)));

        var all = tasks.SelectMany(t => t).ToArray();
        await Task.WhenAll(all.Select(t => t.ContinueWith(_ => 0, TaskScheduler.Default))).WaitAsync(RuntimeRig.HangGuard); // none hangs
        var refused = all.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException).ToList();
        Assert.Equal(refused.Count, rig.Host.RefusedAccesses);
        Assert.True(refused.Count >= Threads * RefusalsSeen);
        Assert.All(refused, e =>
        {
            var ex = Assert.IsType<InvalidOperationException>(e);
            Assert.StartsWith("the host loop is ", ex.Message, StringComparison.Ordinal);
            if (ending == Ending.Faulted) Assert.Same(boom, ex.InnerException);
        });
        Assert.All(all, t => Assert.True(t.IsCompletedSuccessfully || t.IsFaulted));

        // Later accesses are refused the same way, each counted.
        for (int i = 0; i < 10; i++)
            await Assert.ThrowsAsync<InvalidOperationException>(() => rig.Host.Access(rig.Devices[0], null, RuntimeRig.VmaBase, 1, false));
        Assert.Equal(refused.Count + 10, rig.Host.RefusedAccesses);
        await rig.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]  // its drain ran first: the access is on the device when the loop faults
    [InlineData(false)] // its drain was posted behind the fault and dropped with it
    public async Task An_access_accepted_before_the_loop_faulted_is_refused_not_left_waiting(bool started)
    {
        var rig = await RuntimeRig.Start(IommuType.Vtd, FaultPolicy.Hardened, devices: 1, processes: 1);
        uint pasid = (await rig.Host.Bind(rig.Devices[0], rig.Processes[0]).WaitAsync(RuntimeRig.HangGuard))!.Value;
        var boom = new InvalidOperationException("boom");
        using var hold = new ManualResetEventSlim();
        rig.Loop.Post(() => hold.Wait()); // the loop is busy: what follows queues in the order posted

        Task<AccessResult> Submit() => rig.Host.Access(rig.Devices[0], new PasidPrefix(new Pasid(pasid), false, false), RuntimeRig.VmaBase, 4, true);
        Task<AccessResult> access;
        if (started)
        {
            access = Submit();
            rig.Loop.Post(() => throw boom);
        }
        else
        {
            rig.Loop.Post(() => throw boom);
            access = Submit();
        }
        hold.Set();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => access.WaitAsync(RuntimeRig.HangGuard));
        Assert.Same(boom, refused.InnerException);
        Assert.Equal(1, rig.Host.RefusedAccesses);
        await rig.DisposeAsync();
    }
}
