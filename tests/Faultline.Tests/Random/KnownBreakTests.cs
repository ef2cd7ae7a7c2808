namespace Faultline.Tests.RandomScenarios;

/// <summary>
/// The found, reported and not yet fixed breaks in Random/Found/ (<see cref="KnownBreaks"/>): each file must still
/// show the break it was shrunk for. When a fix makes one pass, turn the file into a regression test that names
/// its rule, and delete it there, so the random property guards that signature again.
/// </summary>
public sealed class KnownBreakTests
{
    [Fact]
    public void Every_found_scenario_still_shows_its_break_until_it_becomes_a_regression_test()
    {
        var gone = KnownBreaks.All()
            .Select(k => (k.File, k.Signature, Failures: Verdict.Of(k.Scenario, k.Scenario.Policy).Failures))
            .Where(k => !k.Failures.Contains(k.Signature))
            .Select(k => $"{k.File} no longer shows '{k.Signature}' (it shows: {string.Join("; ", k.Failures.DefaultIfEmpty("nothing"))})")
            .ToList();
        Assert.True(gone.Count == 0, string.Join('\n', gone) + "\nif a fix did that, make the file a regression test naming the rule and delete it from Random/Found/");
    }
}
