using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RelayFunctions.Domains;
using RelayFunctions.Storage;

namespace RelayFunctions.Helpers;

/// <summary>
/// The due-time index of helpers (<c>HelperSchedule</c>): one entry per helper in the partition of the time bucket
/// its next check falls in (<c>yyyyMMddHHmmss-ss</c>, sixteen shards per bucket), row <c>account|domain</c>.
/// Finding due helpers is one range query over the buckets that have passed, so a tick costs O(number due),
/// not O(all helpers). The helper entity names its bucket; an entry that disagrees is stale and is removed.
/// </summary>
public sealed class ScheduleIndex(StorageClients storage, StorageInitializer initializer, IOptions<HelperOptions> options)
{
    public const int Shards = 16;

    private TableClient Table => storage.Table("HelperSchedule");

    public sealed record Entry(string Bucket, string AccountId, string Domain, DateTimeOffset? EnqueuedAt, ETag ETag);

    /// <summary>The partition for a check due at <paramref name="due"/>.</summary>
    public string BucketFor(DateTimeOffset due, string accountId, DomainName domain)
    {
        var size = options.Value.BucketSize.Ticks;
        var start = new DateTimeOffset(due.UtcTicks - (due.UtcTicks % size), TimeSpan.Zero);
        var shard = (uint)StableHash(accountId + "|" + domain.Value) % Shards;
        return start.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture) + "-" + shard.ToString("x2", CultureInfo.InvariantCulture);
    }

    /// <summary>A bucket that the very next tick takes: the one before now's.</summary>
    public string DueNowBucket(DateTimeOffset now, string accountId, DomainName domain) =>
        BucketFor(now - options.Value.BucketSize, accountId, domain);

    public async Task AddAsync(string bucket, string accountId, DomainName domain, CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        await Table.UpsertEntityAsync(new TableEntity(bucket, Row(accountId, domain)), TableUpdateMode.Replace, cancellationToken);
    }

    public async Task RemoveAsync(string bucket, string accountId, string domain, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(bucket, accountId + "|" + domain, ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    /// <summary>Entries whose bucket ended before <paramref name="now"/>'s bucket began, oldest first.</summary>
    public async IAsyncEnumerable<Entry> DueAsync(DateTimeOffset now, int limit, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        var size = options.Value.BucketSize.Ticks;
        var current = new DateTimeOffset(now.UtcTicks - (now.UtcTicks % size), TimeSpan.Zero).ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
        var filter = TableClient.CreateQueryFilter($"PartitionKey lt {current}");
        var count = 0;
        await foreach (var e in Table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, cancellationToken: cancellationToken))
        {
            var separator = e.RowKey.IndexOf('|');
            yield return new Entry(e.PartitionKey, e.RowKey[..separator], e.RowKey[(separator + 1)..], e.GetDateTimeOffset("EnqueuedAt"), e.ETag);
            if (++count >= limit)
            {
                yield break;
            }
        }
    }

    /// <summary>Marks an entry as enqueued, so the next ticks leave it alone for a while; false if it changed meanwhile.</summary>
    public async Task<bool> MarkEnqueuedAsync(Entry entry, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            var update = new TableEntity(entry.Bucket, entry.AccountId + "|" + entry.Domain) { ["EnqueuedAt"] = at };
            await Table.UpdateEntityAsync(update, entry.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    private static string Row(string accountId, DomainName domain) => accountId + "|" + domain.Value;

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
