using Faultline.Devices;
using Faultline.Faults;
using Faultline.Host;
using Faultline.Pcie;
using Faultline.Runtime;
using Faultline.Sva;

namespace Faultline.Samples.Embedding;

/// <summary>
/// What an emulator does to embed Faultline: one host loop per platform owns the host kernel and the device models;
/// each device model's thread issues DMA and waits for it, faulting pages in through the IOMMU, on the wall clock.
/// Run it: <c>dotnet run --project samples/Embedding</c>.
/// </summary>
public static class Program
{
    public static async Task<int> Main() => await Run(Console.Out);

    /// <summary>One platform per IOMMU kind; returns 0 when every access ended and every invariant held.</summary>
    public static async Task<int> Run(TextWriter output)
    {
        int broken = 0;
        foreach (var kind in Enum.GetValues<IommuType>()) broken += await RunPlatform(kind, output);
        return broken == 0 ? 0 : 1;
    }

    private static async Task<int> RunPlatform(IommuType kind, TextWriter output)
    {
        using var loop = new HostLoop(TimeProvider.System, $"{kind} platform");
        using var host = new RuntimeHost(loop, new HostSpec { Workers = 4 }, FaultPolicy.Hardened);
        loop.Start();

        var iommu = await host.AddIommu(new IommuSpec { Name = "iommu0", Type = kind });
        // SMMUv2 serves platform masters only; every other kind gets a PCIe function with ATS, PRI and PASIDs.
        var device = kind == IommuType.Smmuv2
            ? await host.AddMaster(iommu, new StallMasterConfig { Name = "dsp", StreamId = 0x40 })
            : await host.AddFunction(iommu, new PriFunctionConfig { Name = "accel", Requester = RequesterId.From(0x03, 0, 0), Capacity = 32 });

        // The process whose memory the device works on, bound through SVA; nothing of it is resident yet.
        var process = new AddressSpace("app");
        const ulong Buffer = 0x7f00_0000_0000;
        process.Map(new Vma(Buffer, 64 << 20, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor));
        uint pasid = await host.Bind(device, process) ?? throw new InvalidOperationException("SVA bind refused");
        PasidPrefix? prefix = kind == IommuType.Smmuv2 ? null : new PasidPrefix(new Pasid(pasid), false, false);

        // The device model: its own thread, four DMAs in flight, each 1-4 pages somewhere in the buffer.
        var results = new Dictionary<AccessResult, int>();
        await Task.Run(async () =>
        {
            var random = new Random(1);
            var inFlight = new List<Task<AccessResult>>();
            for (int i = 0; i < 2000; i++)
            {
                inFlight.Add(host.Access(device, prefix, Buffer + ((ulong)random.Next(16_000) << 12), random.Next(1, 5), write: i % 3 == 0));
                if (inFlight.Count < 4) continue;
                var done = await Task.WhenAny(inFlight);
                inFlight.Remove(done);
                results[done.Result] = results.GetValueOrDefault(done.Result) + 1;
            }
            foreach (var t in inFlight) results[await t] = results.GetValueOrDefault(await t) + 1;
        });

        var violations = await host.CheckEnd();
        var (groups, resident) = await loop.InvokeAsync(() => (host.Kernel.Framework.Counters.Groups, process.ResidentPages));
        output.WriteLine($"{kind,-7} {string.Join(", ", results.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}"))}; " +
            $"{groups} fault groups, {resident} pages faulted in; invariants {(violations.Count == 0 ? "held" : string.Join("; ", violations))}");
        await loop.StopAsync();
        return violations.Count;
    }
}
