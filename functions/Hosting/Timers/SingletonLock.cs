using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;

namespace RelayFunctions.Hosting.Timers;

/// <summary>
/// A listener lock across instances: a blob lease on <c>locks/{hostId}/{function}.Listener</c>, as the
/// Functions host's SingletonManager takes it. Only the holder runs the timer.
/// </summary>
public sealed class SingletonLock(BlobContainerClient container, string hostId, string functionName, TimeSpan duration)
{
    private readonly BlobClient _blob = container.GetBlobClient($"locks/{hostId}/{functionName}.Listener");
    private readonly string _leaseId = Guid.NewGuid().ToString();

    public TimeSpan Duration => duration;

    public async Task<bool> TryAcquireAsync(CancellationToken cancellationToken)
    {
        await EnsureBlobAsync(cancellationToken);
        try
        {
            await _blob.GetBlobLeaseClient(_leaseId).AcquireAsync(duration, cancellationToken: cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            return false;
        }
    }

    public async Task<bool> TryRenewAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _blob.GetBlobLeaseClient(_leaseId).RenewAsync(cancellationToken: cancellationToken);
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Taken over, or storage is away or hangs (the SDK's retries end in an AggregateException): the lock
            // cannot be vouched for, so its holder stops and takes it again when storage is back.
            return false;
        }
    }

    /// <summary>Gives the lock up for the next instance; quickly, because it runs while the app stops.</summary>
    public async Task ReleaseAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        try
        {
            await _blob.GetBlobLeaseClient(_leaseId).ReleaseAsync(cancellationToken: timeout.Token);
        }
        catch (Exception)
        {
            // Expired, taken over, or storage is gone: the lease runs out by itself within its duration.
        }
    }

    private async Task EnsureBlobAsync(CancellationToken cancellationToken)
    {
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
        try
        {
            await _blob.UploadAsync(BinaryData.Empty, new BlobUploadOptions { Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All } }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // The blob is there (perhaps leased by another instance).
        }
    }
}
