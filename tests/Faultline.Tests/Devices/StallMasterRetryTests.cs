using Faultline.Devices;

namespace Faultline.Tests.Devices;

/// <summary>A stall master that resends an aborted transaction (<c>masters[].retry</c>), the device half of POL-12 without victims.</summary>
public sealed class StallMasterRetryTests
{
    private sealed class DelayingPort : IStallMasterPort
    {
        public List<(StallTransaction Transaction, long DelayNs)> Sent { get; } = [];
        public void SendTransaction(in StallTransaction transaction) => Sent.Add((transaction, 0));
        public void SendTransaction(in StallTransaction transaction, long delayNs) => Sent.Add((transaction, delayNs));
    }

    private sealed class Results : IStallMasterObserver
    {
        public List<StallAccessResult> Ended { get; } = [];
        public void AccessEnded(StallMaster master, in StallAccessResult result) => Ended.Add(result);
    }

    private static (StallMaster, DelayingPort, Results) Master(int retries)
    {
        var port = new DelayingPort();
        var results = new Results();
        var config = new StallMasterConfig { Name = "slow0", StreamId = 0x10, MaxOutstanding = 2, Retries = retries, RetryDelayNs = 100_000 };
        return (new StallMaster(config, port, results), port, results);
    }

    [Fact]
    public void POL_12_an_aborted_transaction_is_sent_again_after_the_delay_and_the_access_completes_when_a_retry_does()
    {
        var (master, port, results) = Master(retries: 2);
        master.Start(new DmaAccess(1, null, 0x1000, 1, false), now: 0);
        master.OnTransactionCompleted(port.Sent[0].Transaction, TransactionOutcome.Aborted, now: 10);
        Assert.Equal(2, port.Sent.Count);
        Assert.Equal(100_000, port.Sent[1].DelayNs);
        Assert.Equal(port.Sent[0].Transaction with { Id = port.Sent[1].Transaction.Id }, port.Sent[1].Transaction);
        Assert.NotEqual(port.Sent[0].Transaction.Id, port.Sent[1].Transaction.Id);
        Assert.Equal(1, master.Outstanding); // the retry keeps the slot
        Assert.Empty(results.Ended);
        master.OnTransactionCompleted(port.Sent[1].Transaction, TransactionOutcome.Completed, now: 100_200);
        var ended = Assert.Single(results.Ended);
        Assert.Equal(TransactionOutcome.Completed, ended.Outcome);
        Assert.Equal(100_200, ended.Latency);
        Assert.Equal(1, master.Counters.Retried);
        Assert.Equal(2, master.Counters.Transactions);
    }

    [Fact]
    public void POL_12_an_abort_past_the_last_retry_ends_the_access_and_raz_wi_is_never_retried()
    {
        var (master, port, results) = Master(retries: 1);
        master.Start(new DmaAccess(1, null, 0x1000, 1, false), now: 0);
        master.OnTransactionCompleted(port.Sent[0].Transaction, TransactionOutcome.Aborted, now: 10);
        master.OnTransactionCompleted(port.Sent[1].Transaction, TransactionOutcome.Aborted, now: 100_020);
        Assert.Equal(TransactionOutcome.Aborted, Assert.Single(results.Ended).Outcome);
        Assert.Equal(2, port.Sent.Count);

        master.Start(new DmaAccess(2, null, 0x2000, 1, false), now: 200_000);
        master.OnTransactionCompleted(port.Sent[2].Transaction, TransactionOutcome.TerminatedRazWi, now: 200_010);
        Assert.Equal(TransactionOutcome.TerminatedRazWi, results.Ended[1].Outcome);
        Assert.Equal(3, port.Sent.Count);
    }

    [Fact]
    public void POL_12_by_default_an_abort_ends_the_access()
    {
        var (master, port, results) = Master(retries: 0);
        master.Start(new DmaAccess(1, null, 0x1000, 1, false), now: 0);
        master.OnTransactionCompleted(port.Sent[0].Transaction, TransactionOutcome.Aborted, now: 10);
        Assert.Equal(TransactionOutcome.Aborted, Assert.Single(results.Ended).Outcome);
        Assert.Equal(0, master.Counters.Retried);
    }
}
