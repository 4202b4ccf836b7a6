using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;

namespace RelayFunctions.Hosting.Timers;

/// <summary>
/// The timer's last and next occurrence, kept in a blob like the host's <c>StorageScheduleMonitor</c>
/// (<c>timers/{hostId}/{function}/status</c>), so a restart can tell a missed occurrence and run it at once.
/// </summary>
public sealed class ScheduleMonitor(BlobContainerClient container, string hostId)
{
    public sealed record Status(DateTimeOffset Last, DateTimeOffset Next, DateTimeOffset LastUpdated);

    public async Task<Status?> ReadAsync(string functionName, CancellationToken cancellationToken)
    {
        try
        {
            var content = await Blob(functionName).DownloadContentAsync(cancellationToken);
            return content.Value.Content.ToObjectFromJson<Status>();
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public Task WriteAsync(string functionName, Status status, CancellationToken cancellationToken) =>
        Blob(functionName).UploadAsync(BinaryData.FromObjectAsJson(status), overwrite: true, cancellationToken);

    private BlobClient Blob(string functionName) => container.GetBlobClient($"timers/{hostId}/{functionName}/status");
}
