using Azure.Storage.Queues;
using StorageMessage = Azure.Storage.Queues.Models.QueueMessage;

namespace RelayFunctions.Hosting.Queues;

/// <summary>
/// Keeps a received message invisible while its function runs by extending its visibility at half-time.
/// Each extension returns a new pop receipt, which the final delete or update must use.
/// </summary>
public sealed class MessageLease(QueueClient queue, StorageMessage message, TimeSpan duration)
{
    private string _popReceipt = message.PopReceipt;

    public string PopReceipt => Volatile.Read(ref _popReceipt);

    public IAsyncDisposable StartRenewal()
    {
        var cts = new CancellationTokenSource();
        var loop = RenewAsync(cts.Token);
        return new Renewal(cts, loop);
    }

    private async Task RenewAsync(CancellationToken stop)
    {
        var interval = duration / 2;
        try
        {
            while (true)
            {
                await Task.Delay(interval, stop);
                var receipt = await queue.UpdateMessageAsync(message.MessageId, PopReceipt, visibilityTimeout: duration, cancellationToken: stop);
                Volatile.Write(ref _popReceipt, receipt.Value.PopReceipt);
            }
        }
        catch (Exception)
        {
            // Stopped, or lost the message or storage: the completion step will fail the same way and log it.
        }
    }

    private sealed class Renewal(CancellationTokenSource cts, Task loop) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            await cts.CancelAsync();
            await loop;
            cts.Dispose();
        }
    }
}
