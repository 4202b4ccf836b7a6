using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;

namespace RelayFunctions.RelayMap;

/// <summary>
/// One publication at a time: a blob lease on <c>publish.lock</c>, renewed while the publication runs and released
/// after it (an instance that dies lets it lapse within <see cref="Duration"/>). Publications that overlapped would
/// each be correct on the chain (the pointer moves only from the generation one was built on), but one could read the
/// change log between another's pointer move and its acknowledgement, and count that one's domains again.
/// </summary>
public sealed class PublishLock : IAsyncDisposable
{
    public static readonly TimeSpan Duration = TimeSpan.FromSeconds(60);
    private readonly BlobLeaseClient _lease;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _renewal;

    private PublishLock(BlobLeaseClient lease, TimeProvider time)
    {
        _lease = lease;
        _renewal = RenewAsync(time, _stop.Token);
    }

    /// <summary>Waits for the lease (another publication holds it for seconds at most, or lets it lapse).</summary>
    public static async Task<PublishLock> AcquireAsync(BlobContainerClient container, TimeProvider time, CancellationToken cancellationToken)
    {
        var blob = container.GetBlobClient("publish.lock");
        try
        {
            await blob.UploadAsync(BinaryData.FromString(""), overwrite: false, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // It exists (and may be leased).
        }
        var lease = blob.GetBlobLeaseClient();
        while (true)
        {
            try
            {
                await lease.AcquireAsync(Duration, cancellationToken: cancellationToken);
                return new PublishLock(lease, time);
            }
            catch (RequestFailedException e) when (e.Status == 409)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), time, cancellationToken);
            }
        }
    }

    private async Task RenewAsync(TimeProvider time, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Duration / 3, time, stop);
                await _lease.RenewAsync(cancellationToken: stop);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _renewal;
        }
        catch (RequestFailedException)
        {
            // The lease was lost meanwhile (storage unreachable for a minute): the pointer's condition still guards the chain.
        }
        try
        {
            await _lease.ReleaseAsync();
        }
        catch (RequestFailedException)
        {
            // Lapsed or taken by another publication: nothing to give back.
        }
        _stop.Dispose();
    }
}
