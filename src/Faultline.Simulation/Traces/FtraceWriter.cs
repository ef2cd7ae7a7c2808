using System.Buffers.Binary;
using System.Globalization;
using Faultline.Faults;
using Faultline.Host;

namespace Faultline.Simulation.Traces;

/// <summary>
/// The run as the text of <c>/sys/kernel/tracing/trace</c>: one line per tracepoint hit, in the kernel's own
/// formats, with the usual <c>task-pid [cpu] flags timestamp: event: ...</c> prefix and virtual time as the
/// timestamp (microseconds, as tracefs prints its default clock). Formats, as of Linux v6.12–v6.18:
/// <list type="bullet">
/// <item><c>prq_report</c> and <c>qi_submit</c>: the <c>TP_printk</c> strings of drivers/iommu/intel/trace.h, the
/// descriptor text of <c>decode_prq_descriptor</c> (drivers/iommu/intel/iommu.h), whose private-data suffix ends
/// in its own newline, so such a line is followed by an empty one, as in a real capture.</item>
/// <item>Kernel log lines as the <c>printk:console</c> event (include/trace/events/printk.h, <c>"%s"</c>), with the
/// drivers' prefixes: <c>DMAR: </c> (intel/prq.c), <c>arm-smmu-v3 NAME: </c> (dev_info/dev_err of
/// arm-smmu-v3.c), <c>AMD-Vi: </c> (amd/ppr.c, init.c).</item>
/// <item><c>dev_fault</c> and <c>dev_page_response</c> for SMMUv3 and AMD, whose drivers have no page-request
/// tracepoint upstream: the formats of the proposed, never merged "trace/iommu: Add sva trace events" (2019);
/// a real capture has them only on a kernel carrying that patch. Faultline appends <c>iommu=NAME kind=KIND</c>, which
/// the patch does not print, so that a reader knows which IOMMU's overflow concerns the device, and <c>stall=1</c> on a
/// stalled transaction of a platform master (group = its stall tag).</item>
/// </list>
/// Task names and CPUs are nominal: the driver's interrupt thread for what it reads, a kworker for what it sends.
/// </summary>
public sealed class FtraceWriter : IDriverTrace
{
    private const int Cpus = 2;
    private readonly TextWriter _out;
    private readonly char[] _hex = new char[16];

    /// <summary>Writes the tracefs header to <paramref name="output"/>; every event follows as it happens.</summary>
    public FtraceWriter(TextWriter output)
    {
        _out = output;
        _out.Write("# tracer: nop\n#\n");
        _out.Write("#                                _-----=> irqs-off/BH-disabled\n");
        _out.Write("#                               / _----=> need-resched\n");
        _out.Write("#                              | / _---=> hardirq/softirq\n");
        _out.Write("#                              || / _--=> preempt-depth\n");
        _out.Write("#                              ||| / _-=> migrate-disable\n");
        _out.Write("#                              |||| /     delay\n");
        _out.Write("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n");
        _out.Write("#              | |         |   |||||     |         |\n");
    }

    /// <summary>Lines written, the header not counted.</summary>
    public long Lines { get; private set; }

    /// <inheritdoc />
    public void PageRequestReported(IommuUnit unit, string device, long sequence, ReadOnlySpan<byte> descriptor, long now)
    {
        ulong dw0 = BinaryPrimitives.ReadUInt64LittleEndian(descriptor), dw1 = BinaryPrimitives.ReadUInt64LittleEndian(descriptor[8..]);
        Prefix(IrqThread(unit), 100 + unit.Index, unit.Index % Cpus, "d....", now, "prq_report");
        _out.Write(unit.Name);
        _out.Write('/');
        _out.Write(device);
        _out.Write(" seq# ");
        _out.Write(sequence.ToString(CultureInfo.InvariantCulture));
        _out.Write(": rid=0x");
        Hex((dw0 >> 16) & 0xFFFF);
        _out.Write(" addr=0x");
        Hex(dw1 >> 12);
        _out.Write(' ');
        _out.Write((dw1 & 1) != 0 ? 'r' : '-');
        _out.Write((dw1 & 2) != 0 ? 'w' : '-');
        _out.Write((dw0 & (1UL << 52)) != 0 ? 'x' : '-');
        _out.Write((dw0 & (1UL << 53)) != 0 ? 'p' : '-');
        _out.Write((dw1 & 4) != 0 ? 'l' : '-');
        _out.Write(" pasid=0x");
        Hex((dw0 >> 32) & 0xFFFFF);
        _out.Write(" index=0x");
        Hex((dw1 >> 3) & 0x1FF);
        if ((dw0 & (1UL << 9)) != 0)
        {
            _out.Write(" private=0x");
            Hex(BinaryPrimitives.ReadUInt64LittleEndian(descriptor[16..]));
            _out.Write("/0x");
            Hex(BinaryPrimitives.ReadUInt64LittleEndian(descriptor[24..]));
            _out.Write('\n'); // decode_prq_descriptor's own newline
        }
        End();
    }

    /// <inheritdoc />
    public void InvalidationSubmitted(IommuUnit unit, ReadOnlySpan<byte> descriptor, long now)
    {
        Prefix(Kworker(unit), 200 + unit.Index, (unit.Index + 1) % Cpus, ".....", now, "qi_submit");
        ulong qw0 = BinaryPrimitives.ReadUInt64LittleEndian(descriptor);
        string? type = QiTypeName((int)(qw0 & 0xF));
        if (type is null)
        {
            _out.Write("0x");
            Hex(qw0 & 0xF);
        }
        else
        {
            _out.Write(type);
        }
        _out.Write(' ');
        _out.Write(unit.Name);
        _out.Write(':');
        for (int i = 0; i < 32; i += 8)
        {
            _out.Write(" 0x");
            Hex(i < descriptor.Length ? BinaryPrimitives.ReadUInt64LittleEndian(descriptor[i..]) : 0);
        }
        End();
    }

    /// <inheritdoc />
    public void FaultReported(IommuUnit unit, string device, in Fault fault, bool stall, long now)
    {
        Prefix(IrqThread(unit), 100 + unit.Index, unit.Index % Cpus, "d....", now, "dev_fault");
        // IOMMU_FAULT_PAGE_REQ is 2 in the uapi of the time (DMA_UNRECOV 1); flags and perm are the current kernel's bits.
        _out.Write(string.Create(CultureInfo.InvariantCulture,
            $"IOMMU:{device} type=2 reason=0 addr=0x{fault.Address:x16} fetch=0x{0:x16} pasid={fault.Pasid} group={fault.GroupId} flags={(uint)fault.Flags & 0x7:x} prot={(uint)fault.Permissions} iommu={unit.Name} kind={unit.Kind}{(stall ? " stall=1" : "")}"));
        End();
    }

    /// <inheritdoc />
    public void PageResponseSent(IommuUnit unit, string device, in PageResponse response, long now)
    {
        Prefix(Kworker(unit), 200 + unit.Index, (unit.Index + 1) % Cpus, ".....", now, "dev_page_response");
        _out.Write(string.Create(CultureInfo.InvariantCulture, $"IOMMU:{device} code={(uint)response.Code} pasid={response.Pasid} group={response.GroupId} iommu={unit.Name} kind={unit.Kind}"));
        End();
    }

    /// <inheritdoc />
    public void Log(IommuUnit? unit, string line, long now)
    {
        Prefix(unit is null ? "kworker/u4:0" : IrqThread(unit), unit is null ? 99 : 100 + unit.Index, unit is null ? 0 : unit.Index % Cpus, "d....", now, "console");
        _out.Write(unit?.Kind switch
        {
            "vtd" => "DMAR: ",
            "smmuv3" => $"arm-smmu-v3 {unit.Name}: ",
            "amd" => "AMD-Vi: ",
            null => "faultline: ",
            _ => $"{unit.Name}: ",
        });
        _out.Write(line);
        End();
    }

    /// <summary>The <c>__print_symbolic</c> table of <c>qi_submit</c>: the type names of QW0 3:0.</summary>
    internal static string? QiTypeName(int type) => type switch
    {
        1 => "cc_inv",
        2 => "iotlb_inv",
        3 => "dev_tlb_inv",
        4 => "iec_inv",
        5 => "inv_wait",
        6 => "p_iotlb_inv",
        7 => "pc_inv",
        8 => "p_dev_tlb_inv",
        9 => "page_grp_resp",
        _ => null,
    };

    /// <summary>The threaded IRQ handler's comm (TASK_COMM_LEN 16: at most 15 characters).</summary>
    private static string IrqThread(IommuUnit unit)
    {
        string name = $"irq/{40 + unit.Index}-{unit.Name}-{unit.Kind switch { "vtd" => "prq", "amd" => "ppr", _ => "priq" }}";
        return name.Length > 15 ? name[..15] : name;
    }

    private static string Kworker(IommuUnit unit) => $"kworker/u{2 * Cpus}:{unit.Index + 1}";

    /// <summary><c>"%16s-%-7d [%03d] %s %5lu.%06lu: %s: "</c>, as tracefs prints each line's context.</summary>
    private void Prefix(string task, int pid, int cpu, string flags, long now, string eventName)
    {
        long micros = now / 1000;
        _out.Write(string.Create(CultureInfo.InvariantCulture, $"{task,16}-{pid,-7} [{cpu:000}] {flags} {micros / 1_000_000,5}.{micros % 1_000_000:000000}: {eventName}: "));
    }

    private void End()
    {
        _out.Write('\n');
        Lines++;
    }

    /// <summary>%llx: lower-case hex, no leading zeros.</summary>
    private void Hex(ulong value)
    {
        int n = _hex.Length;
        do
        {
            int digit = (int)(value & 0xF);
            _hex[--n] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
            value >>= 4;
        } while (value != 0);
        _out.Write(_hex, n, _hex.Length - n);
    }
}
