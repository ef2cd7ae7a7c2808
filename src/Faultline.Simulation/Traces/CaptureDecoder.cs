using System.Globalization;
using Faultline.Pcie;

namespace Faultline.Simulation.Traces;

/// <summary>
/// Turns a capture's lines into <see cref="CaptureEvent"/>s: the formats <see cref="FtraceWriter"/> writes, which are
/// the kernel's (drivers/iommu/intel/trace.h and iommu.h, arm-smmu-v3.c, amd/ppr.c and init.c, v6.12–v6.18). A
/// line of a known event whose text does not parse counts as malformed; any other event or log line says nothing.
/// </summary>
public static class CaptureDecoder
{
    /// <summary>The event the line carries, null when it carries none, and <paramref name="malformed"/> when its text is broken.</summary>
    public static CaptureEvent? Decode(in TraceLine line, out bool malformed)
    {
        malformed = false;
        CaptureEvent? e = line.Kind switch
        {
            TraceLineKind.Event => line.Event switch
            {
                "prq_report" => PrqReport(line.Text),
                "qi_submit" => QiSubmit(line.Text),
                "dev_fault" => DevFault(line.Text),
                "dev_page_response" => DevPageResponse(line.Text),
                _ => Nothing,
            },
            TraceLineKind.Log => Log(line.Text),
            _ => Nothing,
        };
        if (e is null)
        {
            malformed = true;
            return null;
        }
        if (e.Value.Kind == Unrecognised) return null;
        return e.Value with { Line = line.Number, TimeNs = line.TimeNs };
    }

    // A sentinel for "a line that says nothing of the fault path", apart from null ("broken").
    private const CaptureEventKind Unrecognised = (CaptureEventKind)(-1);
    private static readonly CaptureEvent Nothing = new() { Kind = Unrecognised, Iommu = "", IommuKind = "", Device = "" };

    /// <summary><c>"%s/%s seq# %ld: rid=0x%llx addr=0x%llx %c%c%c%c%c pasid=0x%llx index=0x%llx[ private=0x%llx/0x%llx]"</c>.</summary>
    private static CaptureEvent? PrqReport(string text)
    {
        var s = text.AsSpan();
        int slash = s.IndexOf('/'), seqAt = s.IndexOf(" seq# ");
        if (slash <= 0 || seqAt < slash) return null;
        var afterSeq = s[(seqAt + 6)..];
        int colon = afterSeq.IndexOf(':');
        if (colon <= 0 || !long.TryParse(afterSeq[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out long seq)) return null;
        var fields = afterSeq[(colon + 1)..];
        if (!Field(fields, "rid=0x", out ulong rid) || !Field(fields, "addr=0x", out ulong page) || !Field(fields, "pasid=0x", out ulong pasid)
            || !Field(fields, "index=0x", out ulong index) || rid > 0xFFFF || index > PrgIndex.Mask || pasid > Pasid.Mask || page > ulong.MaxValue >> 12)
            return null;
        // The five permission characters follow the address.
        int addrAt = fields.IndexOf("addr=0x");
        var afterAddr = fields[(addrAt + 7)..];
        int sp = afterAddr.IndexOf(' ');
        if (sp < 0 || afterAddr.Length < sp + 6) return null;
        var rwxpl = afterAddr.Slice(sp + 1, 5);
        if (!Flag(rwxpl[0], 'r') || !Flag(rwxpl[1], 'w') || !Flag(rwxpl[2], 'x') || !Flag(rwxpl[3], 'p') || !Flag(rwxpl[4], 'l')) return null;
        return new CaptureEvent
        {
            Kind = CaptureEventKind.PageRequest,
            Iommu = s[..slash].ToString(),
            IommuKind = "vtd",
            Device = s[(slash + 1)..seqAt].ToString(),
            Requester = (ushort)rid,
            Pasid = (uint)pasid,
            HasPasid = pasid != 0, // the trace does not print PASID-present: PASID 0 reads as none (BUG-8's RID)
            Index = (ushort)index,
            Read = rwxpl[0] == 'r',
            Write = rwxpl[1] == 'w',
            Execute = rwxpl[2] == 'x',
            Privileged = rwxpl[3] == 'p',
            Last = rwxpl[4] == 'l',
            Address = page << 12,
            Sequence = seq,
        };
    }

    /// <summary><c>"%s %s: 0x%llx 0x%llx 0x%llx 0x%llx"</c>: type name, IOMMU, QW0..QW3.</summary>
    private static CaptureEvent? QiSubmit(string text)
    {
        var s = text.AsSpan();
        int sp = s.IndexOf(' ');
        if (sp <= 0) return null;
        var rest = s[(sp + 1)..];
        int colon = rest.IndexOf(':');
        if (colon <= 0) return null;
        var words = rest[(colon + 1)..];
        Span<ulong> qw = stackalloc ulong[4];
        for (int i = 0; i < 4; i++)
        {
            words = words.TrimStart(' ');
            if (!words.StartsWith("0x")) return null;
            int end = words.IndexOf(' ');
            var word = end < 0 ? words[2..] : words[2..end];
            if (!ulong.TryParse(word, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out qw[i])) return null;
            words = end < 0 ? [] : words[end..];
        }
        if (!words.Trim().IsEmpty) return null;
        string iommu = rest[..colon].ToString();
        int type = (int)(qw[0] & 0xF);
        string name = s[..sp].ToString();
        if (FtraceWriter.QiTypeName(type) is { } expected && expected != name) return null;
        if (type == 9)
        {
            // Page group response: QW0 PASID-present 4, code 15:12, RID 31:16, PASID 51:32; QW1 LPIG 2, index 11:3.
            return new CaptureEvent
            {
                Kind = CaptureEventKind.Response,
                Iommu = iommu,
                IommuKind = "vtd",
                Device = "",
                Requester = (ushort)(qw[0] >> 16),
                HasPasid = (qw[0] & 0x10) != 0,
                Pasid = (uint)(qw[0] >> 32) & Pasid.Mask,
                Code = ResponseCodes.FromWire((int)(qw[0] >> 12)),
                Last = (qw[1] & 4) != 0,
                Index = (ushort)((qw[1] >> 3) & PrgIndex.Mask),
                Sequence = -1,
                Descriptor = (qw[0], qw[1], qw[2], qw[3]),
            };
        }
        return new CaptureEvent { Kind = CaptureEventKind.Invalidation, Iommu = iommu, IommuKind = "vtd", Device = "", Sequence = -1, Descriptor = (qw[0], qw[1], qw[2], qw[3]) };
    }

    /// <summary><c>"IOMMU:%s type=%d reason=%d addr=0x%016llx fetch=0x%016llx pasid=%d group=%d flags=%x prot=%d"</c>.</summary>
    private static CaptureEvent? DevFault(string text)
    {
        var s = text.AsSpan();
        if (!s.StartsWith("IOMMU:")) return null;
        int sp = s.IndexOf(' ');
        if (sp <= 6) return null;
        var fields = s[sp..];
        if (!Field(fields, "addr=0x", out ulong addr) || !Decimal(fields, "pasid=", out ulong pasid) || !Decimal(fields, "group=", out ulong group)
            || !Field(fields, "flags=", out ulong flags) || !Decimal(fields, "prot=", out ulong prot) || pasid > Pasid.Mask || group > ushort.MaxValue)
            return null;
        return new CaptureEvent
        {
            Kind = CaptureEventKind.PageRequest,
            Iommu = Word(fields, " iommu="),
            IommuKind = Word(fields, " kind="),
            Device = s[6..sp].ToString(),
            Pasid = (uint)pasid,
            HasPasid = (flags & 1) != 0,
            Last = (flags & 2) != 0,
            Index = (ushort)group,
            Read = (prot & 1) != 0,
            Write = (prot & 2) != 0,
            Execute = (prot & 4) != 0,
            Privileged = (prot & 8) != 0,
            Address = addr,
            Sequence = -1,
            Stall = fields.Contains(" stall=1", StringComparison.Ordinal),
        };
    }

    /// <summary><c>"IOMMU:%s code=%d pasid=%d group=%d"</c>; codes are <c>IOMMU_PAGE_RESP_*</c> (0 success, 1 invalid, 2 failure).</summary>
    private static CaptureEvent? DevPageResponse(string text)
    {
        var s = text.AsSpan();
        if (!s.StartsWith("IOMMU:")) return null;
        int sp = s.IndexOf(' ');
        if (sp <= 6) return null;
        var fields = s[sp..];
        if (!Decimal(fields, "code=", out ulong code) || !Decimal(fields, "pasid=", out ulong pasid) || !Decimal(fields, "group=", out ulong group)
            || code > 2 || pasid > Pasid.Mask || group > ushort.MaxValue)
            return null;
        return new CaptureEvent
        {
            Kind = CaptureEventKind.Response,
            Iommu = Word(fields, " iommu="),
            IommuKind = Word(fields, " kind="),
            Device = s[6..sp].ToString(),
            Pasid = (uint)pasid,
            HasPasid = pasid != 0,
            Index = (ushort)group,
            Last = true,
            Code = code switch { 0 => ResponseCode.Success, 1 => ResponseCode.InvalidRequest, _ => ResponseCode.ResponseFailure },
            Sequence = -1,
        };
    }

    /// <summary>The kernel log lines that speak of the fault path; every other line is nothing to the checker.</summary>
    private static CaptureEvent? Log(string text)
    {
        var s = text.AsSpan();
        // DMAR: IOMMU: %s: PRQ overflow detected / cleared (intel/prq.c)
        if (s.StartsWith("DMAR: IOMMU: ") && s.EndsWith(": PRQ overflow detected"))
            return Sign(CaptureEventKind.Overflow, s["DMAR: IOMMU: ".Length..^": PRQ overflow detected".Length], "vtd");
        if (s.StartsWith("DMAR: IOMMU: ") && s.EndsWith(": PRQ overflow cleared"))
            return Sign(CaptureEventKind.OverflowCleared, s["DMAR: IOMMU: ".Length..^": PRQ overflow cleared".Length], "vtd");
        // AMD-Vi: IOMMU PPR log restarting (amd/init.c amd_iommu_restart_log): the overflow is over, requests were lost.
        if (s.SequenceEqual("AMD-Vi: IOMMU PPR log restarting")) return Sign(CaptureEventKind.OverflowCleared, "", "amd");
        if (s.StartsWith("faultline: ") && s.Contains(": PRI reset", StringComparison.Ordinal))
        {
            var rest = s["faultline: ".Length..];
            return new CaptureEvent { Kind = CaptureEventKind.PriReset, Iommu = "", IommuKind = "", Device = rest[..rest.IndexOf(':')].ToString(), Sequence = -1 };
        }
        if (s.StartsWith("arm-smmu-v3 "))
        {
            int colon = s.IndexOf(": ");
            if (colon < 0) return Nothing;
            var smmu = s["arm-smmu-v3 ".Length..colon];
            var message = s[(colon + 2)..].TrimStart('\t').TrimStart(' ');
            if (message.SequenceEqual("PRIQ overflow detected -- requests lost")) return Sign(CaptureEventKind.Overflow, smmu, "smmuv3");
            if (message.StartsWith("sid 0x")) return SmmuPriRequest(smmu.ToString(), message);
        }
        return Nothing;
    }

    /// <summary>
    /// <c>"\tsid 0x%08x.0x%05x: [%u%s] %sprivileged %s%s%s access at iova 0x%016llx"</c> (arm_smmu_handle_ppr, R38):
    /// a request the driver answers itself, Deny, when it is the last of its group.
    /// </summary>
    private static CaptureEvent? SmmuPriRequest(string smmu, ReadOnlySpan<char> s)
    {
        int dot = s.IndexOf('.'), colon = s.IndexOf(':'), open = s.IndexOf('['), close = s.IndexOf(']'), iova = s.IndexOf("iova 0x");
        if (dot < 0 || colon < dot || open < colon || close < open || iova < close) return null;
        if (!ulong.TryParse(s[6..dot], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong sid)
            || !s[(dot + 1)..].StartsWith("0x")
            || !ulong.TryParse(s[(dot + 3)..colon], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong ssid)
            || !ulong.TryParse(s[(iova + 7)..].TrimEnd(), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out ulong address))
            return null;
        var group = s[(open + 1)..close];
        bool last = group.EndsWith('L');
        if (last) group = group[..^1];
        if (!ushort.TryParse(group, NumberStyles.None, CultureInfo.InvariantCulture, out ushort index) || index > PrgIndex.Mask || ssid > Pasid.Mask) return null;
        var access = s[(close + 1)..iova];
        int privileged = access.IndexOf("privileged ");
        if (privileged < 0) return null;
        var rwx = access[(privileged + "privileged ".Length)..];
        int word = rwx.IndexOf("access");
        if (word < 0) return null;
        rwx = rwx[..word];
        return new CaptureEvent
        {
            Kind = CaptureEventKind.PageRequest,
            Iommu = smmu,
            IommuKind = "smmuv3",
            Device = $"sid 0x{sid:x}",
            Pasid = (uint)ssid,
            HasPasid = ssid != 0,
            Index = index,
            Last = last,
            Privileged = !access.TrimStart().StartsWith("un"),
            Read = rwx.Contains('R'),
            Write = rwx.Contains('W'),
            Execute = rwx.Contains('X'),
            Address = address,
            Sequence = -1,
            DeniedByDriver = true,
        };
    }

    /// <summary>A word of Faultline's suffix of dev_fault and dev_page_response (<c>iommu=NAME kind=KIND</c>); "" on a kernel that prints none.</summary>
    private static string Word(ReadOnlySpan<char> fields, string key)
    {
        int at = fields.IndexOf(key);
        if (at < 0) return "";
        var v = fields[(at + key.Length)..];
        int end = v.IndexOf(' ');
        return (end < 0 ? v : v[..end]).ToString();
    }

    private static CaptureEvent Sign(CaptureEventKind kind, ReadOnlySpan<char> iommu, string iommuKind) =>
        new() { Kind = kind, Iommu = iommu.ToString(), IommuKind = iommuKind, Device = "", Sequence = -1 };

    private static bool Flag(char c, char set) => c == set || c == '-';

    /// <summary>The hex number after <paramref name="key"/> (which ends in "0x" where the format prints one), up to a space.</summary>
    private static bool Field(ReadOnlySpan<char> s, string key, out ulong value)
    {
        value = 0;
        int at = s.IndexOf(key);
        if (at < 0) return false;
        var v = s[(at + key.Length)..];
        int end = v.IndexOfAny(' ', '\n');
        return ulong.TryParse(end < 0 ? v : v[..end], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    private static bool Decimal(ReadOnlySpan<char> s, string key, out ulong value)
    {
        value = 0;
        int at = s.IndexOf(" " + key);
        if (at < 0) return false;
        var v = s[(at + 1 + key.Length)..];
        int end = v.IndexOf(' ');
        return ulong.TryParse(end < 0 ? v : v[..end], NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
