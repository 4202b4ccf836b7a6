using System.Collections.Concurrent;

namespace RelayFunctions.Hosting.Queues;

/// <summary>
/// Lets code that enqueues in this process wake the standalone listener of that queue at once, as the
/// Functions host's <c>QueueListener.Notify</c> does, instead of waiting out the polling back-off.
/// </summary>
public sealed class QueueSignals
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _signals = new(StringComparer.Ordinal);

    public void Notify(string queueName)
    {
        var signal = Get(queueName);
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already signalled: one wake-up is all a listener needs.
        }
    }

    public Task WaitAsync(string queueName, TimeSpan timeout, CancellationToken cancellationToken) =>
        Get(queueName).WaitAsync(timeout, cancellationToken);

    private SemaphoreSlim Get(string queueName) => _signals.GetOrAdd(queueName, _ => new SemaphoreSlim(0, 1));
}
