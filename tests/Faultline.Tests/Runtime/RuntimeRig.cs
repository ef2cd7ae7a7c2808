using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Runtime;
using Faultline.Sva;

namespace Faultline.Tests.Runtime;

/// <summary>
/// One <see cref="RuntimeHost"/> on a real loop with one IOMMU of a kind, its functions or masters, and processes
/// with large address spaces, for stress tests. Counts and codes only, never timing; timeouts are hang guards.
/// </summary>
internal sealed class RuntimeRig : IAsyncDisposable
{
    public static readonly TimeSpan HangGuard = TimeSpan.FromSeconds(60);
    public const ulong VmaBase = 0x1000_0000, VmaPages = 1 << 14;

    private RuntimeRig(HostLoop loop, RuntimeHost host, IommuUnit unit)
    {
        Loop = loop;
        Host = host;
        Unit = unit;
    }

    public HostLoop Loop { get; }
    public RuntimeHost Host { get; }
    public IommuUnit Unit { get; }
    public List<RuntimeDevice> Devices { get; } = [];
    public List<AddressSpace> Processes { get; } = [];

    public static async Task<RuntimeRig> Start(IommuType type, FaultPolicy policy, int devices, int processes, int workers = 4)
    {
        var loop = new HostLoop(TimeProvider.System, $"rig-{type}");
        var host = new RuntimeHost(loop, new HostSpec { Workers = workers }, policy);
        loop.Start();
        var unit = await host.AddIommu(new IommuSpec { Name = $"{type}".ToLowerInvariant() + "0", Type = type, ContextBanks = 8 }).WaitAsync(HangGuard);
        var rig = new RuntimeRig(loop, host, unit);
        for (int d = 0; d < devices; d++)
        {
            var device = type is IommuType.Smmuv2 || (type is IommuType.Smmuv3 && d % 2 == 1)
                ? await host.AddMaster(unit, new StallMasterConfig { Name = $"m{d}", StreamId = (uint)(0x100 + d) }).WaitAsync(HangGuard)
                : await host.AddFunction(unit, new PriFunctionConfig { Name = $"f{d}", Requester = RequesterId.From(0x10, d + 1, 0), Capacity = 32 }).WaitAsync(HangGuard);
            rig.Devices.Add(device);
        }
        for (int p = 0; p < processes; p++)
        {
            var mm = new AddressSpace($"p{p}");
            mm.Map(new Vma(VmaBase + ((ulong)p << 32), VmaPages << 12, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor));
            rig.Processes.Add(mm);
        }
        return rig;
    }

    /// <summary>Waits until every teardown has completed and nothing is left in flight; false if that never came.</summary>
    public async Task<bool> Quiet()
    {
        for (int i = 0; i < 2000; i++)
        {
            bool quiet = await Loop.InvokeAsync(() =>
                Host.Kernel.Teardowns.All(t => t.DoneAt is not null)
                && Host.Kernel.Framework.GroupsInUse == 0
                && Host.Kernel.Functions.All(f => f.Function.OutstandingGroups == 0 && f.Function.ActiveAccesses == 0 && f.Function.StoppingPasids == 0)
                && Host.Kernel.Masters.All(m => m.Master.Idle)).WaitAsync(HangGuard);
            if (quiet) return true;
            await Task.Delay(5);
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (Loop.State == HostLoopState.Running) await Loop.StopAsync().WaitAsync(HangGuard);
        Host.Dispose();
    }
}
