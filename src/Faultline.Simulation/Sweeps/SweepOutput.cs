using System.Globalization;
using System.Text;
using System.Text.Json;
using nietras.SeparatedValues;

namespace Faultline.Simulation.Sweeps;

/// <summary>
/// A finished sweep's files, written from the plan and the points' results alone (in point order), so a sweep on one
/// machine and shards merged from many write the same bytes: <c>points.csv</c> (a row per run), <c>summary.csv</c>
/// (a row per configuration and policy: mean, standard deviation and 95 % interval across seeds per metric) and
/// <c>sweep.json</c> (the same summary with every value).
/// </summary>
public static class SweepOutput
{
    public const string Points = "points.csv", Summary = "summary.csv", Json = "sweep.json";

    /// <summary>A value as its shortest round-trip text; no number is an empty cell.</summary>
    public static string Number(double value) => double.IsNaN(value) || double.IsInfinity(value) ? "" : value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>One summary row: a configuration under a policy, its seeds' results and each metric's estimate.</summary>
    public sealed record Group(int Configuration, string Policy, IReadOnlyList<PointResult> Results, IReadOnlyList<Estimate> Estimates);

    /// <summary>The results grouped by configuration and policy, in point order.</summary>
    public static IReadOnlyList<Group> Groups(SweepPlan plan, IReadOnlyList<PointResult> results)
    {
        if (results.Count != plan.Count || results.Select((r, i) => r.Point != i).Any(x => x))
            throw new ArgumentException($"expected the {plan.Count} points' results in point order", nameof(results));
        int seeds = plan.Definition.Seeds.Count;
        return [.. results.Chunk(seeds).Select((rs, g) => new Group(g / plan.Policies.Count, plan.Policies[g % plan.Policies.Count], rs,
            [.. plan.Definition.Metrics.Select((_, m) => Estimate.Of(rs.Select(r => r.Values[m])))]))];
    }

    public static void Write(SweepPlan plan, IReadOnlyList<PointResult> results, string folder)
    {
        var groups = Groups(plan, results);
        File.WriteAllText(Path.Combine(folder, Points), PointsCsv(plan, results));
        File.WriteAllText(Path.Combine(folder, Summary), SummaryCsv(plan, groups));
        File.WriteAllText(Path.Combine(folder, Json), SummaryJson(plan, groups));
    }

    public static string PointsCsv(SweepPlan plan, IReadOnlyList<PointResult> results)
    {
        var d = plan.Definition;
        using var writer = Writer();
        foreach (var r in results)
        {
            var point = plan.Point(r.Point);
            using var row = writer.NewRow();
            row["point"].Set(r.Point.ToString(CultureInfo.InvariantCulture));
            for (int p = 0; p < d.Parameters.Count; p++) row[d.Parameters[p].Path.Text].Set(plan.Configurations[point.Configuration].Values[p]);
            row["policy"].Set(point.Policy);
            row["seed"].Set(point.Seed.ToString(CultureInfo.InvariantCulture));
            row["invariants_broken"].Set(r.InvariantsBroken.ToString(CultureInfo.InvariantCulture));
            for (int m = 0; m < d.Metrics.Count; m++) row[d.Metrics[m].Name].Set(Number(r.Values[m]));
        }
        return writer.ToString();
    }

    public static string SummaryCsv(SweepPlan plan, IReadOnlyList<Group> groups)
    {
        var d = plan.Definition;
        using var writer = Writer();
        foreach (var g in groups)
        {
            using var row = writer.NewRow();
            for (int p = 0; p < d.Parameters.Count; p++) row[d.Parameters[p].Path.Text].Set(plan.Configurations[g.Configuration].Values[p]);
            row["policy"].Set(g.Policy);
            row["seeds"].Set(g.Results.Count.ToString(CultureInfo.InvariantCulture));
            row["invariants_broken"].Set(g.Results.Sum(r => r.InvariantsBroken).ToString(CultureInfo.InvariantCulture));
            for (int m = 0; m < d.Metrics.Count; m++)
            {
                var e = g.Estimates[m];
                string name = d.Metrics[m].Name;
                row[$"{name}.mean"].Set(Number(e.Mean));
                row[$"{name}.sd"].Set(Number(e.StandardDeviation));
                row[$"{name}.ci95_low"].Set(Number(e.Low));
                row[$"{name}.ci95_high"].Set(Number(e.High));
            }
        }
        return writer.ToString();
    }

    public static string SummaryJson(SweepPlan plan, IReadOnlyList<Group> groups)
    {
        var d = plan.Definition;
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteString("sweep", plan.Digest);
            json.WriteString("scenario", Path.GetFileName(d.ScenarioPath));
            json.WriteNumber("points", plan.Count);
            json.WriteStartArray("parameters");
            foreach (var p in d.Parameters) json.WriteStringValue(p.Path.Text);
            json.WriteEndArray();
            json.WriteStartArray("seeds");
            foreach (var s in d.Seeds) json.WriteNumberValue(s);
            json.WriteEndArray();
            json.WriteStartObject("metrics");
            foreach (var m in d.Metrics) json.WriteString(m.Name, m.Expression);
            json.WriteEndObject();
            json.WriteStartArray("configurations");
            foreach (var g in groups)
            {
                json.WriteStartObject();
                json.WriteStartObject("parameters");
                for (int p = 0; p < d.Parameters.Count; p++) json.WriteString(d.Parameters[p].Path.Text, plan.Configurations[g.Configuration].Values[p]);
                json.WriteEndObject();
                json.WriteString("policy", g.Policy);
                json.WriteNumber("invariants_broken", g.Results.Sum(r => r.InvariantsBroken));
                json.WriteStartObject("metrics");
                for (int m = 0; m < d.Metrics.Count; m++)
                {
                    var e = g.Estimates[m];
                    json.WriteStartObject(d.Metrics[m].Name);
                    json.WriteNumber("n", e.Count);
                    Value(json, "mean", e.Mean);
                    Value(json, "sd", e.StandardDeviation);
                    Value(json, "ci95_low", e.Low);
                    Value(json, "ci95_high", e.High);
                    json.WriteStartArray("values");
                    foreach (var r in g.Results)
                    {
                        if (Number(r.Values[m]) is "") json.WriteNullValue();
                        else json.WriteNumberValue(r.Values[m]);
                    }
                    json.WriteEndArray();
                    json.WriteEndObject();
                }
                json.WriteEndObject();
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void Value(Utf8JsonWriter json, string name, double value)
    {
        if (Number(value) is "") json.WriteNull(name);
        else json.WriteNumber(name, value);
    }

    private static SepWriter Writer() =>
        Sep.New(',').Writer(o => o with { Escape = true, CultureInfo = CultureInfo.InvariantCulture }).ToText();
}
