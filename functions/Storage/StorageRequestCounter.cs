using Azure.Core;
using Azure.Core.Pipeline;

namespace RelayFunctions.Storage;

/// <summary>
/// Counts the requests the app sends to each storage service (tables, queues, blobs), retries included. Registered
/// by the benchmark to report storage operations per tick; absent in the app, where it costs nothing.
/// </summary>
public sealed class StorageRequestCounter : HttpPipelineSynchronousPolicy
{
    private long _tables;
    private long _queues;
    private long _blobs;

    public long Tables => Interlocked.Read(ref _tables);
    public long Queues => Interlocked.Read(ref _queues);
    public long Blobs => Interlocked.Read(ref _blobs);
    public long Total => Tables + Queues + Blobs;

    public void Reset()
    {
        Interlocked.Exchange(ref _tables, 0);
        Interlocked.Exchange(ref _queues, 0);
        Interlocked.Exchange(ref _blobs, 0);
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        var uri = message.Request.Uri.ToUri();
        // Azurite puts the service on its own port; Azure on its own host name.
        var service = uri.Host.Contains(".table.", StringComparison.Ordinal) || uri.Port == TablePort ? 0
            : uri.Host.Contains(".queue.", StringComparison.Ordinal) || uri.Port == QueuePort ? 1 : 2;
        Interlocked.Increment(ref service == 0 ? ref _tables : ref service == 1 ? ref _queues : ref _blobs);
    }

    internal int TablePort { get; set; } = -1;
    internal int QueuePort { get; set; } = -1;
}
