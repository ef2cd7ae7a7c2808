using System.Globalization;
using System.IO.Compression;
using System.Text.Encodings.Web;
using System.Text.Json;
using Faultline.Host;

namespace Faultline.Simulation;

/// <summary>
/// The run as a trace in the Chrome trace-event JSON format, which Perfetto (ui.perfetto.dev) and
/// chrome://tracing open: a process per IOMMU and per device; on an IOMMU a track per driver thread
/// (its batches), per worker (the group it ran) and counters (ring and stall-buffer occupancy); on a
/// device the page request groups from first request to PRG Response, stall-master accesses, PASID
/// teardowns and guest actions; invariant violations as global instants. Timestamps are virtual
/// time in microseconds with nanosecond digits, so the same scenario and seed give the same bytes.
/// <para>
/// Events go to the stream as they come (issue 13 item 5: the trace was held in memory, 787 MB resident
/// for a 154 MB file), so the recorder's memory is its name tables and the last value of each counter.
/// A process's and a thread's names are written where they first appear; <see cref="Complete"/> closes the array.
/// </para>
/// </summary>
public sealed class TraceRecorder : IHostTrace, IDisposable
{
    /// <summary>Bytes the JSON writer holds before it hands them to the stream.</summary>
    private const int FlushThreshold = 64 * 1024;

    private readonly Stream _output;
    private readonly Utf8JsonWriter _json;
    private readonly TraceFilter? _filter;
    private readonly Dictionary<string, int> _processes = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Pid, string Thread), int> _threads = new();
    private readonly Dictionary<int, int> _threadsPerProcess = new();
    private readonly Dictionary<(int Pid, string Name), long> _counters = new();
    private long _nextAsyncId;
    private bool _completed;

    /// <summary>A trace kept in memory, read with <see cref="ToArray"/>: for tests and small runs.</summary>
    public TraceRecorder(TraceFilter? filter = null) : this(new MemoryStream(), filter) { }

    /// <summary>A trace written to <paramref name="output"/> while the run goes; the recorder owns the stream.</summary>
    public TraceRecorder(Stream output, TraceFilter? filter = null)
    {
        _output = output;
        _filter = filter;
        _json = new Utf8JsonWriter(_output, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _json.WriteStartObject();
        _json.WriteString("displayTimeUnit", "ns");
        _json.WriteStartArray("traceEvents");
    }

    /// <summary>A trace written to the file at <paramref name="path"/>, gzip-compressed when its name ends in <c>.gz</c>.</summary>
    public static TraceRecorder Create(string path, TraceFilter? filter = null)
    {
        Stream file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16);
        return new TraceRecorder(path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionLevel.Optimal) : file, filter);
    }

    /// <summary>Numbers a process now, so processes are listed in the order the topology declares them.</summary>
    public void Process(string process) => Pid(process);

    /// <summary>A span on a thread of a process (ph X); spans on one thread must nest.</summary>
    public void Span(string process, string thread, string name, long startNs, long durationNs, string category, params (string Key, string Value)[] args)
    {
        if (!Keeps(process, category)) return;
        Begin("X", name, category, Pid(process), Tid(process, thread), startNs, out var id);
        _json.WriteNumber("dur", Micros(durationNs));
        Args(args, id);
        End();
    }

    /// <summary>An interval that may overlap others on its track (nestable async b/e pair).</summary>
    public void Interval(string process, string track, string name, long startNs, long endNs, string category, params (string Key, string Value)[] args)
    {
        if (!Keeps(process, category)) return;
        string asyncId = $"0x{++_nextAsyncId:x}";
        int pid = Pid(process), tid = Tid(process, track);
        string kind = Begin("b", name, category, pid, tid, startNs, out var id);
        _json.WriteString("id", asyncId);
        Args(args, id);
        End();
        _json.WriteStartObject();
        _json.WriteString("name", kind);
        _json.WriteString("cat", category);
        _json.WriteString("ph", "e");
        _json.WriteNumber("ts", Micros(endNs));
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteString("id", asyncId);
        End();
    }

    /// <summary>A moment on a thread (ph i, thread scope).</summary>
    public void Instant(string process, string thread, string name, long timeNs, string category, params (string Key, string Value)[] args)
    {
        if (!Keeps(process, category)) return;
        Begin("i", name, category, Pid(process), Tid(process, thread), timeNs, out var id);
        _json.WriteString("s", "t");
        Args(args, id);
        End();
    }

    /// <summary>A moment for the whole trace (ph i, global scope): an invariant broken.</summary>
    public void GlobalInstant(string name, long timeNs, string category, params (string Key, string Value)[] args)
    {
        if (!Keeps(null, category)) return;
        Begin("i", name, category, 0, 0, timeNs, out var id);
        _json.WriteString("s", "g");
        Args(args, id);
        End();
    }

    /// <summary>A counter's new value (ph C), drawn as a track of its process; a value equal to the last one adds nothing.</summary>
    public void Counter(string process, string name, long timeNs, long value)
    {
        if (!Keeps(process, "counter")) return;
        int pid = Pid(process);
        if (_counters.TryGetValue((pid, name), out long last) && last == value) return;
        _counters[(pid, name)] = value;
        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("cat", "counter");
        _json.WriteString("ph", "C");
        _json.WriteNumber("ts", Micros(timeNs));
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", 0);
        _json.WriteStartObject("args");
        _json.WriteNumber("value", value);
        _json.WriteEndObject();
        End();
    }

    /// <summary>Closes the event array and flushes the stream (a write that failed during the run throws here). Once only.</summary>
    public void Complete()
    {
        if (_completed) return;
        _completed = true;
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
        if (_output is GZipStream gzip) gzip.Flush();
        _output.Flush();
    }

    /// <summary>The finished trace of an in-memory recorder.</summary>
    public byte[] ToArray()
    {
        Complete();
        return ((MemoryStream)_output).ToArray();
    }

    /// <summary>Completes the trace if the run got that far, and closes the stream.</summary>
    public void Dispose()
    {
        _json.Dispose();
        _output.Dispose();
    }

    private bool Keeps(string? process, string category) =>
        !_completed && (_filter is null || (_filter.KeepsCategory(category) && _filter.KeepsProcess(process)));

    /// <summary>
    /// Starts an event. A trailing id in the name ("nic0 group 0x1f", "PRG 0x1f") becomes an argument named after the
    /// word before it, so slices of one kind share a name and Perfetto groups them; returns the name written.
    /// </summary>
    private string Begin(string phase, string name, string category, int pid, int tid, long timeNs, out (string Key, long Value)? id)
    {
        id = null;
        int space = name.LastIndexOf(' ');
        if (space > 0 && name.AsSpan(space + 1).StartsWith("0x", StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(space + 3), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out long value))
        {
            string kind = name[..space];
            int word = kind.LastIndexOf(' ');
            id = (kind[(word + 1)..].ToLowerInvariant(), value);
            name = kind;
        }
        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("cat", category);
        _json.WriteString("ph", phase);
        _json.WriteNumber("ts", Micros(timeNs));
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        return name;
    }

    private void End()
    {
        _json.WriteEndObject();
        if (_json.BytesPending > FlushThreshold) _json.Flush();
    }

    /// <summary>The arguments, integers written as JSON numbers (a PASID, a count, a time in ns) and the rest as strings.</summary>
    private void Args((string Key, string Value)[] args, (string Key, long Value)? id)
    {
        if (args.Length == 0 && id is null) return;
        _json.WriteStartObject("args");
        if (id is { } named) _json.WriteNumber(named.Key, named.Value);
        foreach (var (key, value) in args)
        {
            if (IsInteger(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long number)) _json.WriteNumber(key, number);
            else _json.WriteString(key, value);
        }
        _json.WriteEndObject();
    }

    // Only the canonical form, so "007" or "+1" stay the text they were.
    private static bool IsInteger(string value)
    {
        int start = value.StartsWith('-') ? 1 : 0;
        if (value.Length == start || value.Length - start > 18 || (value[start] == '0' && value.Length > start + 1)) return false;
        for (int i = start; i < value.Length; i++)
            if (!char.IsAsciiDigit(value[i])) return false;
        return true;
    }

    // Processes and threads are numbered in the order they first appear, which the run makes deterministic.
    private int Pid(string process)
    {
        if (_processes.TryGetValue(process, out int pid)) return pid;
        _processes.Add(process, pid = _processes.Count + 1);
        if (!_completed && (_filter?.KeepsProcess(process) ?? true)) // names whatever the category filter keeps
        {
            Metadata("process_name", pid, 0, process);
            Metadata("process_sort_index", pid, 0, null, pid);
        }
        return pid;
    }

    private int Tid(string process, string thread)
    {
        int pid = Pid(process);
        if (_threads.TryGetValue((pid, thread), out int tid)) return tid;
        _threadsPerProcess[pid] = tid = _threadsPerProcess.GetValueOrDefault(pid) + 1;
        _threads.Add((pid, thread), tid);
        Metadata("thread_name", pid, tid, thread);
        Metadata("thread_sort_index", pid, tid, null, tid);
        return tid;
    }

    private void Metadata(string kind, int pid, int tid, string? name, int? sortIndex = null)
    {
        _json.WriteStartObject();
        _json.WriteString("name", kind);
        _json.WriteString("ph", "M");
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
        _json.WriteStartObject("args");
        if (name is not null) _json.WriteString("name", name);
        if (sortIndex is { } index) _json.WriteNumber("sort_index", index);
        _json.WriteEndObject();
        End();
    }

    private static decimal Micros(long ns) => ns / 1000m;
}
