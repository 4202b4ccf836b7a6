using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RelayFunctions.Hosting;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hosting;

/// <summary>The standalone app's timers and queue listeners live through storage going away and carry on when it is back.</summary>
public sealed class StorageOutageTests
{
    private sealed class ProbeFunction : IQueueFunction
    {
        public ConcurrentQueue<string> Seen { get; } = new();
        public string Name => "Probe";
        public string QueueName => "outage-probe";

        public Task RunAsync(QueueMessage message, CancellationToken cancellationToken)
        {
            Seen.Enqueue(message.Body);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task TheStandaloneAppKeepsRunningThroughAStorageOutageAndCarriesOnAfterIt()
    {
        using var azurite = new PrivateAzurite();
        var probe = new ProbeFunction();
        await using var app = new AppFactory(
            [
                new("AzureWebJobsStorage", azurite.ConnectionString),
                new("Hosting:HostId", "outage-" + Guid.NewGuid().ToString("N")[..8]),
                // Renewed every 7.5 s: the renewal meets the outage.
                new("Hosting:LockLease", "00:00:15"),
                new("Hosting:LockRecoveryInterval", "00:00:01"),
                new("AzureFunctionsJobHost:extensions:queues:maxPollingInterval", "00:00:00.500"),
            ],
            s => s.AddSingleton<IQueueFunction>(probe));
        _ = app.Services;
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        var queues = app.Services.GetRequiredService<QueueWriter>();
        await queues.SendAsync(probe.QueueName, "before");
        await Eventually.WaitAsync(() => Task.FromResult(probe.Seen.ToArray()), s => s.Contains("before"), TimeSpan.FromSeconds(30), "the message before the outage");

        // Long enough for the SDK's retries to run out on every loop (some 25 s with its default five retries, a few
        // seconds with the app's own): each ends in "Retry failed after n tries".
        azurite.Kill();
        await Task.Delay(TimeSpan.FromSeconds(40));
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the app stopped itself during the outage");

        azurite.Start();
        await queues.SendAsync(probe.QueueName, "after");
        await Eventually.WaitAsync(() => Task.FromResult(probe.Seen.ToArray()), s => s.Contains("after"), TimeSpan.FromSeconds(60), "the message after the outage");
        Assert.False(lifetime.ApplicationStopping.IsCancellationRequested, "the app stopped itself after the outage");
    }
}
