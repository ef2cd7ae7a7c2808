using Faultline.Pcie;

namespace Faultline.Tests.Pcie;

/// <summary>Page Request / Stop Marker / PRG Response payloads and ids (pcie.md §3).</summary>
public sealed class MessageTests
{
    private static readonly RequesterId Rid = RequesterId.From(0x3A, 2, 1);

    [Theory]
    [InlineData(true, false, true, 0x1FF, 0x0000_1234_5678_9000UL, 0x0000_1234_5678_9FFDUL)]
    [InlineData(false, true, false, 0x001, 0xFFFF_FFFF_FFFF_F000UL, 0xFFFF_FFFF_FFFF_F00AUL)]
    [InlineData(false, false, false, 0x100, 0UL, 0x0000_0000_0000_0800UL)]
    [InlineData(true, true, true, 0x0AA, 0x0000_0000_0000_1000UL, 0x0000_0000_0000_1557UL)]
    [InlineData(true, false, false, 0x000, 0x0000_0000_0000_1FFFUL, 0x0000_0000_0000_1001UL)] // low address bits dropped
    public void PageRequestPayloadBits(bool r, bool w, bool l, int index, ulong address, ulong payload)
    {
        var request = new PageRequest(Rid, r, w, l, PrgIndex.Create(index), address, null);
        Assert.Equal(payload, request.Payload);
    }

    [Theory]
    [InlineData(0x0000_1234_5678_9FFDUL, true, false, true, 0x1FF, 0x0000_1234_5678_9000UL)]
    [InlineData(0xFFFF_FFFF_FFFF_F00AUL, false, true, false, 0x001, 0xFFFF_FFFF_FFFF_F000UL)]
    [InlineData(0x0000_0000_0000_1557UL, true, true, true, 0x0AA, 0x0000_0000_0000_1000UL)]
    public void PageRequestFromPayloadDecodesEveryField(ulong payload, bool r, bool w, bool l, int index, ulong address)
    {
        var prefix = new PasidPrefix(Pasid.Create(0xABCDE), true, false);
        var request = PageRequest.FromPayload(Rid, payload, prefix);
        Assert.Equal(new PageRequest(Rid, r, w, l, PrgIndex.Create(index), address, prefix), request);
        Assert.Equal(payload, request.Payload);
    }

    [Fact]
    public void PageRequestRoundTripsForEveryIndexAndFlagCombination()
    {
        for (int index = 0; index < PrgIndex.Count; index += 37)
        {
            for (int flags = 0; flags < 8; flags++)
            {
                var original = new PageRequest(Rid, (flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0,
                    PrgIndex.Create(index), (ulong)index * 0x1_0000_1000UL & PageRequest.PageMask, null);
                Assert.Equal(original, PageRequest.FromPayload(Rid, original.Payload, null));
            }
        }
    }

    [Theory]
    [InlineData(true, true, false, false, true)]
    [InlineData(false, true, false, false, false)] // no PASID: an ordinary (odd) page request
    [InlineData(true, false, false, false, false)] // L = 0
    [InlineData(true, true, true, false, false)]
    [InlineData(true, true, false, true, false)]
    public void IsStopMarkerOnlyWithPasidLastAndNoAccess(bool pasid, bool last, bool read, bool write, bool expected)
    {
        var request = new PageRequest(Rid, read, write, last, PrgIndex.Create(3), 0,
            pasid ? new PasidPrefix(Pasid.Create(7), false, false) : null);
        Assert.Equal(expected, request.IsStopMarker);
    }

    [Fact]
    public void StopMarkerFactory()
    {
        var marker = PageRequest.StopMarker(Rid, Pasid.Create(0x55), PrgIndex.Create(0x12));
        Assert.True(marker.IsStopMarker);
        Assert.Equal(0x12UL << 3 | 4, marker.Payload);
        Assert.Equal(Pasid.Create(0x55), marker.Prefix!.Value.Pasid);
    }

    [Theory]
    [InlineData(0x1FF, 0xF, 0xABCD, 0xABCD_F1FF_0000_0000UL)]
    [InlineData(0x005, 0x1, 0x0100, 0x0100_1005_0000_0000UL)]
    [InlineData(0x000, 0x0, 0x0000, 0UL)]
    [InlineData(0x100, 0x2, 0x0008, 0x0008_2100_0000_0000UL)]
    public void PrgResponsePayloadBits(int index, int code, int rid, ulong payload)
    {
        var response = new PrgResponse(new RequesterId((ushort)rid), PrgIndex.Create(index), ResponseCodes.FromWire(code), null);
        Assert.Equal(payload, response.Payload);
        Assert.Equal(0UL, response.Payload & 0x0000_0E00_FFFF_FFFFUL); // bits 31:0 and 43:41 are 0
    }

    [Theory]
    [InlineData(0x0, false)]
    [InlineData(0x1, false)]
    [InlineData(0xF, false)]
    [InlineData(0x2, true)]
    [InlineData(0x7, true)]
    [InlineData(0xE, true)]
    public void ResponseCodeReserved(int wire, bool reserved)
    {
        Assert.Equal(reserved, ResponseCodes.FromWire(wire).IsReserved());
    }

    [Fact]
    public void ResponseCodeWireValuesAndNames()
    {
        Assert.Equal((0, 1, 0xF), ((int)ResponseCode.Success, (int)ResponseCode.InvalidRequest, (int)ResponseCode.ResponseFailure));
        Assert.Equal(ResponseCode.ResponseFailure, ResponseCodes.FromWire(0x1F));
        Assert.Equal((ResponseCode)0x2, ResponseCodes.FromWire(0x12));
        Assert.Equal("Reserved2h", ResponseCodes.FromWire(2).Name());
        Assert.Equal("InvalidRequest", ResponseCode.InvalidRequest.Name());
    }

    [Theory]
    [InlineData(0x3A, 0x1F, 7, 0x3AFF)]
    [InlineData(0, 1, 0, 0x0008)]
    [InlineData(0xAB, 0x19, 5, 0xABCD)]
    [InlineData(0xFF, 0, 0, 0xFF00)]
    public void RequesterIdBusDeviceFunction(int bus, int device, int function, int value)
    {
        var rid = RequesterId.From(bus, device, function);
        Assert.Equal(value, rid.Value);
        Assert.Equal((bus, device, function), (rid.Bus, rid.Device, rid.Function));
    }

    [Theory]
    [InlineData(0x100, 0, 0)]
    [InlineData(0, 0x20, 0)]
    [InlineData(0, 0, 8)]
    [InlineData(-1, 0, 0)]
    public void RequesterIdRejectsOutOfRangeFields(int bus, int device, int function)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RequesterId.From(bus, device, function));
    }

    [Fact]
    public void PrgIndexIsNineBits()
    {
        Assert.Equal(511, PrgIndex.Create(511).Value);
        Assert.Throws<ArgumentOutOfRangeException>(() => PrgIndex.Create(512));
        Assert.Throws<ArgumentOutOfRangeException>(() => PrgIndex.Create(-1));
    }
}
