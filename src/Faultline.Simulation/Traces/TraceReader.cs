namespace Faultline.Simulation.Traces;

/// <summary>
/// Reads a capture line by line, in constant memory whatever its size, and hands on its events and log lines in
/// time order: lines of different CPUs that come out of order (a merged or concatenated capture) are put back in
/// order within a window of <see cref="Window"/> lines; a line later than that is passed on where it stands and
/// counted. Malformed lines are counted and the first of them located; nothing in the input makes it throw.
/// </summary>
public sealed class TraceReader
{
    /// <summary>How many malformed lines are located by number; the rest are only counted.</summary>
    public const int MalformedLocated = 100;

    private readonly TextReader _input;
    private readonly List<long> _malformedAt = [];

    /// <summary>A reader of <paramref name="input"/>, reordering within <paramref name="window"/> lines.</summary>
    public TraceReader(TextReader input, int window = 4096)
    {
        _input = input;
        Window = Math.Max(1, window);
    }

    /// <summary>Lines held back to restore time order.</summary>
    public int Window { get; }
    /// <summary>Lines read so far.</summary>
    public long Lines { get; private set; }
    /// <summary>Tracepoint lines read.</summary>
    public long Events { get; private set; }
    /// <summary>Kernel log lines read (dmesg, or the console event).</summary>
    public long LogLines { get; private set; }
    /// <summary>Lines of no layout the reader knows, or cut short.</summary>
    public long Malformed { get; private set; }
    /// <summary>The numbers of the first <see cref="MalformedLocated"/> malformed lines.</summary>
    public IReadOnlyList<long> MalformedAt => _malformedAt;
    /// <summary>Lines that came earlier in the file than their time says, and were put back in order.</summary>
    public long Reordered { get; private set; }
    /// <summary>Lines too far out of order for the window: passed on late.</summary>
    public long LateLines { get; private set; }

    /// <summary>A line found malformed after it was split (its event's text broken): counted and located with the rest.</summary>
    public void MarkMalformed(long line)
    {
        Malformed++;
        if (_malformedAt.Count < MalformedLocated) _malformedAt.Add(line);
    }

    /// <summary>The events and log lines, in time order (file order among equal times).</summary>
    public IEnumerable<TraceLine> Read()
    {
        var window = new PriorityQueue<TraceLine, (long Time, long Number)>();
        long lastIn = long.MinValue, lastOut = long.MinValue;
        while (ReadLine() is { } text)
        {
            var line = TraceLineParser.Parse(text, ++Lines);
            switch (line.Kind)
            {
                case TraceLineKind.Ignored:
                    continue;
                case TraceLineKind.Malformed:
                    MarkMalformed(line.Number);
                    continue;
                case TraceLineKind.Event:
                    Events++;
                    break;
                case TraceLineKind.Log:
                    LogLines++;
                    break;
            }
            if (line.TimeNs < lastIn) Reordered++;
            lastIn = Math.Max(lastIn, line.TimeNs);
            window.Enqueue(line, (line.TimeNs, line.Number));
            if (window.Count > Window) yield return Out(window.Dequeue(), ref lastOut);
        }
        while (window.Count > 0) yield return Out(window.Dequeue(), ref lastOut);
    }

    private TraceLine Out(in TraceLine line, ref long lastOut)
    {
        if (line.TimeNs < lastOut) LateLines++;
        else lastOut = line.TimeNs;
        return line;
    }

    /// <summary>Why reading stopped before the end of the input, or null.</summary>
    public string? ReadError { get; private set; }

    /// <summary>A line, or null at the end; an I/O error ends the input and is kept in <see cref="ReadError"/>.</summary>
    private string? ReadLine()
    {
        try
        {
            return _input.ReadLine();
        }
        catch (IOException e)
        {
            ReadError = e.Message;
            return null;
        }
    }
}
