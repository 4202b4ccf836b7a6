using Microsoft.Extensions.Options;
using RelayFunctions.Helpers;
using RelayFunctions.Hosting.Queues;

namespace RelayFunctions.Scheduling;

/// <summary>What one tick did, for logs and the benchmark.</summary>
public sealed record TickResult(int Due, int Enqueued, int Skipped);

/// <summary>
/// One tick: reads the due entries of a due-time index (buckets that have passed), and enqueues a check for each on
/// <paramref name="queue"/>, marking the entry so later ticks leave it alone until the lease runs out. An entry whose
/// message was lost, or whose check crashed, is enqueued again after <see cref="HelperOptions.EnqueueLease"/>:
/// nothing is forgotten.
/// </summary>
public abstract partial class DueScheduler(
    DueIndex index, QueueWriter queues, string queue, string subjects, TimeProvider time, IOptions<HelperOptions> options, ILogger logger)
{
    public async Task<TickResult> TickAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var token = Guid.NewGuid().ToString("N");
        int due = 0, enqueued = 0, skipped = 0;
        using var gate = new SemaphoreSlim(o.EnqueueConcurrency);
        var work = new List<Task>();
        await foreach (var entry in index.DueAsync(now, cancellationToken))
        {
            if (work.Count >= o.MaxPerTick)
            {
                // The rest wait for the next tick; entries still leased do not count against the limit.
                break;
            }
            due++;
            if (entry.EnqueuedAt is { } at && now - at < o.EnqueueLease)
            {
                skipped++;
                continue;
            }
            await gate.WaitAsync(cancellationToken);
            work.Add(EnqueueAsync(entry));
        }
        await Task.WhenAll(work);
        Log.Ticked(logger, due, subjects, enqueued, skipped);
        return new TickResult(due, enqueued, skipped);

        async Task EnqueueAsync(DueIndex.Entry entry)
        {
            try
            {
                // Mark first: if the mark loses a race (the check already moved the helper), nothing is sent.
                if (await index.MarkEnqueuedAsync(entry, now, cancellationToken))
                {
                    var request = new CheckRequest(entry.AccountId, entry.Subject, entry.Bucket, entry.Nonce, token);
                    await queues.SendAsync(queue, request.ToJson(), cancellationToken: cancellationToken);
                    Interlocked.Increment(ref enqueued);
                }
            }
            finally
            {
                gate.Release();
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Tick: {Due} {Subjects} due, {Enqueued} enqueued, {Skipped} already in the queue")]
        public static partial void Ticked(ILogger logger, int due, string subjects, int enqueued, int skipped);
    }
}
