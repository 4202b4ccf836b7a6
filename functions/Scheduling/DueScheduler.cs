using Microsoft.Extensions.Options;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.IpHelpers;

namespace RelayFunctions.Scheduling;

/// <summary>What one tick did, for logs and the benchmark.</summary>
public sealed record TickResult(int Due, int Enqueued, int Skipped);

/// <summary>
/// One tick: reads the due entries of a due-time index (buckets that have passed), and enqueues their checks on
/// <paramref name="queue"/>, marking the entries so later ticks leave them alone until the lease runs out. An entry whose
/// message was lost, or whose check crashed, is enqueued again after <see cref="HelperOptions.EnqueueLease"/>: nothing
/// is forgotten. With a <paramref name="batchSize"/> above one, entries of one bucket go together: one transaction
/// marks them and one <see cref="CheckBatch"/> message carries them, with the state each entry holds; with one, each
/// entry is a <see cref="CheckRequest"/> of its own.
/// </summary>
public abstract partial class DueScheduler(
    DueIndex index, QueueWriter queues, string queue, string subjects, TimeProvider time, IOptions<HelperOptions> options, ILogger logger,
    int batchSize = 1)
{
    public async Task<TickResult> TickAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var now = time.GetUtcNow();
        var token = Guid.NewGuid().ToString("N");
        int due = 0, enqueued = 0, skipped = 0, taken = 0;
        using var gate = new SemaphoreSlim(o.EnqueueConcurrency);
        var work = new List<Task>();
        var batch = new List<DueIndex.Entry>();
        var batchBytes = 0;
        await foreach (var entry in index.DueAsync(now, cancellationToken))
        {
            if (taken >= o.MaxPerTick)
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
            taken++;
            if (batch.Count > 0 && (batch.Count >= Math.Max(1, batchSize) || batch[0].Bucket != entry.Bucket
                || batchBytes + Size(entry) > MaxMessageBytes))
            {
                await FlushAsync();
            }
            batch.Add(entry);
            batchBytes += Size(entry);
        }
        if (batch.Count > 0)
        {
            await FlushAsync();
        }
        await Task.WhenAll(work);
        Log.Ticked(logger, due, subjects, enqueued, skipped);
        return new TickResult(due, enqueued, skipped);

        async Task FlushAsync()
        {
            var entries = batch.ToList();
            batch.Clear();
            batchBytes = 0;
            await gate.WaitAsync(cancellationToken);
            work.Add(EnqueueAsync(entries));
        }

        async Task EnqueueAsync(IReadOnlyList<DueIndex.Entry> entries)
        {
            try
            {
                // Mark first: an entry whose mark loses a race (the check already moved the subject) is not sent.
                var marked = await index.MarkEnqueuedAsync(entries, now, cancellationToken);
                if (marked.Count == 0)
                {
                    return;
                }
                var message = batchSize <= 1
                    ? new CheckRequest(marked[0].AccountId, marked[0].Subject, marked[0].Bucket, marked[0].Nonce, token).ToJson()
                    : new CheckBatch(marked[0].Bucket, token, marked.Select(e => new CheckItem(e.AccountId, e.Subject, e.Nonce, e.State)).ToList()).ToJson();
                await queues.SendAsync(queue, message, cancellationToken: cancellationToken);
                Interlocked.Add(ref enqueued, marked.Count);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>A queue message holds 64 KiB, base64 included: batches stay well below.</summary>
    private const int MaxMessageBytes = 32 * 1024;

    private static int Size(DueIndex.Entry entry) => 64 + entry.AccountId.Length + entry.Subject.Length + entry.Nonce.Length + (entry.State?.Length ?? 0) * 2;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Tick: {Due} {Subjects} due, {Enqueued} enqueued, {Skipped} already in the queue")]
        public static partial void Ticked(ILogger logger, int due, string subjects, int enqueued, int skipped);
    }
}
