using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Faultline.Simulation.Sweeps;

/// <summary>
/// A sweep's finished points, one JSON line each, appended and flushed as they finish (in any order), after a header
/// line naming the plan's digest. A rerun reads it and skips what it holds; a line cut short by an interruption is
/// cut off. Shards each write their own; merging reads them all.
/// </summary>
public sealed class SweepJournal : IDisposable
{
    private readonly FileStream _file;
    private readonly Lock _lock = new();

    private SweepJournal(FileStream file) => _file = file;

    /// <summary>The file a whole sweep (null shard) or a shard keeps its journal in, in <paramref name="folder"/>.</summary>
    public static string PathFor(string folder, (int Shard, int Shards)? shard) =>
        Path.Combine(folder, shard is var (i, n) ? $"journal-{i}-of-{n}.jsonl" : "journal.jsonl");

    /// <summary>Opens (or starts) the journal at <paramref name="path"/> for <paramref name="plan"/>, with the results it already holds.</summary>
    /// <exception cref="InvalidDataException">It was written for another plan, or is not a journal.</exception>
    public static SweepJournal Open(string path, SweepPlan plan, out IReadOnlyList<PointResult> done)
    {
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        try
        {
            var bytes = new byte[file.Length];
            file.ReadExactly(bytes);
            int whole = Array.LastIndexOf(bytes, (byte)'\n') + 1;
            if (whole == 0)
            {
                file.SetLength(0);
                Append(file, Header(plan));
                done = [];
            }
            else
            {
                done = Parse(path, Encoding.UTF8.GetString(bytes, 0, whole), plan);
                file.SetLength(whole); // a line cut short by an interruption is run again
            }
            file.Position = file.Length;
            return new SweepJournal(file);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The results in the journal at <paramref name="path"/>, which must be <paramref name="plan"/>'s.</summary>
    public static IReadOnlyList<PointResult> Read(string path, SweepPlan plan)
    {
        var text = File.ReadAllText(path);
        return Parse(path, text[..(text.LastIndexOf('\n') + 1)], plan);
    }

    public void Add(PointResult result)
    {
        var line = new StringBuilder("{\"point\":").Append(result.Point.ToString(CultureInfo.InvariantCulture))
            .Append(",\"invariants_broken\":").Append(result.InvariantsBroken.ToString(CultureInfo.InvariantCulture))
            .Append(",\"values\":[").AppendJoin(',', result.Values.Select(SweepOutput.Number)).Append("]}\n");
        lock (_lock) Append(_file, line.ToString());
    }

    public void Dispose() => _file.Dispose();

    private static string Header(SweepPlan plan) => $"{{\"sweep\":\"{plan.Digest}\",\"points\":{plan.Count}}}\n";

    private static void Append(FileStream file, string line)
    {
        file.Write(Encoding.UTF8.GetBytes(line));
        file.Flush();
    }

    private static List<PointResult> Parse(string path, string text, SweepPlan plan)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0) return [];
        if (lines[0] != Header(plan).TrimEnd('\n'))
            throw new InvalidDataException($"{path}: written for another sweep (its scenario, settings, parameters, policies, seeds or metrics differ); remove it or write to another folder");
        var results = new List<PointResult>();
        for (int i = 1; i < lines.Length; i++)
        {
            try
            {
                using var doc = JsonDocument.Parse(lines[i]);
                var root = doc.RootElement;
                var values = root.GetProperty("values").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? double.NaN : v.GetDouble()).ToArray();
                int point = root.GetProperty("point").GetInt32();
                if (point < 0 || point >= plan.Count || values.Length != plan.Definition.Metrics.Count) throw new InvalidDataException("a point outside the sweep");
                results.Add(new PointResult(point, root.GetProperty("invariants_broken").GetInt64(), values));
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or InvalidDataException)
            {
                throw new InvalidDataException($"{path}:{i + 1}: not a journal line: {e.Message}");
            }
        }
        return results;
    }
}
