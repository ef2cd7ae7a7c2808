using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>A function wired to a scripted port and a recording observer.</summary>
public sealed class Rig
{
    public const ulong Base = 0x10_0000;

    private Rig(PriFunctionConfig config, PriFunction? physical)
    {
        Port = new ScriptedPort();
        Observer = new RecordingObserver();
        Function = new PriFunction(config, Port, Observer, physical);
        Port.Function = Function;
    }

    public ScriptedPort Port { get; }
    public RecordingObserver Observer { get; }
    public PriFunction Function { get; }
    public PriCapability Pri => Function.Pri;

    public static PriFunctionConfig Config(int pagesPerGroup = 4, uint capacity = 32, int device = 1, int function = 0) => new()
    {
        Name = $"dev{device}.{function}",
        Requester = RequesterId.From(0x3A, device, function),
        Capacity = capacity,
        PagesPerGroup = pagesPerGroup,
        RetryLimit = 16,
    };

    /// <summary>A function enabled by the host's sequence with <paramref name="credits"/> requested.</summary>
    public static Rig Enabled(uint credits, int pagesPerGroup = 4, uint capacity = 32, Func<PriFunctionConfig, PriFunctionConfig>? configure = null)
    {
        var rig = Create(pagesPerGroup, capacity, configure);
        Assert.Equal(PciEnableError.None, PciAts.EnableForPageRequests(rig.Function, credits, 0));
        Assert.Equal(0, rig.Function.ConfigViolations);
        return rig;
    }

    public static Rig Create(int pagesPerGroup = 4, uint capacity = 32, Func<PriFunctionConfig, PriFunctionConfig>? configure = null)
    {
        var config = Config(pagesPerGroup, capacity);
        return new Rig(configure is null ? config : configure(config), null);
    }

    /// <summary>A VF of this rig's function, with its own port; ATS and PASID enabled by the host (PRI is the PF's).</summary>
    public Rig VirtualFunction(int function = 1)
    {
        var vf = new Rig(Config(Function.Config.PagesPerGroup, device: Function.Requester.Device, function: function), Function);
        Assert.Equal(PciEnableError.NoPri, PciAts.EnableForPageRequests(vf.Function, 0, 0));
        Assert.True(vf.Function.Ats.Enabled);
        return vf;
    }

    /// <summary>Starts access <paramref name="id"/> over <paramref name="pages"/> pages from Base + id * 1 MiB.</summary>
    public DmaAccess Start(long id, int pages, bool write = false, PasidPrefix? prefix = null, ulong? address = null)
    {
        var access = new DmaAccess(id, prefix, address ?? Base + ((ulong)id << 20), pages, write);
        Function.StartAccess(access, Port.Now);
        return access;
    }

    public AccessResult? ResultOf(long id) => Observer.ResultOf(id);

    public ConfigWriteEffect WritePri(int offset, uint value) =>
        Function.WriteConfig(PriCapability.CapabilityId, offset, value, Port.Now);

    public uint ReadPri(int offset) => Function.ReadConfig(PriCapability.CapabilityId, offset);
}
