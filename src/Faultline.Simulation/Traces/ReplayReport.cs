using System.Globalization;
using Faultline.Faults;
using Faultline.Pcie;

namespace Faultline.Simulation.Traces;

/// <summary>How the model's responses compare with a capture's for one device, under a policy and under the other.</summary>
public sealed record ReplayDevice
{
    public required string Name { get; init; }
    public long PageRequests { get; init; }
    public long CapturedResponses { get; init; }
    public long ModelResponses { get; init; }
    /// <summary>Responses at the same place (the nth response at a PRG index) with the same code.</summary>
    public long Agree { get; init; }
    /// <summary>Same place, another code.</summary>
    public long Disagree { get; init; }
    /// <summary>Captured responses the model did not send.</summary>
    public long OnlyCaptured { get; init; }
    /// <summary>Responses the model sent that the capture does not show (hardware auto-responses among them).</summary>
    public long OnlyModel { get; init; }
    /// <summary>Places where the other policy's response differs from this policy's.</summary>
    public long OtherPolicyDiffers { get; init; }
}

/// <summary>One place where the capture and the model part.</summary>
/// <param name="Nth">Which response at that index, from 1.</param>
/// <param name="Captured">The capture's code, or "-" for none.</param>
/// <param name="Model">The model's code under the chosen policy, or "-".</param>
/// <param name="Other">The model's code under the other policy, or "-".</param>
public sealed record ReplayDifference(string Device, ushort Index, int Nth, string Captured, string Model, string Other);

/// <summary>The result of <c>faultline replay</c>.</summary>
public sealed record ReplayReport
{
    /// <summary>How many differences are listed; all are counted.</summary>
    public const int DifferencesKept = 200;

    public required string Policy { get; init; }
    public required string OtherPolicy { get; init; }
    public long PageRequests { get; init; }
    public required IReadOnlyList<ReplayDevice> Devices { get; init; }
    public required IReadOnlyList<ReplayDifference> Differences { get; init; }
    /// <summary>What the model found broken replaying the capture, by rule, under the chosen policy and the other.</summary>
    public required IReadOnlyDictionary<string, long> Invariants { get; init; }
    public required IReadOnlyDictionary<string, long> OtherInvariants { get; init; }
    /// <summary>Stall masters of the capture, not replayed.</summary>
    public required IReadOnlyList<string> StallMasters { get; init; }
    /// <summary>Malformed lines of the capture, which replay skips.</summary>
    public long MalformedLines { get; init; }

    /// <summary>Whether the model sent every captured response, with the captured code, and nothing else.</summary>
    public bool Reproduced => Devices.All(d => d.Disagree + d.OnlyCaptured + d.OnlyModel == 0);

    /// <summary>Replays <paramref name="plan"/> under <paramref name="policy"/> and the other policy, and compares both with the capture.</summary>
    public static ReplayReport Run(ReplayPlan plan, FaultPolicy policy)
    {
        var other = policy.Name == FaultPolicy.Linux.Name ? FaultPolicy.Hardened : FaultPolicy.Linux;
        var (mine, invariants) = ReplayHost.Run(plan, policy);
        var (theirs, otherInvariants) = ReplayHost.Run(plan, other);
        var captured = ByPlace(plan.Responses);
        var model = ByPlace(mine);
        var alternative = ByPlace(theirs);
        var differences = new List<ReplayDifference>();
        var devices = new List<ReplayDevice>();
        foreach (string device in plan.Scenario.Devices.Select(d => d.Name))
        {
            long agree = 0, disagree = 0, onlyCaptured = 0, onlyModel = 0, otherDiffers = 0;
            var places = captured.Keys.Concat(model.Keys).Concat(alternative.Keys).Where(k => k.Device == device).Distinct().Order();
            foreach (var place in places)
            {
                var c = captured.GetValueOrDefault(place) ?? [];
                var m = model.GetValueOrDefault(place) ?? [];
                var o = alternative.GetValueOrDefault(place) ?? [];
                for (int n = 0; n < Math.Max(c.Count, Math.Max(m.Count, o.Count)); n++)
                {
                    ResponseCode? cc = n < c.Count ? c[n] : null, mc = n < m.Count ? m[n] : null, oc = n < o.Count ? o[n] : null;
                    if (cc is not null && mc is not null) _ = cc == mc ? agree++ : disagree++;
                    else if (cc is not null) onlyCaptured++;
                    else if (mc is not null) onlyModel++;
                    if (oc != mc) otherDiffers++;
                    if ((cc != mc || oc != mc) && differences.Count < DifferencesKept)
                        differences.Add(new ReplayDifference(device, place.Index, n + 1, Name(cc), Name(mc), Name(oc)));
                }
            }
            devices.Add(new ReplayDevice
            {
                Name = device,
                PageRequests = plan.Requests.Count(r => r.Device == device),
                CapturedResponses = plan.Responses.Count(r => r.Device == device),
                ModelResponses = mine.Count(r => r.Device == device),
                Agree = agree,
                Disagree = disagree,
                OnlyCaptured = onlyCaptured,
                OnlyModel = onlyModel,
                OtherPolicyDiffers = otherDiffers,
            });
        }
        return new ReplayReport
        {
            Policy = policy.Name,
            OtherPolicy = other.Name,
            PageRequests = plan.Requests.Count,
            Devices = devices,
            Differences = differences,
            Invariants = new SortedDictionary<string, long>(invariants.CountsByRule.ToDictionary(), StringComparer.Ordinal),
            OtherInvariants = new SortedDictionary<string, long>(otherInvariants.CountsByRule.ToDictionary(), StringComparer.Ordinal),
            MalformedLines = plan.Capture.Malformed,
            StallMasters = plan.StallMasters,
        };
    }

    /// <summary>Responses by (device, PRG index), in the order sent.</summary>
    private static Dictionary<(string Device, ushort Index), List<ResponseCode>> ByPlace(IEnumerable<ReplayResponse> responses)
    {
        var places = new Dictionary<(string, ushort), List<ResponseCode>>();
        foreach (var r in responses)
        {
            if (!places.TryGetValue((r.Device, r.Index), out var list)) places.Add((r.Device, r.Index), list = []);
            list.Add(r.Code);
        }
        return places;
    }

    private static string Name(ResponseCode? code) => code?.Name() ?? "-";

    /// <summary>The comparison for people: a row per device, then the first differences.</summary>
    public void Write(TextWriter output, int differencesShown = 20)
    {
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(inv, $"faultline replay: {PageRequests} page requests replayed under {Policy} (and {OtherPolicy} for comparison){(MalformedLines > 0 ? $"; {MalformedLines} malformed lines skipped" : "")}"));
        if (StallMasters.Count > 0) output.WriteLine($"not replayed: the stall masters {string.Join(", ", StallMasters)} (SMMU event records, not page requests)");
        var table = new TextTable("device", "requests", "captured", "model", "agree", "disagree", "only-captured", "only-model", $"{OtherPolicy}-differs");
        foreach (var d in Devices) table.Add(d.Name, d.PageRequests, d.CapturedResponses, d.ModelResponses, d.Agree, d.Disagree, d.OnlyCaptured, d.OnlyModel, d.OtherPolicyDiffers);
        table.Write(output);
        if (Differences.Count > 0)
        {
            output.WriteLine(string.Create(inv, $"Differences (device, PRG index, nth response: captured / {Policy} / {OtherPolicy})"));
            foreach (var d in Differences.Take(differencesShown))
                output.WriteLine(string.Create(inv, $"  {d.Device} 0x{d.Index:x} #{d.Nth}: {d.Captured} / {d.Model} / {d.Other}"));
            if (Differences.Count > differencesShown) output.WriteLine(string.Create(inv, $"  ... {Differences.Count - differencesShown} more in --json"));
        }
        output.WriteLine(Invariants.Count == 0 ? $"Invariants under {Policy}: all held" : $"Invariants under {Policy}: " + string.Join(", ", Invariants.Select(kv => string.Create(inv, $"{kv.Key} ×{kv.Value}"))));
        output.WriteLine(OtherInvariants.Count == 0 ? $"Invariants under {OtherPolicy}: all held" : $"Invariants under {OtherPolicy}: " + string.Join(", ", OtherInvariants.Select(kv => string.Create(inv, $"{kv.Key} ×{kv.Value}"))));
        output.WriteLine(Reproduced ? "The model reproduces every captured response." : "The model and the capture differ (see above).");
    }
}
