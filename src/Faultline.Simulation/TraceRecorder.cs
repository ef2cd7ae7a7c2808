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
/// </summary>
public sealed class TraceRecorder : IHostTrace, IDisposable
{
    private readonly MemoryStream _buffer = new();
    private readonly Utf8JsonWriter _json;
    private readonly Dictionary<string, int> _processes = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Pid, string Thread), int> _threads = new();
    private long _nextAsyncId;

    public TraceRecorder()
    {
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        _json.WriteStartObject();
        _json.WriteString("displayTimeUnit", "ns");
        _json.WriteStartArray("traceEvents");
    }

    /// <summary>Numbers a process now, so processes are listed in the order the topology declares them.</summary>
    public void Process(string process) => Pid(process);

    /// <summary>A span on a thread of a process (ph X); spans on one thread must nest.</summary>
    public void Span(string process, string thread, string name, long startNs, long durationNs, string category, params (string Key, string Value)[] args)
    {
        Begin("X", name, category, Pid(process), Tid(process, thread), startNs);
        _json.WriteNumber("dur", Micros(durationNs));
        Args(args);
        _json.WriteEndObject();
    }

    /// <summary>An interval that may overlap others on its track (nestable async b/e pair).</summary>
    public void Interval(string process, string track, string name, long startNs, long endNs, string category, params (string Key, string Value)[] args)
    {
        long id = ++_nextAsyncId;
        int pid = Pid(process), tid = Tid(process, track);
        Begin("b", name, category, pid, tid, startNs);
        _json.WriteString("id", $"0x{id:x}");
        Args(args);
        _json.WriteEndObject();
        Begin("e", name, category, pid, tid, endNs);
        _json.WriteString("id", $"0x{id:x}");
        _json.WriteEndObject();
    }

    /// <summary>A moment on a thread (ph i, thread scope).</summary>
    public void Instant(string process, string thread, string name, long timeNs, string category, params (string Key, string Value)[] args)
    {
        Begin("i", name, category, Pid(process), Tid(process, thread), timeNs);
        _json.WriteString("s", "t");
        Args(args);
        _json.WriteEndObject();
    }

    /// <summary>A moment for the whole trace (ph i, global scope): an invariant broken.</summary>
    public void GlobalInstant(string name, long timeNs, string category, params (string Key, string Value)[] args)
    {
        Begin("i", name, category, 0, 0, timeNs);
        _json.WriteString("s", "g");
        Args(args);
        _json.WriteEndObject();
    }

    /// <summary>A counter's new value (ph C), drawn as a track of its process.</summary>
    public void Counter(string process, string name, long timeNs, long value)
    {
        Begin("C", name, "counter", Pid(process), 0, timeNs);
        _json.WriteStartObject("args");
        _json.WriteNumber("value", value);
        _json.WriteEndObject();
        _json.WriteEndObject();
    }

    /// <summary>The finished trace: the events, then the names of every process and thread.</summary>
    public byte[] ToArray()
    {
        foreach (var (process, pid) in _processes)
        {
            Metadata("process_name", pid, 0, process);
            Metadata("process_sort_index", pid, 0, null, pid);
        }
        foreach (var ((pid, thread), tid) in _threads)
        {
            Metadata("thread_name", pid, tid, thread);
            Metadata("thread_sort_index", pid, tid, null, tid);
        }
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
        return _buffer.ToArray();
    }

    public void Dispose()
    {
        _json.Dispose();
        _buffer.Dispose();
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
        _json.WriteEndObject();
    }

    private void Begin(string phase, string name, string category, int pid, int tid, long timeNs)
    {
        _json.WriteStartObject();
        _json.WriteString("name", name);
        _json.WriteString("cat", category);
        _json.WriteString("ph", phase);
        _json.WriteNumber("ts", Micros(timeNs));
        _json.WriteNumber("pid", pid);
        _json.WriteNumber("tid", tid);
    }

    private void Args((string Key, string Value)[] args)
    {
        if (args.Length == 0) return;
        _json.WriteStartObject("args");
        foreach (var (key, value) in args) _json.WriteString(key, value);
        _json.WriteEndObject();
    }

    // Processes and threads are numbered in the order they first appear, which the run makes deterministic.
    private int Pid(string process)
    {
        if (!_processes.TryGetValue(process, out int pid)) _processes.Add(process, pid = _processes.Count + 1);
        return pid;
    }

    private int Tid(string process, string thread)
    {
        int pid = Pid(process);
        if (!_threads.TryGetValue((pid, thread), out int tid)) _threads.Add((pid, thread), tid = _threads.Count(t => t.Key.Pid == pid) + 1);
        return tid;
    }

    private static decimal Micros(long ns) => ns / 1000m;
}
