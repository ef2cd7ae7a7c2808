using System.IO.Compression;
using System.Text.Json;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>The trace written while the run goes, filtered, numbers as numbers, counters on change, gzip (issue 13 item 5).</summary>
public sealed class TraceStreamingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("faultline-trace-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] InMemory(TraceFilter? filter = null)
    {
        using var trace = new TraceRecorder(filter);
        Simulator.Run(ScenarioReader.Default(), trace: trace);
        return trace.ToArray();
    }

    private static List<JsonElement> Events(byte[] trace) =>
        [.. JsonDocument.Parse(trace).RootElement.GetProperty("traceEvents").EnumerateArray().Select(e => e.Clone())];

    private static string Ph(JsonElement e) => e.GetProperty("ph").GetString()!;

    [Fact]
    public void The_run_writes_its_trace_to_the_stream_as_it_goes_and_a_gz_file_holds_the_same_bytes()
    {
        var counting = new CountingStream();
        using (var trace = new TraceRecorder(counting))
        {
            Simulator.Run(ScenarioReader.Default(), trace: trace);
            long beforeComplete = counting.Written;
            trace.Complete();
            Assert.True(beforeComplete > counting.Written * 0.8, $"{beforeComplete} of {counting.Written} bytes reached the stream before the end");
        }
        byte[] expected = InMemory();
        Assert.Equal(expected.Length, counting.Written);

        string plain = Path.Combine(_dir, "t.json"), gz = Path.Combine(_dir, "t.json.gz");
        foreach (string path in new[] { plain, gz })
        {
            using var trace = TraceRecorder.Create(path);
            Simulator.Run(ScenarioReader.Default(), trace: trace);
            trace.Complete();
        }
        Assert.Equal(expected, File.ReadAllBytes(plain));
        using (var unzip = new GZipStream(File.OpenRead(gz), CompressionMode.Decompress))
        using (var bytes = new MemoryStream())
        {
            unzip.CopyTo(bytes);
            Assert.Equal(expected, bytes.ToArray());
        }
        Assert.True(new FileInfo(gz).Length * 5 < expected.Length);
    }

    [Fact]
    public void Arguments_that_are_integers_are_numbers_and_slices_of_a_kind_share_a_name()
    {
        var events = Events(InMemory());
        var batches = events.Where(e => Ph(e) == "X" && e.GetProperty("cat").GetString() == "driver").ToList();
        Assert.All(batches, b => Assert.Equal(JsonValueKind.Number, b.GetProperty("args").GetProperty("entries").ValueKind));
        // PRG index and group id: arguments, as numbers; the names carry no id.
        var groups = events.Where(e => Ph(e) == "b" && e.GetProperty("cat").GetString() == "group").ToList();
        Assert.All(groups, g => Assert.Equal("PRG", g.GetProperty("name").GetString()));
        Assert.All(groups, g => Assert.Equal(JsonValueKind.Number, g.GetProperty("args").GetProperty("prg").ValueKind));
        var work = events.Where(e => Ph(e) == "X" && e.GetProperty("cat").GetString() == "worker").ToList();
        Assert.All(work, w => Assert.EndsWith(" group", w.GetProperty("name").GetString()!, StringComparison.Ordinal));
        Assert.All(work, w => Assert.Equal(JsonValueKind.Number, w.GetProperty("args").GetProperty("group").ValueKind));
        Assert.True(work.Select(w => w.GetProperty("name").GetString()).Distinct().Count() <= 4, "one slice name per function, not per group");
        Assert.Contains(events, e => e.TryGetProperty("args", out var a) && a.TryGetProperty("pasid", out var p) && p.ValueKind == JsonValueKind.Number);
        // A master's accesses: "read" or "write", their size an argument.
        var accesses = events.Where(e => Ph(e) == "b" && e.GetProperty("cat").GetString() == "access").ToList();
        Assert.NotEmpty(accesses);
        Assert.All(accesses, a => Assert.Contains(a.GetProperty("name").GetString(), new[] { "read", "write" }));
        Assert.All(accesses, a => Assert.Equal(JsonValueKind.Number, a.GetProperty("args").GetProperty("pages").ValueKind));
    }

    [Fact]
    public void A_counter_is_written_only_when_its_value_changes()
    {
        var counters = Events(InMemory()).Where(e => Ph(e) == "C").GroupBy(e => (e.GetProperty("pid").GetInt32(), e.GetProperty("name").GetString())).ToList();
        Assert.NotEmpty(counters);
        foreach (var counter in counters)
        {
            var values = counter.Select(e => e.GetProperty("args").GetProperty("value").GetInt64()).ToList();
            for (int i = 1; i < values.Count; i++) Assert.NotEqual(values[i - 1], values[i]);
        }
    }

    [Fact]
    public void A_filter_keeps_its_categories_of_its_devices()
    {
        var events = Events(InMemory(TraceFilter.Parse("group,access, device=nic0")));
        int nic0 = events.Single(e => Ph(e) == "M" && e.GetProperty("name").GetString() == "process_name"
            && e.GetProperty("args").GetProperty("name").GetString()!.StartsWith("nic0 (", StringComparison.Ordinal)).GetProperty("pid").GetInt32();
        var kept = events.Where(e => Ph(e) != "M").ToList();
        Assert.NotEmpty(kept);
        Assert.All(kept, e => Assert.Equal(nic0, e.GetProperty("pid").GetInt32()));
        Assert.All(kept, e => Assert.Equal("group", e.GetProperty("cat").GetString()));

        var workers = Events(InMemory(TraceFilter.Parse("worker,counter"))).Where(e => Ph(e) != "M").Select(e => e.GetProperty("cat").GetString()).Distinct().Order();
        Assert.Equal(["counter", "worker"], workers);
    }

    [Fact]
    public void A_filter_term_of_neither_kind_or_a_device_the_scenario_lacks_is_bad_input()
    {
        Assert.Throws<FormatException>(() => TraceFilter.Parse("groups"));
        Assert.Throws<FormatException>(() => TraceFilter.Parse("device="));
        string path = Path.Combine(_dir, "t.json");
        var (exit, _, stderr) = CommandLine.Invoke("run", "--trace", path, "--trace-filter", "group,device=nic9");
        Assert.Equal(Faultline.Cli.ExitCodes.BadInput, exit);
        Assert.Contains("trace filter names device 'nic9'", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
        (exit, _, stderr) = CommandLine.Invoke("run", "--trace", path, "--trace-filter", "bogus");
        Assert.Equal(Faultline.Cli.ExitCodes.BadInput, exit);
        Assert.Contains("neither a category", stderr, StringComparison.Ordinal);
        (exit, _, _) = CommandLine.Invoke("run", "--trace", path + ".gz", "--trace-filter", "device=dsp0");
        Assert.Equal(Faultline.Cli.ExitCodes.Ok, exit);
        using var unzip = new GZipStream(File.OpenRead(path + ".gz"), CompressionMode.Decompress);
        Assert.Contains(JsonDocument.Parse(unzip).RootElement.GetProperty("traceEvents").EnumerateArray(), e => e.TryGetProperty("cat", out var c) && c.GetString() == "access");
    }

    /// <summary>Counts what reaches it and keeps nothing.</summary>
    private sealed class CountingStream : Stream
    {
        public long Written { get; private set; }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => Written += count;
        public override void Write(ReadOnlySpan<byte> buffer) => Written += buffer.Length;
    }
}
