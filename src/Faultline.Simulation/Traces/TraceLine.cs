namespace Faultline.Simulation.Traces;

/// <summary>What one line of a capture is.</summary>
public enum TraceLineKind
{
    /// <summary>A comment, a header line of tracefs or <c>trace-cmd report</c>, or a blank line.</summary>
    Ignored,
    /// <summary>A tracepoint hit: <see cref="TraceLine.Event"/> and its text.</summary>
    Event,
    /// <summary>A kernel log line: a <c>dmesg</c> line, or the <c>console</c> event carrying one.</summary>
    Log,
    /// <summary>Not a line of any layout the reader knows, or one cut short.</summary>
    Malformed,
}

/// <summary>
/// One line of a capture, split into its context and its text: <see cref="Event"/> is the tracepoint's name and
/// <see cref="Text"/> what its <c>TP_printk</c> printed (for a log line, the message without its time stamp).
/// </summary>
/// <param name="Number">The line's number in the file, from 1.</param>
/// <param name="TimeNs">The time stamp in nanoseconds, as printed (tracefs prints microseconds).</param>
/// <param name="Cpu">The CPU column, or -1 where the layout has none (a kernel log).</param>
public readonly record struct TraceLine(TraceLineKind Kind, long Number, long TimeNs, int Cpu, string Event, string Text);
