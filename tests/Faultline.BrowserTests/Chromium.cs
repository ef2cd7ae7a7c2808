using System.Diagnostics;
using Microsoft.Playwright;

namespace Faultline.BrowserTests;

/// <summary>
/// Debian's chromium under Playwright, one for the test class. Playwright's driver (Node) ships inside its NuGet
/// package; the browser is the system's, installed by scripts/install-chromium.sh when missing, so a fresh machine
/// or CI runs these tests with `dotnet test` and nothing is downloaded but a Debian package.
/// </summary>
public sealed class Chromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string[] Arguments =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (!File.Exists(ExecutablePath)) Install();
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ExecutablePath, Headless = true, Args = Arguments });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
    }

    private static void Install()
    {
        string script = Path.Combine(Repository.Root, "scripts", "install-chromium.sh");
        using var install = Process.Start(new ProcessStartInfo("bash", [script]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = install.StandardOutput.ReadToEndAsync();
        string errors = install.StandardError.ReadToEnd();
        install.WaitForExit();
        if (install.ExitCode != 0 || !File.Exists(ExecutablePath))
            throw new InvalidOperationException($"{script} exited {install.ExitCode} without {ExecutablePath}: {output.Result}{errors}");
    }
}

/// <summary>Where the repository is, from the test binaries.</summary>
internal static class Repository
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Faultline.slnx"))) return dir.FullName;
        throw new InvalidOperationException("the repository root (Faultline.slnx) is not above the test binaries");
    }
}
