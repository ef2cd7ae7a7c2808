using Faultline.Devices;

namespace Faultline.Iommu.Smmuv2;

/// <summary>
/// An Arm SMMUv2 as its masters and its driver see it (docs/smmuv2.md §4): a stream-to-context map (a
/// simplification of SMR / S2CR: one StreamID selects one context bank) and the context banks with their
/// stall-on-fault model. Sans-IO: the host delivers transactions with the time and receives outcomes and
/// context interrupts through <see cref="ISmmuv2Platform"/>.
/// </summary>
public sealed class Smmuv2
{
    private readonly ISmmuv2Platform _platform;
    private readonly Dictionary<uint, int> _streams = new();
    private readonly ContextBank[] _banks;

    /// <summary>An SMMUv2 with <see cref="Smmuv2Config.ContextBanks"/> banks (1..128), SCTLR clear in each, and no stream mapped.</summary>
    public Smmuv2(Smmuv2Config config, ISmmuv2Platform platform)
    {
        if (config.ContextBanks is < 1 or > 128)
            throw new ArgumentOutOfRangeException(nameof(config), config.ContextBanks, "NUMCB is 1..128");
        Config = config;
        _platform = platform;
        _banks = new ContextBank[config.ContextBanks];
        for (int i = 0; i < _banks.Length; i++) _banks[i] = new ContextBank(this, i);
    }

    /// <summary>The SMMU's configuration.</summary>
    public Smmuv2Config Config { get; }
    /// <summary>The SMMU's name (<see cref="Smmuv2Config.Name"/>).</summary>
    public string Name => Config.Name;
    /// <summary>What the model counted.</summary>
    public Smmuv2Counters Counters { get; } = new();
    /// <summary>The context banks, by index.</summary>
    public IReadOnlyList<ContextBank> ContextBanks => _banks;

    /// <summary>S2CR.TYPE = translate, CBNDX = <paramref name="contextBank"/> for the stream (SMR matching StreamID exactly).</summary>
    public void MapStream(uint streamId, int contextBank)
    {
        if ((uint)contextBank >= (uint)_banks.Length)
            throw new ArgumentOutOfRangeException(nameof(contextBank), contextBank, $"{Name} has {_banks.Length} context banks");
        _streams[streamId] = contextBank;
    }

    /// <summary>Removes the stream's mapping, after which its transactions abort as unmatched; false if it had none.</summary>
    public bool UnmapStream(uint streamId) => _streams.Remove(streamId);

    /// <summary>The context bank <paramref name="streamId"/> maps to, or null.</summary>
    public int? ContextBankOf(uint streamId) => _streams.TryGetValue(streamId, out int bank) ? bank : null;

    /// <summary>A master's transaction reaches the SMMU.</summary>
    public void OnTransaction(in StallTransaction transaction, long now)
    {
        Counters.Transactions++;
        if (!_streams.TryGetValue(transaction.StreamId, out int bank))
        {
            Counters.UnmatchedStreams++;
            End(transaction, TransactionOutcome.Aborted);
            return;
        }
        _banks[bank].OnTransaction(transaction, now);
    }

    /// <summary>A read in global register space 1: SMMU_CBFRSYNRAn; other offsets read as 0.</summary>
    public uint ReadGr1(int offset)
    {
        int bank = (offset - Cbfrsynra.Offset(0)) >> 2;
        return (offset & 3) == 0 && bank >= 0 && bank < _banks.Length ? _banks[bank].Cbfrsynra : 0;
    }

    internal void End(in StallTransaction transaction, TransactionOutcome outcome) => _platform.TransactionEnded(this, transaction, outcome);

    internal void RaiseContextInterrupt(int contextBank)
    {
        Counters.ContextInterrupts++;
        _platform.RaiseContextInterrupt(this, contextBank);
    }
}
