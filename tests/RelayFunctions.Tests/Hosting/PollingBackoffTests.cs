using RelayFunctions.Hosting.Queues;

namespace RelayFunctions.Tests.Hosting;

[Trait("Category", "Fast")]
public sealed class PollingBackoffTests
{
    [Fact]
    public void DelaysDoubleWithJitterUpToTheMaximumAndResetWhenMessagesArrive()
    {
        var backoff = new PollingBackoff(TimeSpan.FromSeconds(2), new Random(7));
        var delays = Enumerable.Range(0, 10).Select(_ => backoff.NextDelay().TotalMilliseconds).ToArray();

        Assert.InRange(delays[0], 80, 120);
        Assert.InRange(delays[1], 160, 240);
        Assert.InRange(delays[2], 320, 480);
        Assert.All(delays, d => Assert.True(d <= 2000));
        Assert.InRange(delays[^1], 1600, 2000);

        backoff.Reset();
        Assert.InRange(backoff.NextDelay().TotalMilliseconds, 80, 120);
    }
}
