using Azure;
using RelayFunctions.Storage;

namespace RelayFunctions.Hosting.Queues;

/// <summary>Sends messages to the app's queues (base64, as the Functions host reads them) and wakes local listeners.</summary>
public sealed class QueueWriter(StorageClients storage, QueueSignals signals)
{
    public async Task SendAsync(string logicalQueue, string body, TimeSpan? visibilityDelay = null, CancellationToken cancellationToken = default)
    {
        var queue = storage.Queue(logicalQueue);
        try
        {
            await queue.SendMessageAsync(body, visibilityDelay, cancellationToken: cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            await queue.SendMessageAsync(body, visibilityDelay, cancellationToken: cancellationToken);
        }
        signals.Notify(storage.QueueName(logicalQueue));
    }
}
