using System.Globalization;
using System.Text;
using Faultline.Simulation;

namespace Faultline.Tests.Simulation;

/// <summary>
/// Issue 14 (and issue 9 before it): every reader path is linear in its input, and a scenario at the page limits
/// costs bitmaps, not a set of pages. Work is measured as bytes allocated on the reading thread, which is the same
/// run after run: a path that rebuilds or copies per item (issue 9's fresh address space per VMA) grows with the
/// square of the file, and 8× the items then allocates ~64× instead of ~8×. No clock is read; a pure CPU scan that
/// allocates nothing is bench/ScenarioReadBenchmark's to catch.
/// </summary>
public sealed class ScenarioReaderLinearityTests
{
    private const int Small = 1_000, Large = 8 * Small;

    public static TheoryData<string> Shapes() => ["devices", "vmas", "vmas-descending", "masters", "smmuv2-masters", "guests", "events", "binds"];

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Reading_allocates_in_proportion_to_the_file_not_its_square(string shape)
    {
        Allocated(Text(shape, Small)); // JIT and first-use costs out of the way
        long small = Allocated(Text(shape, Small)), large = Allocated(Text(shape, Large));
        Assert.InRange((double)large / small, 1, 16);
    }

    [Fact]
    public void A_run_setup_at_the_resident_pages_limit_keeps_its_pages_in_bitmaps()
    {
        long pages = ScenarioLimits.Default.ResidentPages;
        var scenario = ScenarioReader.Parse(string.Create(CultureInfo.InvariantCulture, $$"""
            name: resident-limit
            iommus: [ { name: dmar0 } ]
            processes: [ { name: p, vmas: [ { start: 0x100000000000, pages: {{pages}}, perm: rw, resident: 1.0 } ] } ]
            devices: [ { name: d0, rid: "00:02.0", iommu: dmar0, bind: [p] } ]
            workloads: [ { device: d0, process: p, accesses: 0 } ]
            """), "resident.yaml");

        long before = GC.GetAllocatedBytesForCurrentThread();
        var report = Simulator.Run(scenario);
        long bytes = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(report.Quiesced);
        // A set of 2^23 single pages is hundreds of MiB; bitmaps of the chunks are 1 MiB, plus the run's own state.
        Assert.True(bytes < 64L << 20, $"{bytes} bytes allocated");
    }

    private static long Allocated(string text)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        ScenarioReader.Parse(text, "linear.yaml");
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>A valid scenario with <paramref name="n"/> items of the given shape.</summary>
    private static string Text(string shape, int n)
    {
        switch (shape)
        {
            case "devices": return ScenarioReaderScaleTests.Devices(n);
            case "vmas": return ScenarioReaderScaleTests.Vmas(n, false);
            case "vmas-descending": return ScenarioReaderScaleTests.Vmas(n, true);
        }
        var s = new StringBuilder("name: linear\niommus:\n  - { name: dmar0 }\n  - { name: smmu0, type: smmuv3 }\n");
        for (int i = 0; shape == "smmuv2-masters" && i < n / 100; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: v2u{i}, type: smmuv2, context_banks: 100 }}\n");
        s.Append("processes:\n  - { name: p, vmas: [ { start: 0x10000000, pages: 64, perm: rw } ] }\n");
        int processes = shape is "guests" or "binds" or "smmuv2-masters" ? n : 0;
        for (int i = 0; i < processes; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: q{i}, vmas: [ {{ start: 0x10000000, pages: 8, perm: rw }} ] }}\n");
        s.Append("devices:\n  - { name: d0, rid: \"00:02.0\", iommu: dmar0, bind: [p] }\n");
        if (shape == "binds") s.Append("  - { name: d1, rid: \"00:03.0\", iommu: dmar0, bind: [").AppendJoin(", ", Enumerable.Range(0, n).Select(i => $"q{i}")).Append("] }\n");
        for (int i = 0; shape == "guests" && i < n; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: g{i}dev, rid: \"{new Faultline.Pcie.RequesterId((ushort)(i + 0x100))}\", iommu: dmar0 }}\n");
        if (shape is "masters" or "smmuv2-masters") s.Append("masters:\n");
        for (int i = 0; shape == "masters" && i < n; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: m{i}, stream_id: 0x{0x10000 + i:x}, iommu: smmu0, bind: [p] }}\n");
        for (int i = 0; shape == "smmuv2-masters" && i < n; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: m{i}, stream_id: 0x{0x10000 + i:x}, iommu: v2u{i / 100}, bind: [q{i}] }}\n");
        if (shape == "guests") s.Append("guests:\n");
        for (int i = 0; shape == "guests" && i < n; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: g{i}, device: g{i}dev, process: q{i} }}\n");
        if (shape == "events") s.Append("events:\n");
        for (int i = 0; shape == "events" && i < n; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ at: {i}us, {(i % 2 == 0 ? "unbind" : "bind")}: {{ device: d0, process: p }} }}\n");
        s.Append("workloads:\n  - { device: d0, process: p, accesses: 1 }\n");
        return s.ToString();
    }
}
