using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using RelayFunctions.Hosting;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hosting;

/// <summary>The standalone queue runner against Azurite, with the Functions host's retry and poison semantics.</summary>
public sealed class QueueRunnerTests
{
    private readonly StorageClients _storage = Azurite.NewStorageClients();

    private sealed class RecordingFunction(string queue, Func<QueueMessage, Task> run) : IQueueFunction
    {
        public ConcurrentQueue<QueueMessage> Seen { get; } = new();
        public string Name => "Test" + queue;
        public string QueueName => queue;

        public async Task RunAsync(QueueMessage message, CancellationToken cancellationToken)
        {
            Seen.Enqueue(message);
            await run(message);
        }
    }

    private async Task<(Task Run, CancellationTokenSource Stop)> StartAsync(IQueueFunction function, QueueRunnerOptions options)
    {
        var queue = _storage.Queue(function.QueueName);
        await queue.CreateIfNotExistsAsync();
        var poison = _storage.Queues.GetQueueClient(QueueRunner.PoisonQueueName(queue.Name)!);
        var listener = new QueueListener(function, queue, poison, options, new QueueSignals(), NullLogger.Instance);
        var stop = new CancellationTokenSource();
        return (Task.Run(() => listener.RunAsync(stop.Token)), stop);
    }

    private static async Task Until(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting for the condition.");
            await Task.Delay(100);
        }
    }

    private static QueueRunnerOptions Fast(int maxDequeue = 5) => new()
    {
        BatchSize = 4,
        MaxDequeueCount = maxDequeue,
        VisibilityTimeout = TimeSpan.Zero,
        MaxPollingInterval = TimeSpan.FromMilliseconds(500),
    };

    [Fact]
    public async Task ASuccessfulMessageRunsOnceAndIsDeleted()
    {
        var function = new RecordingFunction("ok", _ => Task.CompletedTask);
        var (run, stop) = await StartAsync(function, Fast());
        await new QueueWriter(_storage, new QueueSignals()).SendAsync("ok", """{"helper":"a"}""");

        await Until(() => Task.FromResult(function.Seen.Count == 1), TimeSpan.FromSeconds(20));
        await Until(async () => (await _storage.Queue("ok").GetPropertiesAsync()).Value.ApproximateMessagesCount == 0, TimeSpan.FromSeconds(10));
        await Task.Delay(1000);
        await stop.CancelAsync();
        await run;

        var message = Assert.Single(function.Seen);
        Assert.Equal("""{"helper":"a"}""", message.Body);
        Assert.Equal(1, message.DequeueCount);
    }

    [Fact]
    public async Task AMessageThatFailsFiveTimesLandsInThePoisonQueueExactlyOnce()
    {
        var function = new RecordingFunction("failing", _ => throw new InvalidOperationException("always fails"));
        var (run, stop) = await StartAsync(function, Fast());
        await _storage.Queue("failing").SendMessageAsync("""{"n":1}""");

        var poison = _storage.Queues.GetQueueClient(_storage.QueueName("failing") + "-poison");
        await Until(async () => await poison.ExistsAsync() && (await poison.PeekMessagesAsync(10)).Value.Length > 0, TimeSpan.FromSeconds(30));
        await Task.Delay(1500);
        await stop.CancelAsync();
        await run;

        Assert.Equal([1L, 2, 3, 4, 5], function.Seen.Select(m => m.DequeueCount).ToArray());
        var poisoned = (await poison.ReceiveMessagesAsync(32)).Value;
        Assert.Single(poisoned);
        Assert.Equal("""{"n":1}""", poisoned[0].Body.ToString());
        Assert.Empty((await _storage.Queue("failing").PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task AMessageThatSucceedsOnItsThirdTryIsNotPoisoned()
    {
        var function = new RecordingFunction("flaky", m => m.DequeueCount < 3 ? throw new TimeoutException() : Task.CompletedTask);
        var (run, stop) = await StartAsync(function, Fast());
        await _storage.Queue("flaky").SendMessageAsync("""{"n":2}""");

        await Until(() => Task.FromResult(function.Seen.Count == 3), TimeSpan.FromSeconds(20));
        await Task.Delay(1000);
        await stop.CancelAsync();
        await run;

        Assert.Equal(3, function.Seen.Count);
        var poison = _storage.Queues.GetQueueClient(_storage.QueueName("flaky") + "-poison");
        Assert.False(await poison.ExistsAsync() && (await poison.PeekMessagesAsync()).Value.Length > 0);
    }

    [Fact]
    public async Task ALongRunningMessageKeepsItsLeaseAndIsNotDeliveredTwice()
    {
        var function = new RecordingFunction("slow", _ => Task.Delay(TimeSpan.FromSeconds(5)));
        var options = Fast();
        options.MessageLease = TimeSpan.FromSeconds(2);
        var (run, stop) = await StartAsync(function, options);

        // A second, independent listener polls the same queue: it would take the message if the lease lapsed.
        var rival = new RecordingFunction("slow", _ => Task.CompletedTask);
        var (rivalRun, rivalStop) = await StartAsync(rival, options);

        await _storage.Queue("slow").SendMessageAsync("""{"n":3}""");
        await Until(() => Task.FromResult(function.Seen.Count + rival.Seen.Count == 1), TimeSpan.FromSeconds(10));
        await Task.Delay(TimeSpan.FromSeconds(7));
        await stop.CancelAsync();
        await rivalStop.CancelAsync();
        await Task.WhenAll(run, rivalRun);

        Assert.Equal(1, function.Seen.Count + rival.Seen.Count);
        Assert.Empty((await _storage.Queue("slow").PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task MessagesAreBase64OnTheWireAsTheFunctionsHostExpects()
    {
        await new QueueWriter(_storage, new QueueSignals()).SendAsync("wire", """{"x":"ü"}""");
        var raw = new Azure.Storage.Queues.QueueClient(Azurite.ConnectionString, _storage.QueueName("wire"));
        var peeked = (await raw.PeekMessagesAsync()).Value.Single();
        Assert.Equal(Convert.ToBase64String("""{"x":"ü"}"""u8.ToArray()), peeked.Body.ToString());
    }

    [Fact]
    public void PoisonQueueNamesFollowTheHostsRules()
    {
        Assert.Equal("checks-poison", QueueRunner.PoisonQueueName("checks"));
        Assert.Null(QueueRunner.PoisonQueueName("checks-poison"));
        Assert.Null(QueueRunner.PoisonQueueName(new string('q', 60)));
    }
}
