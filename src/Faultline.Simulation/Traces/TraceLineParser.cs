namespace Faultline.Simulation.Traces;

/// <summary>
/// Splits a line of a capture in any of the layouts an engineer has at hand, never throwing:
/// <list type="bullet">
/// <item>tracefs (<c>/sys/kernel/tracing/trace</c>, <c>trace_pipe</c>):
/// <c>"    irq/45-dmar0-pr-123     [000] d.... 12.345678: prq_report: ..."</c>, with or without the flags column
/// and the <c>(tgid)</c> column;</item>
/// <item><c>trace-cmd report</c>: the same without the flags (<c>-l</c> adds them), after a header of
/// <c>version = 6</c>, <c>cpus=2</c>, <c>CPU 1 is empty</c> lines;</item>
/// <item>a kernel log (<c>dmesg</c>): <c>"[   12.345678] DMAR: ..."</c>.</item>
/// </list>
/// </summary>
public static class TraceLineParser
{
    /// <summary>The line, classified; a CR left by a CRLF file is ignored.</summary>
    public static TraceLine Parse(string line, long number)
    {
        var s = line.AsSpan().TrimEnd('\r');
        var trimmed = s.TrimStart();
        if (trimmed.IsEmpty || trimmed[0] == '#' || IsReportHeader(trimmed)) return new TraceLine(TraceLineKind.Ignored, number, 0, -1, "", "");
        if (trimmed[0] == '[')
        {
            // A kernel log line: "[ seconds.micros] message".
            int close = trimmed.IndexOf(']');
            if (close < 0 || !TryTime(trimmed[1..close].Trim(), out long t)) return Malformed(number);
            return new TraceLine(TraceLineKind.Log, number, t, -1, "", trimmed[(close + 1)..].TrimStart(' ').ToString());
        }
        return ParseEvent(s, number);
    }

    private static TraceLine ParseEvent(ReadOnlySpan<char> s, long number)
    {
        // The CPU column "[NNN]" follows "task-pid" (and an optional "(tgid)"); a task name may hold spaces, dashes and brackets.
        int cpuOpen = -1, cpuClose = -1;
        for (int i = s.IndexOf(" ["); i >= 0 && i < s.Length;)
        {
            int close = s[(i + 2)..].IndexOf(']');
            if (close > 0 && AllDigits(s.Slice(i + 2, close)))
            {
                cpuOpen = i + 1;
                cpuClose = i + 2 + close;
                break;
            }
            int next = s[(i + 2)..].IndexOf(" [");
            i = next < 0 ? -1 : i + 2 + next;
        }
        if (cpuOpen < 0 || !int.TryParse(s[(cpuOpen + 1)..cpuClose], out int cpu)) return Malformed(number);
        var head = s[..cpuOpen].TrimEnd();
        if (head.EndsWith(')'))
        {
            int tgid = head.LastIndexOf('('); // the tgid column
            if (tgid < 0) return Malformed(number);
            head = head[..tgid].TrimEnd();
        }
        int dash = head.LastIndexOf('-');
        if (dash < 0 || !AllDigits(head[(dash + 1)..])) return Malformed(number);

        var rest = s[(cpuClose + 1)..].TrimStart(' ');
        // Optional latency flags ("d.h1." and the like), then "seconds.fraction:".
        int space = rest.IndexOf(' ');
        if (space > 0 && !IsTimeStamp(rest[..space])) rest = rest[(space + 1)..].TrimStart(' ');
        int colon = rest.IndexOf(':');
        if (colon < 0 || !TryTime(rest[..colon], out long time)) return Malformed(number);
        rest = rest[(colon + 1)..].TrimStart(' ');
        int nameEnd = rest.IndexOf(':');
        if (nameEnd <= 0 || rest[..nameEnd].ContainsAny(' ', '\t')) return Malformed(number);
        string name = rest[..nameEnd].ToString();
        var text = rest[(nameEnd + 1)..];
        text = text.TrimStart(' '); // one space in tracefs, padding in trace-cmd report
        if (name == "console")
        {
            // Some kernels put the log's own time stamp in the message.
            var t = text.TrimStart(' ');
            if (!t.IsEmpty && t[0] == '[' && t.IndexOf(']') is > 0 and var close && TryTime(t[1..close].Trim(), out _)) text = t[(close + 1)..].TrimStart(' ');
            return new TraceLine(TraceLineKind.Log, number, time, cpu, name, text.ToString());
        }
        return new TraceLine(TraceLineKind.Event, number, time, cpu, name, text.ToString());
    }

    private static bool IsReportHeader(ReadOnlySpan<char> s) =>
        s.StartsWith("version =") || s.StartsWith("cpus=") || (s.StartsWith("CPU") && (s.EndsWith("is empty") || s.Contains("data recorded", StringComparison.Ordinal)));

    private static bool IsTimeStamp(ReadOnlySpan<char> s) => s.Length > 1 && s[^1] == ':' && TryTime(s[..^1], out _);

    /// <summary>"seconds.fraction" (any number of fraction digits) to nanoseconds.</summary>
    internal static bool TryTime(ReadOnlySpan<char> s, out long ns)
    {
        ns = 0;
        int dot = s.IndexOf('.');
        var whole = dot < 0 ? s : s[..dot];
        var fraction = dot < 0 ? [] : s[(dot + 1)..];
        if (whole.IsEmpty || whole.Length > 10 || !AllDigits(whole) || fraction.Length > 9 || (dot >= 0 && (fraction.IsEmpty || !AllDigits(fraction)))) return false;
        long seconds = long.Parse(whole);
        long frac = fraction.IsEmpty ? 0 : long.Parse(fraction);
        for (int i = fraction.Length; i < 9; i++) frac *= 10;
        ns = seconds * 1_000_000_000 + frac;
        return true;
    }

    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty) return false;
        foreach (char c in s) if (c is < '0' or > '9') return false;
        return true;
    }

    private static TraceLine Malformed(long number) => new(TraceLineKind.Malformed, number, 0, -1, "", "");
}
