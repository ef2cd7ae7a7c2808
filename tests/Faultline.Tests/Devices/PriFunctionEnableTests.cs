using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

/// <summary>Enable order and address alignment: H-PCI-16, H-PCI-17, R34.</summary>
public sealed class PriFunctionEnableTests
{
    [Fact]
    public void H_PCI_16_EnablingPasidAfterAtsIsAViolation()
    {
        var rig = Rig.Create();
        Assert.Equal(ConfigWriteEffect.Enabled, rig.Function.WriteConfig(AtsCapability.CapabilityId, AtsCapability.ControlOffset, AtsCapability.ControlEnable, 0));

        var effect = rig.Function.WriteConfig(PasidCapability.CapabilityId, PasidCapability.ControlOffset, 1, 0);

        Assert.Equal(ConfigWriteEffect.Enabled | ConfigWriteEffect.ProtocolViolation, effect);
        Assert.Equal(1, rig.Function.ConfigViolations);
    }

    [Fact]
    public void H_PCI_16_EnablingPriWithAtsDisabledIsAViolation()
    {
        var rig = Rig.Create();
        rig.Function.WriteConfig(PasidCapability.CapabilityId, PasidCapability.ControlOffset, 1, 0);
        rig.WritePri(PriCapability.AllocationOffset, 4);

        var effect = rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlEnable);

        Assert.True(effect.HasFlag(ConfigWriteEffect.ProtocolViolation));
        Assert.Equal(1, rig.Function.ConfigViolations);
    }

    [Fact]
    public void H_PCI_16_PasidThenAtsThenPriIsClean()
    {
        var rig = Rig.Create();
        Assert.Equal(ConfigWriteEffect.Enabled, rig.Function.WriteConfig(PasidCapability.CapabilityId, PasidCapability.ControlOffset, 1, 0));
        Assert.Equal(ConfigWriteEffect.Enabled, rig.Function.WriteConfig(AtsCapability.CapabilityId, AtsCapability.ControlOffset, AtsCapability.ControlEnable, 0));
        rig.WritePri(PriCapability.AllocationOffset, 4);
        Assert.Equal(ConfigWriteEffect.Enabled, rig.WritePri(PriCapability.ControlOffset, PriCapability.ControlEnable));
        Assert.Equal(0, rig.Function.ConfigViolations);
    }

    [Fact]
    public void H_PCI_16_HostSequenceWritesPasidThenAtsThenResetAllocationEnable()
    {
        var rig = Rig.Create(capacity: 16, configure: c => c with { ExecuteSupported = true });
        var recorder = new RecordingConfigSpace(rig.Function);

        Assert.Equal(PciEnableError.None, PciAts.EnableForPageRequests(recorder, 64, 0));

        Assert.Equal(
        [
            (PasidCapability.CapabilityId, PasidCapability.ControlOffset, 0x3u),
            (AtsCapability.CapabilityId, AtsCapability.ControlOffset, (uint)AtsCapability.ControlEnable),
            (PriCapability.CapabilityId, PriCapability.ControlOffset, (uint)PriCapability.ControlReset),
            (PriCapability.CapabilityId, PriCapability.AllocationOffset, 16u),
            (PriCapability.CapabilityId, PriCapability.ControlOffset, (uint)PriCapability.ControlEnable),
        ], recorder.Writes);
        Assert.All(recorder.Effects, e => Assert.False(e.HasFlag(ConfigWriteEffect.ProtocolViolation)));
        Assert.Equal(0, rig.Function.ConfigViolations);
        Assert.True(rig.Function.Pasid!.Enabled && rig.Function.Pasid.ExecuteEnabled && !rig.Function.Pasid.PrivilegedEnabled);
        Assert.True(rig.Function.Ats.Enabled);
        Assert.True(rig.Pri.Enabled);
    }

    [Fact]
    public void H_PCI_16_AccessNeedsAtsAndPasidEnabled()
    {
        var rig = Rig.Create();
        rig.Start(1, 1);
        Assert.Equal(AccessResult.CapabilityDisabled, rig.ResultOf(1));

        rig.Function.WriteConfig(AtsCapability.CapabilityId, AtsCapability.ControlOffset, AtsCapability.ControlEnable, 0);
        rig.Start(2, 1, prefix: new PasidPrefix(Pasid.Create(5), false, false));
        Assert.Equal(AccessResult.CapabilityDisabled, rig.ResultOf(2));
        Assert.Empty(rig.Port.TranslationRequests);
    }

    [Theory]
    [InlineData(0x1234_5678UL)]
    [InlineData(0xFFFUL)]
    [InlineData(0x7FFF_FFFF_F001UL)]
    [InlineData(0x40_0000UL)]
    public void H_PCI_17_PageRequestAddressesArePageAligned(ulong address)
    {
        var rig = Rig.Enabled(32, pagesPerGroup: 4);
        var prefix = new PasidPrefix(Pasid.Create(0x42), false, false);
        rig.Start(1, 3, prefix: prefix, address: address);
        rig.Port.Deny();

        var expected = Enumerable.Range(0, 3).Select(i => (address & ~0xFFFUL) + ((ulong)i << 12)).ToList();
        Assert.Equal(expected, rig.Port.TranslationRequests.Select(t => t.Address));
        Assert.Equal(expected, rig.Port.PageRequests.Select(r => r.PageAddress));
        Assert.All(rig.Port.PageRequests, r => Assert.Equal(r.PageAddress, r.Payload & PageRequest.PageMask));
        Assert.All(rig.Port.PageRequests, r => Assert.Equal(0UL, r.PageAddress & 0xFFF));
        Assert.All(rig.Port.PageRequests, r => Assert.Equal(prefix, r.Prefix));
    }

    [Fact]
    public void H_PCI_17_HostRefusesAtsWithoutPageAlignedRequest()
    {
        var rig = Rig.Create(configure: c => c with { PageAlignedRequest = false });
        Assert.Equal(0u, rig.Function.ReadConfig(AtsCapability.CapabilityId, AtsCapability.CapabilityOffset) & (1u << 5));

        Assert.Equal(PciEnableError.AtsUnusable, PciAts.EnableForPageRequests(rig.Function, 8, 0));

        Assert.False(rig.Function.Ats.Enabled);
        Assert.False(rig.Pri.Enabled);
    }

    [Fact]
    public void R34_HostRefusesPriWhenPasidFunctionDoesNotRequirePasidInResponses()
    {
        var rig = Rig.Create(configure: c => c with { PrgResponsePasidRequired = false });
        Assert.Equal(0u, rig.ReadPri(PriCapability.StatusOffset) & PriCapability.StatusPrgResponsePasidRequired);

        Assert.Equal(PciEnableError.PrgResponsePasidNotRequired, PciAts.EnableForPageRequests(rig.Function, 8, 0));

        Assert.False(rig.Pri.Enabled);
        Assert.Equal(0u, rig.ReadPri(PriCapability.AllocationOffset));
    }

    [Fact]
    public void R34_FunctionWithoutPasidNeedNotRequirePasidInResponses()
    {
        var rig = Rig.Create(configure: c => c with { PrgResponsePasidRequired = false, PasidSupported = false });
        Assert.False(rig.Function.HasCapability(PasidCapability.CapabilityId));

        Assert.Equal(PciEnableError.None, PciAts.EnableForPageRequests(rig.Function, 8, 0));

        Assert.True(rig.Pri.Enabled);
        Assert.Equal(8u, rig.Pri.Allocation);
    }
}
