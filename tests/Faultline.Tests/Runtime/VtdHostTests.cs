using System.Collections.Concurrent;
using Faultline.Devices;
using Faultline.Faults;
using Faultline.Iommu;
using Faultline.Iommu.Vtd;
using Faultline.Pcie;
using Faultline.Runtime;
using Faultline.Sva;
using Faultline.Tests.Iommu;

namespace Faultline.Tests.Runtime;

// Counts and codes only, never timing (DESIGN rule 7); the timeouts are hang guards.
public class VtdHostTests
{
    private static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(30);
    private const ulong Mapped = 0x4000_0000, Unmapped = 0x9000_0000;

    [Fact(DisplayName = "R18: device threads submitting page request groups concurrently get exactly one response per group")]
    public async Task Concurrent_groups_each_get_exactly_one_response()
    {
        const int Threads = 6, GroupsPerThread = 256, PagesPerGroup = 3, Window = 8; // 8 groups × 3 pages ≤ 32 credits
        var functions = Enumerable.Range(0, Threads)
            .Select(t => new PriFunction(new PriFunctionConfig { Name = $"fn{t}", Requester = RequesterId.From(0x3A, t + 1, 0) }, new UnusedPort()))
            .ToArray();
        var threadOf = functions.Select((f, t) => (f.Requester, t)).ToDictionary(x => x.Requester, x => x.t);

        // Written on the loop thread only, read after the loop has stopped.
        var responses = new int[Threads, PrgIndex.Count];
        var codes = new ResponseCode[Threads, PrgIndex.Count];
        var pasids = new List<Pasid?>();
        var strays = new List<PrgResponse>();
        bool allOnLoop = true;
        var windows = Enumerable.Range(0, Threads).Select(_ => new SemaphoreSlim(Window)).ToArray();
        using var answered = new CountdownEvent(Threads * GroupsPerThread);

        using var loop = new HostLoop(TimeProvider.System);
        var host = new VtdHost(loop, new VtdConfig { Name = "dmar0" }, FaultPolicy.Hardened, response =>
        {
            allOnLoop &= loop.IsLoopThread;
            if (!threadOf.TryGetValue(response.Destination, out int t))
            {
                strays.Add(response);
                return;
            }
            responses[t, response.Index.Value]++;
            codes[t, response.Index.Value] = response.Code;
            pasids.Add(response.Pasid);
            windows[t].Release(); // the function's credits come back with the response
            if (!answered.IsSet) answered.Signal();
        });
        loop.Start();

        var mm = new AddressSpace("proc");
        mm.Map(new Vma(Mapped, 64 << 20, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor));
        uint pasid = 0;
        foreach (var function in functions)
        {
            var added = await host.AddFunction(function, function.Config.Name).WaitAsync(HangGuard);
            Assert.Equal(PciEnableError.None, added.Probe);
            Assert.Equal(FaultStatus.Ok, added.Status);
            var (status, bound) = await host.Bind(added.Device!, added.PasidTable!, mm).WaitAsync(HangGuard);
            Assert.Equal(FaultStatus.Ok, status);
            pasid = bound; // one mm, one PASID for every device (SVA)
        }

        var failures = new ConcurrentQueue<string>();
        using var go = new Barrier(Threads);
        var devices = Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            var prefix = new PasidPrefix(new Pasid(pasid), false, false);
            go.SignalAndWait();
            for (int g = 0; g < GroupsPerThread; g++)
            {
                if (!windows[t].Wait(HangGuard))
                {
                    failures.Enqueue($"fn{t}: no response freed a credit for group {g}");
                    return;
                }
                // Every fourth group touches unmapped memory: its response must be the policy's Invalid code.
                ulong address = (g % 4 == 3 ? Unmapped : Mapped) + ((ulong)t << 22) + ((ulong)g * PagesPerGroup << 12);
                for (int p = 0; p < PagesPerGroup; p++)
                {
                    host.SubmitPageRequest(new PageRequest(functions[t].Requester, true, true, Last: p == PagesPerGroup - 1,
                        PrgIndex.Create(g), address + ((ulong)p << 12), prefix));
                }
            }
        })).ToList();
        devices.ForEach(d => d.Start());
        devices.ForEach(d => Assert.True(d.Join(HangGuard)));
        Assert.Empty(failures);
        Assert.True(answered.Wait(HangGuard), $"{answered.CurrentCount} groups unanswered");

        var (groupsInUse, workRun, queuedWork, prqEmpty, counters, driver) = await loop.InvokeAsync(() =>
            (host.Framework.GroupsInUse, host.WorkRun, host.Driver.Queue.QueuedWork, host.Iommu.PageRequestQueue.IsEmpty, host.Iommu.Counters, host.Driver.Counters))
            .WaitAsync(HangGuard);
        await loop.StopAsync().WaitAsync(HangGuard);

        Assert.Null(loop.Fault);
        Assert.True(allOnLoop);
        Assert.Empty(strays);
        var invalid = PcieWireCode.For(PageResponseCode.Invalid, FaultPolicy.Hardened.WireCodes);
        for (int t = 0; t < Threads; t++)
        {
            for (int g = 0; g < PrgIndex.Count; g++)
            {
                Assert.Equal(g < GroupsPerThread ? 1 : 0, responses[t, g]);
                if (g < GroupsPerThread) Assert.Equal(g % 4 == 3 ? invalid : ResponseCode.Success, codes[t, g]);
            }
        }
        Assert.All(pasids, p => Assert.Equal(new Pasid(pasid), p));
        Assert.Equal(Threads * GroupsPerThread, pasids.Count);

        const int Requests = Threads * GroupsPerThread * PagesPerGroup;
        Assert.Equal(Requests, counters.PageRequestsReceived);
        Assert.Equal(Requests, counters.Queued);
        Assert.Equal(0, counters.DiscardedFull + counters.DiscardedWhileOverflowed + counters.AutoResponses + counters.RefusedAtGate);
        Assert.Equal(Threads * GroupsPerThread, counters.PrgResponsesSent);
        Assert.Equal(Requests, driver.Reported);
        Assert.Equal(Requests, driver.Descriptors);
        Assert.Equal(Threads * GroupsPerThread, workRun);
        Assert.Equal(0, groupsInUse);
        Assert.Equal(0, queuedWork);
        Assert.True(prqEmpty);
    }

    [Fact(DisplayName = "H-VTD-1: a requester without a context is refused at the gate; its last request is answered on the loop")]
    public async Task H_VTD_1_unknown_requester_is_answered_invalid_request_on_the_loop()
    {
        using var loop = new HostLoop(TimeProvider.System);
        var responses = new List<(PrgResponse Response, bool OnLoop)>();
        using var answered = new ManualResetEventSlim();
        var host = new VtdHost(loop, new VtdConfig { Name = "dmar0" }, FaultPolicy.Hardened, response =>
        {
            responses.Add((response, loop.IsLoopThread));
            answered.Set();
        });
        loop.Start();
        var stranger = RequesterId.From(0x3A, 9, 0);

        host.SubmitPageRequest(new PageRequest(stranger, true, false, Last: false, PrgIndex.Create(7), Mapped, null));
        host.SubmitPageRequest(new PageRequest(stranger, true, false, Last: true, PrgIndex.Create(7), Mapped + 0x1000, null));

        Assert.True(answered.Wait(HangGuard));
        long refused = await loop.InvokeAsync(() => host.Iommu.Counters.RefusedAtGate).WaitAsync(HangGuard);
        await loop.StopAsync().WaitAsync(HangGuard);

        Assert.Equal(2, refused);
        var (only, onLoop) = Assert.Single(responses);
        Assert.True(onLoop);
        Assert.Equal(new PrgResponse(stranger, PrgIndex.Create(7), ResponseCode.InvalidRequest, null), only);
    }

    [Fact]
    public async Task A_core_call_the_host_cannot_serve_faults_the_loop_instead_of_vanishing()
    {
        using var loop = new HostLoop(TimeProvider.System);
        var host = new VtdHost(loop, new VtdConfig { Name = "dmar0" }, FaultPolicy.Hardened, _ => { });
        var function = new PriFunction(new PriFunctionConfig { Name = "fn", Requester = RequesterId.From(0x3A, 1, 0) }, new UnusedPort());
        loop.Start();
        var added = await host.AddFunction(function, "fn").WaitAsync(HangGuard);
        Assert.Equal(FaultStatus.Ok, added.Status);

        // A PASID drain sends a device-TLB invalidation, which this host has no path to deliver yet.
        loop.Post(() => host.Driver.BeginDrain(added.Device!, 1, loop.Now).Advance(loop.Now));

        await Assert.ThrowsAsync<NotSupportedException>(() => loop.Completion.WaitAsync(HangGuard));
        Assert.Equal(HostLoopState.Faulted, loop.State);
        Assert.Throws<InvalidOperationException>(() => host.SubmitPageRequest(new PageRequest(function.Requester, true, false, true, PrgIndex.Create(1), Mapped, null)));
    }
}
