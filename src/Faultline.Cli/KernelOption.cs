using Faultline.Faults;
using Faultline.Simulation;

namespace Faultline.Cli;

/// <summary>
/// <c>--kernel X.Y</c>: pins the <c>linux</c> policy to a release (<see cref="FaultPolicy.LinuxAt"/>). It overrides the
/// scenario's <c>kernel</c> key; <c>hardened</c> is the newest release with the POLs and is refused with either.
/// </summary>
internal static class KernelOption
{
    public const string HelpName = "X.Y";

    public static string Description =>
        $"Pin the linux policy to a Linux release from {KernelRelease.Oldest} to {KernelRelease.Newest} (the default); overrides the scenario's kernel key. Refused with hardened, which is {KernelRelease.Newest} with the POLs";

    /// <summary>
    /// The policy names to run (<paramref name="policyOption"/>, else the scenario's, comma-separated), each
    /// <c>linux</c> pinned to the release asked; null and <paramref name="error"/> when the pin cannot apply.
    /// </summary>
    public static string? Resolve(string? policyOption, string? kernelOption, Scenario scenario, out string? error)
    {
        error = null;
        var scenarioPolicy = FaultPolicy.ByName(scenario.Policy);
        bool scenarioPinned = scenarioPolicy is not null && scenarioPolicy != FaultPolicy.Hardened && scenarioPolicy != FaultPolicy.Linux;
        if (kernelOption is null && !scenarioPinned) return policyOption;

        KernelRelease release;
        string source;
        if (kernelOption is not null)
        {
            if (!KernelRelease.TryParseModelled(kernelOption, out release, out var parseError))
            {
                error = $"--kernel: {parseError}";
                return null;
            }
            source = $"--kernel {kernelOption}";
        }
        else
        {
            release = scenarioPolicy!.Kernel;
            source = $"the scenario's kernel key ({release})";
        }
        var names = (policyOption ?? scenario.Policy).Split(',');
        if (names.Contains("hardened"))
        {
            error = $"{source} pins the linux policy; hardened is {KernelRelease.Newest} with the POLs and takes no kernel (docs/policies.md)";
            return null;
        }
        if (scenario.MissingIn(release) is { } missing)
        {
            error = $"{source}: {missing}";
            return null;
        }
        return string.Join(',', names.Select(_ => FaultPolicy.LinuxAt(release).Name));
    }
}
