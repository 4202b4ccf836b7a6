using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;
using RelayFunctions.Storage;

namespace RelayFunctions.Scheduling;

/// <summary>
/// A due-time index of periodic checks on a domain's subject (its IP helper, its verification): one entry per subject
/// in the partition of the time bucket its next check falls in (<c>yyyyMMddHHmmss-ss</c>, sixteen shards per bucket),
/// row <c>account|domain|nonce</c>. Finding due subjects is one range query over the buckets that have passed, so a
/// tick costs O(number due), not O(all subjects). The subject's entity names its entry (bucket and nonce); an entry that
/// disagrees is stale and is removed. The nonce is new with every move, so a writer that loses a race removes only its
/// own entry, never the winner's, even when both chose the same bucket.
/// </summary>
public abstract class DueIndex(StorageClients storage, IOptions<HelperOptions> options, string table, ILogger logger)
{
    public const int Shards = 16;

    private TableClient Table => storage.Table(table);

    /// <summary>One due check: the account, its subject (a domain, or an outbound login), and the nonce of this entry.</summary>
    public sealed record Entry(string Bucket, string AccountId, string Subject, string Nonce, DateTimeOffset? EnqueuedAt, ETag ETag, string? State = null);

    /// <summary>An entry's key: its bucket, and account|subject|nonce.</summary>
    public sealed record Key(string Bucket, string AccountId, string Subject, string Nonce);

    /// <summary>
    /// A check's changes to the index: an entry to add (merged over one already there), an entry that gets
    /// <see cref="State"/> if it is still there, an entry to remove; any of them may be absent.
    /// </summary>
    public sealed record Move(Key? Add = null, Key? SetState = null, string? State = null, Key? Remove = null);

    public static string NewNonce() => Guid.NewGuid().ToString("N")[..12];

    /// <summary>The partition for a check due at <paramref name="due"/>.</summary>
    public string BucketFor(DateTimeOffset due, string accountId, DomainName domain) => BucketFor(due, accountId, domain.Value);

    public string BucketFor(DateTimeOffset due, string accountId, string subject)
    {
        var size = options.Value.BucketSize.Ticks;
        var start = new DateTimeOffset(due.UtcTicks - (due.UtcTicks % size), TimeSpan.Zero);
        var shard = (uint)StableHash(accountId + "|" + subject) % Shards;
        return start.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "-" + shard.ToString("x2", CultureInfo.InvariantCulture);
    }

    /// <summary>A bucket that the very next tick takes: the one before now's.</summary>
    public string DueNowBucket(DateTimeOffset now, string accountId, DomainName domain) => DueNowBucket(now, accountId, domain.Value);

    public string DueNowBucket(DateTimeOffset now, string accountId, string subject) =>
        BucketFor(now - options.Value.BucketSize, accountId, subject);

    public Task AddAsync(string bucket, string accountId, DomainName domain, string nonce, CancellationToken cancellationToken) =>
        AddAsync(bucket, accountId, domain.Value, nonce, cancellationToken);

    public async Task AddAsync(string bucket, string accountId, string subject, string nonce, CancellationToken cancellationToken)
    {
        await Table.UpsertEntityAsync(Entity(new Key(bucket, accountId, subject, nonce)), TableUpdateMode.Replace, cancellationToken);
    }

    /// <summary>Whether the entry is there: asked only when a check finds its subject naming another entry.</summary>
    public async Task<bool> ExistsAsync(string bucket, string accountId, string subject, string nonce, CancellationToken cancellationToken)
    {
        var key = Entity(new Key(bucket, accountId, subject, nonce));
        var response = await Table.GetEntityIfExistsAsync<TableEntity>(key.PartitionKey, key.RowKey, ["PartitionKey"], cancellationToken);
        return response.HasValue;
    }

    /// <summary>
    /// Applies the moves of many checks: adds (merged, so that an entry already there keeps its enqueue mark) and removes,
    /// one table transaction per partition and hundred entries. A transaction that fails (an entry already removed, a
    /// race) is done again entry by entry; removing an entry that is gone is no error.
    /// </summary>
    public async Task MoveAsync(IReadOnlyList<Move> moves, CancellationToken cancellationToken)
    {
        var actions = new List<(string Partition, string Row, TableTransactionAction Action)>();
        foreach (var move in moves)
        {
            if (move.Add is { } add)
            {
                var entity = Entity(add);
                if (move.State is { } state && move.SetState is null)
                {
                    entity["State"] = state;
                }
                actions.Add((add.Bucket, entity.RowKey, new TableTransactionAction(TableTransactionActionType.UpsertMerge, entity)));
            }
            if (move.SetState is { } set && move.State is { } carried)
            {
                // Only onto an entry still there: one removed meanwhile (the subject moved on) stays removed.
                var entity = Entity(set);
                entity["State"] = carried;
                actions.Add((set.Bucket, entity.RowKey, new TableTransactionAction(TableTransactionActionType.UpdateMerge, entity, ETag.All)));
            }
            if (move.Remove is { } remove)
            {
                var entity = Entity(remove);
                actions.Add((remove.Bucket, entity.RowKey, new TableTransactionAction(TableTransactionActionType.Delete, entity, ETag.All)));
            }
        }
        await Task.WhenAll(Transactions(actions).Select(chunk => SubmitAsync(chunk, cancellationToken)));
    }

    /// <summary>Marks entries as enqueued, each only if unchanged since it was read; returns those marked.</summary>
    public async Task<IReadOnlyList<Entry>> MarkEnqueuedAsync(IReadOnlyList<Entry> entries, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var actions = entries.Select(e => Enqueued(e, at)).Select((row, i) => (row.PartitionKey, row.RowKey,
            new TableTransactionAction(TableTransactionActionType.UpdateMerge, row, entries[i].ETag))).ToList();
        var chunks = Transactions(actions).ToList();
        if (chunks.Count == 1 && chunks[0].Count == entries.Count && entries.Count > 1)
        {
            try
            {
                await Table.SubmitTransactionAsync(chunks[0], cancellationToken);
                return entries;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412 or 409)
            {
                // One of them moved meanwhile: mark them one by one, and skip those that moved.
            }
        }
        var marked = await Task.WhenAll(entries.Select(async e => await MarkEnqueuedAsync(e, at, cancellationToken) ? e : null));
        return marked.OfType<Entry>().ToList();
    }

    /// <summary>Groups actions into transactions: one partition each, at most a hundred, no entity twice.</summary>
    private static IEnumerable<List<TableTransactionAction>> Transactions(IEnumerable<(string Partition, string Row, TableTransactionAction Action)> actions)
    {
        foreach (var partition in actions.GroupBy(a => a.Partition, StringComparer.Ordinal))
        {
            var chunk = new List<TableTransactionAction>();
            var rows = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (_, row, action) in partition)
            {
                if (chunk.Count == 100 || !rows.Add(row))
                {
                    yield return chunk;
                    chunk = [];
                    rows = [row];
                }
                chunk.Add(action);
            }
            if (chunk.Count > 0)
            {
                yield return chunk;
            }
        }
    }

    private async Task SubmitAsync(List<TableTransactionAction> chunk, CancellationToken cancellationToken)
    {
        if (chunk.Count > 1)
        {
            try
            {
                await Table.SubmitTransactionAsync(chunk, cancellationToken);
                return;
            }
            catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
            {
                // Done again one by one below.
            }
        }
        foreach (var action in chunk)
        {
            try
            {
                switch (action.ActionType)
                {
                    case TableTransactionActionType.Delete:
                        await Table.DeleteEntityAsync(action.Entity.PartitionKey, action.Entity.RowKey, ETag.All, cancellationToken);
                        break;
                    case TableTransactionActionType.UpdateMerge:
                        await Table.UpdateEntityAsync((TableEntity)action.Entity, ETag.All, TableUpdateMode.Merge, cancellationToken);
                        break;
                    default:
                        await Table.UpsertEntityAsync((TableEntity)action.Entity, TableUpdateMode.Merge, cancellationToken);
                        break;
                }
            }
            catch (RequestFailedException e) when (e.Status == 404 && action.ActionType is TableTransactionActionType.Delete or TableTransactionActionType.UpdateMerge)
            {
            }
        }
    }

    public async Task RemoveAsync(string bucket, string accountId, string subject, string nonce, CancellationToken cancellationToken)
    {
        try
        {
            var key = Entity(new Key(bucket, accountId, subject, nonce));
            await Table.DeleteEntityAsync(key.PartitionKey, key.RowKey, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    /// <summary>Entries whose bucket ended before <paramref name="now"/>'s bucket began, oldest first; the caller stops when it has enough.</summary>
    public async IAsyncEnumerable<Entry> DueAsync(DateTimeOffset now, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var size = options.Value.BucketSize.Ticks;
        var current = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % size), TimeSpan.Zero).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey lt {current}");
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            // account|subject|nonce, where only the subject (an outbound login) may itself hold a '|'.
            var first = e.RowKey.IndexOf('|');
            var last = e.RowKey.LastIndexOf('|');
            if (first <= 0 || last <= first + 1)
            {
                UnreadableRows.Unreadable(logger, table, e.PartitionKey, e.RowKey);
                continue;
            }
            yield return new Entry(e.PartitionKey, e.RowKey[..first], e.RowKey[(first + 1)..last], e.RowKey[(last + 1)..], e.GetDateTimeOffset("EnqueuedAt"), e.ETag,
                e.GetString("State"));
        }
    }

    /// <summary>Marks an entry as enqueued, so the next ticks leave it alone for a while; false if it changed meanwhile.</summary>
    public async Task<bool> MarkEnqueuedAsync(Entry entry, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            await Table.UpdateEntityAsync(Enqueued(entry, at), entry.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    /// <summary>The one place an entry's keys come from: its bucket, and <c>account|subject|nonce</c>.</summary>
    private static TableEntity Entity(Key key) => new(key.Bucket, $"{key.AccountId}|{key.Subject}|{key.Nonce}");

    /// <summary>The merge that marks an entry enqueued at <paramref name="at"/>.</summary>
    private static TableEntity Enqueued(Entry entry, DateTimeOffset at)
    {
        var entity = Entity(new Key(entry.Bucket, entry.AccountId, entry.Subject, entry.Nonce));
        entity["EnqueuedAt"] = at;
        return entity;
    }

    // FNV-1a: stable across processes and versions, unlike string.GetHashCode.
    private static int StableHash(string s)
    {
        unchecked
        {
            var hash = (int)2166136261;
            foreach (var c in s)
            {
                hash = (hash ^ c) * 16777619;
            }
            return hash;
        }
    }
}

/// <summary>The IP helpers' index (<c>HelperSchedule</c>).</summary>
public sealed class ScheduleIndex(StorageClients storage, IOptions<HelperOptions> options, ILogger<ScheduleIndex> logger)
    : DueIndex(storage, options, StorageNames.HelperSchedule, logger);

/// <summary>The domain verifications' index (<c>VerificationSchedule</c>).</summary>
public sealed class VerificationIndex(StorageClients storage, IOptions<HelperOptions> options, ILogger<VerificationIndex> logger)
    : DueIndex(storage, options, StorageNames.VerificationSchedule, logger);

/// <summary>The outbound accounts' host-name filter lookups (<c>FilterSchedule</c>), by login.</summary>
public sealed class FilterIndex(StorageClients storage, IOptions<HelperOptions> options, ILogger<FilterIndex> logger)
    : DueIndex(storage, options, StorageNames.FilterSchedule, logger);
