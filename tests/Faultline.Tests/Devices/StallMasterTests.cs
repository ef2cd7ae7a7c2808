using Faultline.Devices;
using Faultline.Pcie;

namespace Faultline.Tests.Devices;

public sealed class StallMasterTests
{
    private sealed class RecordingPort : IStallMasterPort
    {
        public List<StallTransaction> Sent { get; } = [];
        public void SendTransaction(in StallTransaction transaction) => Sent.Add(transaction);
        public void SendTransaction(in StallTransaction transaction, long delayNs) => throw new InvalidOperationException("no retries configured here");
    }

    private sealed class RecordingObserver : IStallMasterObserver
    {
        public List<StallAccessResult> Results { get; } = [];
        public void AccessEnded(StallMaster master, in StallAccessResult result) => Results.Add(result);
    }

    private static (StallMaster Master, RecordingPort Port, RecordingObserver Observer) Master(int outstanding = 2)
    {
        var port = new RecordingPort();
        var observer = new RecordingObserver();
        return (new StallMaster(new StallMasterConfig { Name = "dma0", StreamId = 0x40, MaxOutstanding = outstanding }, port, observer), port, observer);
    }

    [Fact]
    public void H_SMMU_10_a_platform_master_sends_one_transaction_per_page_with_its_stream_id_and_at_most_n_outstanding()
    {
        var (master, port, _) = Master(outstanding: 2);
        var prefix = new PasidPrefix(new Pasid(7), ExecuteRequested: true, PrivilegedMode: true);
        master.Start(new DmaAccess(1, prefix, 0x10_000, 3, Write: false), 100);
        Assert.Equal([new StallTransaction(0, 0x40, 7, 0x10_000, false, true, true), new StallTransaction(1, 0x40, 7, 0x11_000, false, true, true)], port.Sent);
        Assert.Equal(2, master.Outstanding);
        Assert.Equal(1, master.Queued);
        master.OnTransactionCompleted(port.Sent[1], TransactionOutcome.Completed, 150);
        Assert.Equal(3, port.Sent.Count);
        Assert.Equal(0x12_000UL, port.Sent[2].Address);
    }

    [Fact]
    public void H_SMMU_6_an_access_ends_with_its_first_failure_and_its_latency()
    {
        var (master, port, observer) = Master(outstanding: 4);
        master.Start(new DmaAccess(1, null, 0x1000, 3, Write: true), 100);
        master.Start(new DmaAccess(2, null, 0x8000, 1, Write: false), 110);
        master.OnTransactionCompleted(port.Sent[0], TransactionOutcome.Completed, 120);
        master.OnTransactionCompleted(port.Sent[2], TransactionOutcome.TerminatedRazWi, 130);
        master.OnTransactionCompleted(port.Sent[3], TransactionOutcome.Completed, 140);
        master.OnTransactionCompleted(port.Sent[1], TransactionOutcome.Aborted, 400);
        master.OnTransactionCompleted(port.Sent[1], TransactionOutcome.Aborted, 401); // not in flight any more
        Assert.Equal([TransactionOutcome.Completed, TransactionOutcome.TerminatedRazWi], observer.Results.Select(r => r.Outcome));
        Assert.Equal([30L, 300L], observer.Results.Select(r => r.Latency));
        Assert.Equal(1, master.Counters.Completed);
        Assert.Equal(1, master.Counters.TerminatedRazWi);
        Assert.Equal(300, master.Counters.MaxLatency);
        Assert.Equal(1, master.Counters.UnexpectedCompletions);
        Assert.True(master.Idle);
    }
}
