using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Faultline.Simulation;

namespace Faultline.Tests.Golden;

/// <summary>
/// The SHA-256 of the JSON report of every example scenario, under both policies and a few seeds, kept in
/// <c>report-digests.txt</c> beside this file. A change that should not change results leaves every digest as
/// it is; one that does (a bug fix) rewrites the file in the same commit, which names the fix
/// (<c>FAULTLINE_GOLDEN=update dotnet test --filter Golden</c>).
/// </summary>
internal static class GoldenDigests
{
    public static readonly string[] Policies = ["linux", "hardened"];
    public static readonly ulong[] Seeds = [1, 2, 3];

    public static string RepositoryRoot { get; } = FindRoot();
    public static string ScenarioFolder => Path.Combine(RepositoryRoot, "scenarios");
    public static string File => Path.Combine(RepositoryRoot, "tests", "Faultline.Tests", "Golden", "report-digests.txt");
    public static bool Updating => Environment.GetEnvironmentVariable("FAULTLINE_GOLDEN") == "update";

    public static IEnumerable<string> Scenarios() =>
        Directory.EnumerateFiles(ScenarioFolder, "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal)!;

    public static string Key(string scenario, string policy, ulong seed) => $"{scenario} {policy} {seed}";

    public static string Digest(string json) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));

    /// <summary>The digest of one run in this process.</summary>
    public static string RunInProcess(string scenario, string policy, ulong seed) =>
        Digest(JsonReportWriter.Serialize(Simulator.Run(ScenarioReader.Load(Path.Combine(ScenarioFolder, scenario)), seed, policy)));

    /// <summary>The checked-in digests, by key.</summary>
    public static Dictionary<string, string> Load()
    {
        var digests = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in System.IO.File.ReadAllLines(File))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split(' ');
            digests.Add(Key(parts[0], parts[1], ulong.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture)), parts[3]);
        }
        return digests;
    }

    public static void Save(IEnumerable<(string Key, string Digest)> digests)
    {
        var text = new StringBuilder("# scenario policy seed sha256-of-json-report; rewrite only with the commit that names the change\n");
        foreach (var (key, digest) in digests.OrderBy(d => d.Key, StringComparer.Ordinal)) text.Append(key).Append(' ').Append(digest).Append('\n');
        System.IO.File.WriteAllText(File, text.ToString());
    }

    /// <summary>The faultline command built beside the tests, run as a process of its own.</summary>
    public static (int Exit, string Stderr) RunCli(params string[] args)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "faultline.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        _ = stdout.Result;
        process.WaitForExit();
        return (process.ExitCode, stderr);
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (System.IO.File.Exists(Path.Combine(dir.FullName, "Faultline.slnx"))) return dir.FullName;
        throw new InvalidOperationException("the repository root (Faultline.slnx) is not above the test binaries");
    }
}
