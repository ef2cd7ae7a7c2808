namespace Faultline.Simulation;

/// <summary>
/// Where a rule an invariant names is explained: the file of the rule catalogue (docs/rules/) that holds its entry,
/// so the summary can send a reader there. A test checks the mapping against the catalogue's headings.
/// </summary>
public static class RuleCatalogue
{
    /// <summary>The catalogue file, relative to the repository, that holds <paramref name="rule"/>'s entry; the outputs page for the model's own invariants.</summary>
    public static string FileOf(string rule)
    {
        string file = rule switch
        {
            _ when rule.StartsWith("H-SMMUv2-", StringComparison.Ordinal) => "rules/smmuv2.md",
            _ when rule.StartsWith("H-SMMU-", StringComparison.Ordinal) => "rules/smmuv3.md",
            _ when rule.StartsWith("H-PCI-", StringComparison.Ordinal) => "rules/pcie.md",
            _ when rule.StartsWith("H-VTD-", StringComparison.Ordinal) => "rules/vtd.md",
            _ when rule.StartsWith("H-AMD-", StringComparison.Ordinal) => "rules/amd.md",
            _ when rule.StartsWith("POL-", StringComparison.Ordinal) => "rules/policies.md",
            _ when rule.StartsWith("BUG-", StringComparison.Ordinal) => "rules/bugs.md",
            _ when rule.Length > 1 && rule[0] == 'F' && int.TryParse(rule.AsSpan(1), out _) => "rules/framework.md",
            _ when rule.Length > 1 && rule[0] == 'R' && int.TryParse(rule.AsSpan(1), out int n) => n switch
            {
                <= 29 => "rules/framework.md",
                <= 34 => "rules/vtd.md",
                35 => "rules/amd.md",
                <= 38 => "rules/smmuv3.md",
                _ => "rules/userspace.md",
            },
            _ => "outputs.md", // isolation, conservation, quiescence: the model's own checks
        };
        return "docs/" + file;
    }
}
