using System.Globalization;
using System.Text;
using Faultline.Pcie;
using Faultline.Simulation;
using Faultline.Sva;

namespace Faultline.Tests.Simulation;

/// <summary>
/// Large scenario files (issue 9: reading was quadratic in devices and cubic in VMAs) read in full,
/// and their errors are still the first in file order. Correctness only: timing is bench/'s.
/// </summary>
public sealed class ScenarioReaderScaleTests
{
    private const int Many = 10_000;

    [Fact]
    public void Reads_ten_thousand_devices_each_bound_and_driven_by_its_workload()
    {
        var s = ScenarioReader.Parse(Devices(Many), "devices.yaml");

        Assert.Equal(Many, s.Devices.Count);
        Assert.Equal(Many, s.Workloads.Count);
        for (int i = 0; i < Many; i++)
        {
            var d = s.Devices[i];
            Assert.Equal($"dev{i}", d.Name);
            Assert.Equal(new RequesterId((ushort)i), d.Requester);
            Assert.Equal("dmar0", d.Iommu);
            Assert.Equal(["p"], d.Bind);
            Assert.Equal((d.Name, "p", 1), (s.Workloads[i].Device, s.Workloads[i].Process, s.Workloads[i].Accesses));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // each VMA below the ones before it
    public void Reads_ten_thousand_vmas_of_one_process_in_file_order(bool descending)
    {
        var s = ScenarioReader.Parse(Vmas(Many, descending), "vmas.yaml");

        var vmas = Assert.Single(s.Processes).Vmas;
        Assert.Equal(Many, vmas.Count);
        for (int i = 0; i < Many; i++)
        {
            Assert.Equal(VmaStart(descending ? Many - 1 - i : i), vmas[i].Start);
            Assert.Equal(8, vmas[i].Pages);
            Assert.Equal(VmaPermissions.Read | VmaPermissions.Write, vmas[i].Permissions);
            Assert.Equal(0.5, vmas[i].Resident);
        }
    }

    [Fact]
    public void R27_the_first_vma_overlapping_an_earlier_one_is_reported_before_errors_in_later_vmas()
    {
        var text = Vmas(Many, false)
            .Replace(Vma(9000), Vma(9000).Replace($"0x{VmaStart(9000):x}", $"0x{VmaStart(3) + 0x7000:x}", StringComparison.Ordinal), StringComparison.Ordinal)
            .Replace(Vma(9400), Vma(9400).Replace($"0x{VmaStart(9400):x}", $"0x{VmaStart(9399):x}", StringComparison.Ordinal), StringComparison.Ordinal)
            .Replace(Vma(9500), Vma(9500).Replace("perm: rw", "perm: rq", StringComparison.Ordinal), StringComparison.Ordinal);

        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "vmas.yaml"));

        Assert.Equal("processes[0].vmas[9000].start", e.Key);
        Assert.Equal(LineOf(text, $"0x{VmaStart(3) + 0x7000:x}"), e.Line);
        var overlapping = new Vma(VmaStart(3) + 0x7000, 0x8000, VmaPermissions.Read | VmaPermissions.Write, FaultCost.Minor);
        Assert.Equal($"VMA {overlapping} overlaps another mapping of p", e.Problem);
    }

    [Fact]
    public void R27_an_error_in_a_vma_is_reported_before_a_later_vma_that_overlaps()
    {
        var text = Vmas(Many, false)
            .Replace(Vma(100), Vma(100).Replace("perm: rw", "perm: rq", StringComparison.Ordinal), StringComparison.Ordinal)
            .Replace(Vma(200), Vma(200).Replace($"0x{VmaStart(200):x}", $"0x{VmaStart(50):x}", StringComparison.Ordinal), StringComparison.Ordinal);

        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "vmas.yaml"));

        Assert.Equal("processes[0].vmas[100].perm", e.Key);
        Assert.Contains("not a permission string", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_vma_repeating_the_start_of_one_far_before_it_overlaps()
    {
        var text = Vmas(Many, true).Replace(Vma(0), Vma(0).Replace($"0x{VmaStart(0):x}", $"0x{VmaStart(Many - 1):x}", StringComparison.Ordinal), StringComparison.Ordinal);

        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "vmas.yaml"));

        Assert.Equal($"processes[0].vmas[{Many - 1}].start", e.Key);
        Assert.EndsWith("overlaps another mapping of p", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name: dev1999,", "name: dev5,", "devices[1999].name", "'dev5' is used twice")]
    [InlineData("rid: \"07:19.7\"", "rid: \"00:00.3\"", "devices[1999].rid", "00:00.3 is already the requester id of device 'dev3' behind dmar0")]
    [InlineData("- { device: dev1999, process: p", "- { device: dev2000, process: p", "workloads[1999].device", "'dev2000' is not one of: dev0, dev1, dev2")]
    [InlineData("- { device: dev1999, process: p", "- { device: dev1999, process: q", "workloads[1999].process", "'q' is not one of: p")]
    public void Errors_at_the_end_of_a_large_file_name_their_place(string good, string bad, string key, string problem)
    {
        var text = Devices(2_000);
        Assert.Equal(1, Count(text, good));
        text = text.Replace(good, bad, StringComparison.Ordinal);

        var e = Assert.Throws<ScenarioException>(() => ScenarioReader.Parse(text, "devices.yaml"));

        Assert.Equal(key, e.Key);
        Assert.StartsWith(problem, e.Problem, StringComparison.Ordinal);
        Assert.Equal(LineOf(text, bad), e.Line);
    }

    /// <summary><paramref name="count"/> functions behind one VT-d unit, each bound to p and driven by one workload.</summary>
    internal static string Devices(int count)
    {
        var s = new StringBuilder("name: scale-devices\niommus:\n  - { name: dmar0 }\nprocesses:\n  - name: p\n    vmas:\n      - { start: 0x10000000, pages: 64, perm: rw }\ndevices:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ name: dev{i}, rid: \"{new RequesterId((ushort)i)}\", iommu: dmar0, bind: [p] }}\n");
        s.Append("workloads:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ device: dev{i}, process: p, accesses: 1 }}\n");
        return s.ToString();
    }

    /// <summary>One process with <paramref name="count"/> VMAs of 8 pages, 16 pages apart.</summary>
    internal static string Vmas(int count, bool descending)
    {
        var s = new StringBuilder("name: scale-vmas\niommus:\n  - { name: dmar0 }\nprocesses:\n  - name: p\n    vmas:\n");
        for (int i = 0; i < count; i++) s.Append(Vma(descending ? count - 1 - i : i));
        s.Append("devices:\n  - { name: d0, rid: \"00:02.0\", iommu: dmar0, bind: [p] }\nworkloads:\n  - { device: d0, process: p }\n");
        return s.ToString();
    }

    private static string Vma(int i) => string.Create(CultureInfo.InvariantCulture, $"      - {{ start: 0x{VmaStart(i):x}, pages: 8, perm: rw, resident: 0.5 }}\n");

    private static ulong VmaStart(int i) => 0x1000_0000UL + ((ulong)i << 16);

    private static int Count(string text, string part) => (text.Length - text.Replace(part, "", StringComparison.Ordinal).Length) / part.Length;

    /// <summary>The line of the last occurrence of <paramref name="part"/>.</summary>
    private static long LineOf(string text, string part) => text[..text.LastIndexOf(part, StringComparison.Ordinal)].Count(c => c == '\n') + 1;
}
