using Faultline.Iommu;

namespace Faultline.Tests.Iommu;

public sealed class CommandSubmitterTests
{
    [Fact]
    public void A_full_queue_keeps_commands_in_order_until_there_is_room()
    {
        var queue = new List<byte>();
        int room = 1;
        var submitter = new CommandSubmitter(c =>
        {
            if (room == 0) return false;
            room--;
            queue.Add(c[0]);
            return true;
        });

        Assert.False(submitter.Submit([1]));
        Assert.True(submitter.Submit([2]));  // full: waits
        room = 5;
        Assert.True(submitter.Submit([3]));  // room, but 2 waits ahead of it: order is kept
        Assert.Equal([1], queue);
        Assert.Equal(2, submitter.Waiting);
        submitter.Retry();
        Assert.Equal([1, 2, 3], queue);
        Assert.Equal(0, submitter.Waiting);
    }
}
