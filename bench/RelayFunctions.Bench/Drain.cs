using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using RelayFunctions.Hosting;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Storage;

namespace RelayFunctions.Bench;

/// <summary>Drains the check queue with the app's own standalone queue listener, timing until every enqueued check is done.</summary>
public sealed class Drain(StorageClients storage, IQueueFunction function, QueueRunnerOptions options)
{
    private sealed class Counting(IQueueFunction inner) : IQueueFunction
    {
        public int Done;
        public int Failed;
        public string Name => inner.Name;
        public string QueueName => inner.QueueName;

        public async Task RunAsync(QueueMessage message, CancellationToken cancellationToken)
        {
            try
            {
                await inner.RunAsync(message, cancellationToken);
                // A message holds a batch of checks (or one).
                Interlocked.Add(ref Done, RelayFunctions.Scheduling.CheckBatch.Parse(message.Body).Items.Count);
            }
            catch
            {
                Interlocked.Add(ref Failed, RelayFunctions.Scheduling.CheckBatch.Parse(message.Body).Items.Count);
                throw;
            }
        }
    }

    public async Task<(TimeSpan Elapsed, int Done, int Failed)> RunAsync(int expected, TimeSpan timeout)
    {
        var counting = new Counting(function);
        var queue = storage.Queue(function.QueueName);
        var listener = new QueueListener(counting, queue, null, options, new QueueSignals(), NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();
        var run = listener.RunAsync(stop.Token);
        while (Volatile.Read(ref counting.Done) < expected && watch.Elapsed < timeout)
        {
            await Task.Delay(20);
        }
        var elapsed = watch.Elapsed;
        await stop.CancelAsync();
        await run;
        return (elapsed, counting.Done, counting.Failed);
    }
}
