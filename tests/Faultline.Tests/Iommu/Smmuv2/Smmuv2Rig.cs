using Faultline.Devices;
using Faultline.Iommu;
using Faultline.Iommu.Smmuv2;

namespace Faultline.Tests.Iommu.Smmuv2;

/// <summary>The outside of an SMMUv2 under test: context interrupts and transaction outcomes, in order.</summary>
internal sealed class RecordingSmmuv2Platform : ISmmuv2Platform
{
    public List<int> Interrupts { get; } = [];
    public List<(long Id, TransactionOutcome Outcome)> Ended { get; } = [];

    /// <summary>Runs on each interrupt (e.g. the driver's handler, as an IRQ would).</summary>
    public Action<int>? OnInterrupt { get; set; }

    public void RaiseContextInterrupt(Faultline.Iommu.Smmuv2.Smmuv2 smmu, int contextBank)
    {
        Interrupts.Add(contextBank);
        OnInterrupt?.Invoke(contextBank);
    }

    public void TransactionEnded(Faultline.Iommu.Smmuv2.Smmuv2 smmu, in StallTransaction transaction, TransactionOutcome outcome) =>
        Ended.Add((transaction.Id, outcome));
}

/// <summary>A stage-1 table of 4 KiB pages with their rights.</summary>
internal sealed class Stage1Table : IPageTable
{
    private readonly Dictionary<ulong, Translation> _pages = new();

    public void Map(ulong address, bool read = true, bool write = true, bool execute = false) =>
        _pages[address >> 12] = new Translation(true, read, write, execute);

    public Translation Translate(ulong address) => _pages.GetValueOrDefault(address >> 12, Translation.NotPresent);
}

/// <summary>One SMMUv2 with StreamID 0x21 on bank 1 and 0x22 on bank 2, both walking <see cref="Table"/>.</summary>
internal sealed class Smmuv2Rig
{
    public const uint Sid = 0x21;
    public const uint OtherSid = 0x22;
    public const int Bank = 1;
    public const int OtherBank = 2;
    public const ulong Mapped = 0x4000_1000;
    public const ulong Unmapped = 0x4000_8000;

    private long _nextId = 1;

    public Smmuv2Rig()
    {
        Smmu = new Faultline.Iommu.Smmuv2.Smmuv2(new Smmuv2Config { Name = "smmu0", ContextBanks = 4 }, Platform);
        Smmu.MapStream(Sid, Bank);
        Smmu.MapStream(OtherSid, OtherBank);
        Smmu.ContextBanks[Bank].PageTable = Table;
        Smmu.ContextBanks[OtherBank].PageTable = Table;
        Table.Map(Mapped);
    }

    public RecordingSmmuv2Platform Platform { get; } = new();
    public Stage1Table Table { get; } = new();
    public Faultline.Iommu.Smmuv2.Smmuv2 Smmu { get; }
    public ContextBank Cb => Smmu.ContextBanks[Bank];

    /// <summary>SCTLR of the rig's bank: M, CFRE, CFIE, and CFCFG / HUPCF as asked.</summary>
    public void Configure(bool stall = true, bool hupcf = false, bool cfie = true, bool cfre = true, int bank = Bank) =>
        Smmu.ContextBanks[bank].Write(ContextBankRegisters.Sctlr, new Sctlr(true, cfre, cfie, stall, hupcf).Encode(), 0);

    public long Send(ulong address, bool write = false, long now = 0, uint sid = Sid, bool instruction = false, bool privileged = false)
    {
        long id = _nextId++;
        Smmu.OnTransaction(new StallTransaction(id, sid, null, address, write, instruction, privileged), now);
        return id;
    }

    public void WriteResume(bool terminate, long now = 0) => Cb.Write(ContextBankRegisters.Resume, terminate ? 1u : 0u, now);

    public Fsr Fsr => Fsr.Decode(Cb.Read(ContextBankRegisters.Fsr)).Value;

    public TransactionOutcome? OutcomeOf(long id) =>
        Platform.Ended.Where(e => e.Id == id).Select(e => (TransactionOutcome?)e.Outcome).SingleOrDefault();
}
