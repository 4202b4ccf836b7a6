using Microsoft.Extensions.Options;
using RelayFunctions.Storage;

namespace RelayFunctions.Hosting.Queues;

/// <summary>Standalone only: one <see cref="QueueListener"/> per queue function.</summary>
public sealed class QueueRunner(
    FunctionCatalog catalog, StorageClients storage, IOptions<QueueRunnerOptions> options,
    QueueSignals signals, ILoggerFactory loggers) : BackgroundService
{
    /// <summary>Queue names are at most 63 characters; the host makes no poison queue past that, nor for a poison queue.</summary>
    public static string? PoisonQueueName(string queueName)
    {
        const string suffix = "-poison";
        if (queueName.EndsWith(suffix, StringComparison.Ordinal) || queueName.Length + suffix.Length > 63)
        {
            return null;
        }
        return queueName + suffix;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var logger = loggers.CreateLogger<QueueListener>();
        var listeners = catalog.Queues.Select(function =>
        {
            var queue = storage.Queue(function.QueueName);
            var poisonName = PoisonQueueName(queue.Name);
            var poison = poisonName is null ? null : storage.Queues.GetQueueClient(poisonName);
            var listener = new QueueListener(function, queue, poison, options.Value, signals, logger);
            return BackgroundLoop.RunAsync(function.Name, listener.RunAsync, logger, TimeProvider.System, stoppingToken);
        });
        return Task.WhenAll(listeners);
    }
}
