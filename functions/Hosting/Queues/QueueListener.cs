using Azure;
using Azure.Storage.Queues;
using StorageMessage = Azure.Storage.Queues.Models.QueueMessage;

namespace RelayFunctions.Hosting.Queues;

/// <summary>
/// Drives one queue function standalone with the Functions host's semantics (reference §3): batches of
/// <c>batchSize</c>, a new batch when in-flight work drops to the threshold, a renewed lease while a message
/// runs, delete on success, retry with <c>visibilityTimeout</c> on failure, and after
/// <c>maxDequeueCount</c> failures one copy to <c>&lt;queue&gt;-poison</c>.
/// </summary>
public sealed partial class QueueListener(
    IQueueFunction function, QueueClient queue, QueueClient? poison, QueueRunnerOptions options,
    QueueSignals signals, ILogger logger)
{
    private static readonly TimeSpan CompletionTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ShutdownCompletionTimeout = TimeSpan.FromSeconds(1);

    private readonly PollingBackoff _backoff = new(options.MaxPollingInterval);

    public async Task RunAsync(CancellationToken stopping)
    {
        var inFlight = new List<Task>();
        try
        {
            await CreateQueueAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                inFlight.RemoveAll(t => t.IsCompleted);
                if (inFlight.Count > options.EffectiveNewBatchThreshold)
                {
                    await Task.WhenAny(inFlight);
                    continue;
                }

                StorageMessage[] batch;
                try
                {
                    var response = await queue.ReceiveMessagesAsync(options.BatchSize, options.MessageLease, stopping);
                    batch = response.Value;
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    // The queue went (storage came back without it): make it again rather than fail forever.
                    Log.ReceiveFailed(logger, e, queue.Name);
                    await CreateQueueAsync(stopping);
                    batch = [];
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    // Storage is away or hangs (the SDK's retries end in an AggregateException, a hang in a
                    // cancelled try): poll again after the backoff, and carry on when storage is back.
                    Log.ReceiveFailed(logger, e, queue.Name);
                    batch = [];
                }

                if (batch.Length > 0)
                {
                    _backoff.Reset();
                    inFlight.AddRange(batch.Select(m => ProcessAsync(m, stopping)));
                    continue;
                }

                await signals.WaitAsync(queue.Name, _backoff.NextDelay(), stopping);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        await Task.WhenAll(inFlight);
    }

    /// <summary>Waits out a storage outage at start instead of failing the app.</summary>
    private async Task CreateQueueAsync(CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                await queue.CreateIfNotExistsAsync(cancellationToken: stopping);
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                Log.ReceiveFailed(logger, e, queue.Name);
                await Task.Delay(_backoff.NextDelay(), stopping);
            }
        }
    }

    private async Task ProcessAsync(StorageMessage message, CancellationToken stopping)
    {
        var lease = new MessageLease(queue, message, options.MessageLease);
        try
        {
            if (message.DequeueCount > options.MaxDequeueCount)
            {
                using var poisoning = new CancellationTokenSource(CompletionTimeout);
                await MoveToPoisonAsync(message, lease, poisoning.Token);
                return;
            }

            bool succeeded;
            await using (lease.StartRenewal())
            {
                succeeded = await RunFunctionAsync(message, stopping);
            }

            // Completing is quick, but must not hold up a shutdown: the message comes back by itself if it fails.
            using var completion = new CancellationTokenSource(stopping.IsCancellationRequested ? ShutdownCompletionTimeout : CompletionTimeout);
            if (succeeded)
            {
                await queue.DeleteMessageAsync(message.MessageId, lease.PopReceipt, completion.Token);
            }
            else if (stopping.IsCancellationRequested)
            {
                // Stopped, not failed: hand the message to the next instance at once.
                await queue.UpdateMessageAsync(message.MessageId, lease.PopReceipt, visibilityTimeout: TimeSpan.Zero, cancellationToken: completion.Token);
            }
            else if (message.DequeueCount >= options.MaxDequeueCount)
            {
                await MoveToPoisonAsync(message, lease, completion.Token);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, lease.PopReceipt, visibilityTimeout: options.VisibilityTimeout, cancellationToken: completion.Token);
            }
        }
        catch (Exception e)
        {
            // The lease was lost (another receiver has the message now), storage failed or hung, or the app is
            // stopping; the message becomes visible again by itself, so nothing is lost.
            Log.CompletionFailed(logger, function.Name, message.MessageId, e.Message);
        }
    }

    private async Task<bool> RunFunctionAsync(StorageMessage message, CancellationToken stopping)
    {
        try
        {
            var body = message.Body.ToString();
            await function.RunAsync(
                new QueueMessage(message.MessageId, body, message.DequeueCount, message.InsertedOn), stopping);
            return true;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Log.Interrupted(logger, function.Name, message.MessageId);
            return false;
        }
        catch (Exception e)
        {
            Log.FunctionFailed(logger, e, function.Name, message.MessageId, message.DequeueCount);
            return false;
        }
    }

    private async Task MoveToPoisonAsync(StorageMessage message, MessageLease lease, CancellationToken cancellationToken)
    {
        if (poison is null)
        {
            // No poison queue can be named for this queue: leave the message invisible, as the host does.
            return;
        }
        await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        await poison.SendMessageAsync(message.Body, cancellationToken: cancellationToken);
        await queue.DeleteMessageAsync(message.MessageId, lease.PopReceipt, cancellationToken);
        Log.MovedToPoison(logger, message.MessageId, function.Name, poison.Name, message.DequeueCount);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Receiving from queue {Queue} failed")]
        public static partial void ReceiveFailed(ILogger logger, Exception exception, string queue);

        [LoggerMessage(Level = LogLevel.Error, Message = "{FunctionName} failed on message {MessageId} (dequeue count {DequeueCount})")]
        public static partial void FunctionFailed(ILogger logger, Exception exception, string functionName, string messageId, long dequeueCount);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Completing message {MessageId} of {FunctionName} failed ({Reason}); it will be seen again")]
        public static partial void CompletionFailed(ILogger logger, string functionName, string messageId, string reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "{FunctionName} was stopped on message {MessageId}; the message goes back to the queue")]
        public static partial void Interrupted(ILogger logger, string functionName, string messageId);

        [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} of {FunctionName} moved to {PoisonQueue} after {DequeueCount} tries")]
        public static partial void MovedToPoison(ILogger logger, string messageId, string functionName, string poisonQueue, long dequeueCount);
    }
}
