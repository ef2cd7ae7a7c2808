using Faultline.Pcie;

namespace Faultline.Tests.Pcie;

/// <summary>ATS and PASID capability register layouts (pcie.md §2).</summary>
public sealed class AtsPasidCapabilityTests
{
    [Theory]
    [InlineData(32, true, 0x20u)]  // depth 32 encodes as 0
    [InlineData(1, false, 0x01u)]
    [InlineData(31, true, 0x3Fu)]
    public void AtsCapabilityRegister(int depth, bool pageAligned, uint expected)
    {
        var ats = new AtsCapability(depth, pageAligned);
        Assert.Equal(expected, ats.Read(AtsCapability.CapabilityOffset));
        Assert.Equal(ConfigWriteEffect.None, ats.Write(AtsCapability.CapabilityOffset, 0));
        Assert.Equal(expected, ats.Read(AtsCapability.CapabilityOffset));
    }

    [Fact]
    public void AtsControlEnableBit15AndStu()
    {
        var ats = new AtsCapability();
        Assert.Equal(0u, ats.Read(AtsCapability.ControlOffset));
        Assert.Equal(ConfigWriteEffect.Enabled, ats.Write(AtsCapability.ControlOffset, 0x8000 | 0x1F));
        Assert.True(ats.Enabled);
        Assert.Equal(0x801Fu, ats.Read(AtsCapability.ControlOffset));
        Assert.Equal(ConfigWriteEffect.Disabled, ats.Write(AtsCapability.ControlOffset, 0x7FE3));
        Assert.Equal(0x03u, ats.Read(AtsCapability.ControlOffset));
        Assert.Equal(0x000F, AtsCapability.CapabilityId);
    }

    [Theory]
    [InlineData(false, false, 20, 0x1400u)]
    [InlineData(true, false, 8, 0x0802u)]
    [InlineData(true, true, 1, 0x0106u)]
    public void PasidCapabilityRegister(bool exe, bool priv, int width, uint expected)
    {
        var pasid = new PasidCapability(exe, priv, width);
        Assert.Equal(expected, pasid.Read(PasidCapability.CapabilityOffset));
        Assert.Equal(0u, pasid.Read(PasidCapability.ControlOffset));
        Assert.Equal(0x001B, PasidCapability.CapabilityId);
    }

    [Theory]
    [InlineData(true, true, 0x7u, 0x7u)]
    [InlineData(false, false, 0x7u, 0x1u)] // unsupported modes cannot be enabled
    [InlineData(true, false, 0x6u, 0x2u)]
    public void PasidControlBits(bool exe, bool priv, uint write, uint readBack)
    {
        var pasid = new PasidCapability(exe, priv);
        pasid.Write(PasidCapability.ControlOffset, write, atsEnabled: false);
        Assert.Equal(readBack, pasid.Read(PasidCapability.ControlOffset));
    }
}
