namespace Faultline.Tests.Golden;

/// <summary>
/// Determinism (DESIGN rule 2) against a record kept in the repository: the example scenarios' JSON reports must
/// match the digests checked in, in this process and in another one, so a change of results never goes unseen.
/// </summary>
public class GoldenDigestTests
{
    public static TheoryData<string, string> Runs()
    {
        var data = new TheoryData<string, string>();
        foreach (var scenario in GoldenDigests.Scenarios())
            foreach (var policy in GoldenDigests.Policies)
                data.Add(scenario, policy);
        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Example_scenario_reports_match_their_golden_digests(string scenario, string policy)
    {
        if (GoldenDigests.Updating) return; // the updater below rewrites the file in one go
        var golden = GoldenDigests.Load();
        foreach (ulong seed in GoldenDigests.Seeds)
        {
            string key = GoldenDigests.Key(scenario, policy, seed);
            Assert.True(golden.TryGetValue(key, out var expected), $"no golden digest for '{key}': run FAULTLINE_GOLDEN=update dotnet test --filter Golden");
            Assert.True(expected == GoldenDigests.RunInProcess(scenario, policy, seed), $"the JSON report of '{key}' changed; if a named bug fix changed it, rewrite the digests in that commit");
        }
    }

    [Fact]
    public void Every_golden_digest_names_an_example_scenario_that_still_exists()
    {
        var expected = GoldenDigests.Scenarios()
            .SelectMany(s => GoldenDigests.Policies.SelectMany(p => GoldenDigests.Seeds.Select(seed => GoldenDigests.Key(s, p, seed))))
            .Order(StringComparer.Ordinal);
        if (GoldenDigests.Updating)
        {
            GoldenDigests.Save(expected.Select(k =>
            {
                var parts = k.Split(' ');
                return (k, GoldenDigests.RunInProcess(parts[0], parts[1], ulong.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)));
            }).ToList());
        }
        Assert.Equal(expected, GoldenDigests.Load().Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>Another process (another runtime start, another heap layout, another hash seed) writes the same bytes.</summary>
    [Theory]
    [MemberData(nameof(Runs))]
    public void The_faultline_command_in_another_process_writes_the_golden_report(string scenario, string policy)
    {
        if (GoldenDigests.Updating) return;
        string json = Path.Combine(Path.GetTempPath(), $"faultline-golden-{Environment.ProcessId}-{scenario}-{policy}.json");
        try
        {
            var (exit, stderr) = GoldenDigests.RunCli("run", Path.Combine(GoldenDigests.ScenarioFolder, scenario), "--policy", policy, "--seed", "1", "--json", json);
            Assert.True(exit is 0 or 1, $"exit {exit}: {stderr}");
            Assert.Equal(GoldenDigests.Load()[GoldenDigests.Key(scenario, policy, 1)], GoldenDigests.Digest(File.ReadAllText(json)));
        }
        finally
        {
            File.Delete(json);
        }
    }
}
