using System.Globalization;
using System.Text;

namespace Faultline.Bench;

/// <summary>
/// Scenario texts large in one dimension, for measuring how reading them scales: many PCIe
/// functions (with a workload each), many VMAs in one process, or many of every list at once
/// (IOMMUs, processes, functions, masters, guests, events, workloads).
/// </summary>
public static class ScaleScenarios
{
    /// <summary><paramref name="count"/> functions behind one VT-d unit, each bound to one process and driven by one workload.</summary>
    public static string Devices(int count)
    {
        var s = new StringBuilder();
        s.Append("name: scale-devices\niommus:\n  - { name: dmar0 }\nprocesses:\n  - name: p\n    vmas:\n      - { start: 0x10000000, pages: 64, perm: rw }\ndevices:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ name: dev{i}, rid: \"{Rid(i)}\", iommu: dmar0, bind: [p] }}\n");
        s.Append("workloads:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ device: dev{i}, process: p, accesses: 1 }}\n");
        return s.ToString();
    }

    /// <summary>One process with <paramref name="count"/> VMAs of 8 pages, 16 pages apart, ascending or descending.</summary>
    public static string Vmas(int count, bool descending = false)
    {
        var s = new StringBuilder();
        s.Append("name: scale-vmas\niommus:\n  - { name: dmar0 }\nprocesses:\n  - name: p\n    vmas:\n");
        for (int i = 0; i < count; i++)
        {
            int at = descending ? count - 1 - i : i;
            s.Append(CultureInfo.InvariantCulture, $"      - {{ start: 0x{VmaStart(at):x}, pages: 8, perm: rw, resident: 0.5 }}\n");
        }
        s.Append("devices:\n  - { name: d0, rid: \"00:02.0\", iommu: dmar0, bind: [p] }\nworkloads:\n  - { device: d0, process: p }\n");
        return s.ToString();
    }

    public static ulong VmaStart(int i) => 0x1000_0000UL + ((ulong)i << 16);

    /// <summary>
    /// <paramref name="count"/> of every list: VT-d units and SMMUv3s, processes, functions (each
    /// bound to its own process), guests (each owning one more function and process), stall masters,
    /// bind and unbind events, workloads on the functions and the guests' functions.
    /// </summary>
    public static string Wide(int count)
    {
        var s = new StringBuilder();
        s.Append("name: scale-wide\niommus:\n");
        for (int i = 0; i < count; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: dmar{i} }}\n");
        for (int i = 0; i < count; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: smmu{i}, type: smmuv3 }}\n");
        s.Append("processes:\n");
        for (int i = 0; i < 2 * count; i++) s.Append(CultureInfo.InvariantCulture, $"  - {{ name: p{i}, vmas: [ {{ start: 0x10000000, pages: 16, perm: rw }} ] }}\n");
        s.Append("devices:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ name: dev{i}, rid: \"{Rid(i)}\", iommu: dmar{i % count}, bind: [p{i}] }}\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ name: gdev{i}, rid: \"{Rid(count + i)}\", iommu: dmar{i % count}, bind: [] }}\n");
        s.Append("masters:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ name: m{i}, stream_id: {i}, iommu: smmu{i % count}, bind: [p{i}] }}\n");
        s.Append("guests:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ name: g{i}, device: gdev{i}, process: p{count + i} }}\n");
        s.Append("events:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ at: {i + 1}us, unbind: {{ device: dev{i}, process: p{i} }} }}\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ at: {count + i + 1}us, bind: {{ device: m{i}, process: p{(i + 1) % count} }} }}\n");
        s.Append("workloads:\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ device: dev{i}, process: p{i}, accesses: 1 }}\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ device: m{i}, process: p{(i + 1) % count}, accesses: 1 }}\n");
        for (int i = 0; i < count; i++)
            s.Append(CultureInfo.InvariantCulture, $"  - {{ device: gdev{i}, process: p{count + i}, accesses: 1 }}\n");
        return s.ToString();
    }

    /// <summary>The i-th requester id, bus:device.function, in order.</summary>
    public static string Rid(int i) => string.Create(CultureInfo.InvariantCulture, $"{i >> 8:x2}:{(i >> 3) & 0x1F:x2}.{i & 7:x}");
}
