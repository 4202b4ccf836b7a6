using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using RelayFunctions.Domains;
using RelayFunctions.Helpers;
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
public abstract class DueIndex(StorageClients storage, StorageInitializer initializer, IOptions<HelperOptions> options, string table)
{
    public const int Shards = 16;

    private TableClient Table => storage.Table(table);

    /// <summary>One due check: the account, its subject (a domain, or an outbound login), and the nonce of this entry.</summary>
    public sealed record Entry(string Bucket, string AccountId, string Subject, string Nonce, DateTimeOffset? EnqueuedAt, ETag ETag);

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
        await initializer.EnsureCreatedAsync();
        await Table.UpsertEntityAsync(new TableEntity(bucket, Row(accountId, subject, nonce)), TableUpdateMode.Replace, cancellationToken);
    }

    public async Task RemoveAsync(string bucket, string accountId, string subject, string nonce, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(bucket, Row(accountId, subject, nonce), ETag.All, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
        }
    }

    /// <summary>Entries whose bucket ended before <paramref name="now"/>'s bucket began, oldest first; the caller stops when it has enough.</summary>
    public async IAsyncEnumerable<Entry> DueAsync(DateTimeOffset now, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
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
                continue;
            }
            yield return new Entry(e.PartitionKey, e.RowKey[..first], e.RowKey[(first + 1)..last], e.RowKey[(last + 1)..], e.GetDateTimeOffset("EnqueuedAt"), e.ETag);
        }
    }

    /// <summary>Marks an entry as enqueued, so the next ticks leave it alone for a while; false if it changed meanwhile.</summary>
    public async Task<bool> MarkEnqueuedAsync(Entry entry, DateTimeOffset at, CancellationToken cancellationToken)
    {
        try
        {
            var update = new TableEntity(entry.Bucket, Row(entry.AccountId, entry.Subject, entry.Nonce)) { ["EnqueuedAt"] = at };
            await Table.UpdateEntityAsync(update, entry.ETag, TableUpdateMode.Merge, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    private static string Row(string accountId, string subject, string nonce) => $"{accountId}|{subject}|{nonce}";

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
public sealed class ScheduleIndex(StorageClients storage, StorageInitializer initializer, IOptions<HelperOptions> options)
    : DueIndex(storage, initializer, options, "HelperSchedule");

/// <summary>The domain verifications' index (<c>VerificationSchedule</c>).</summary>
public sealed class VerificationIndex(StorageClients storage, StorageInitializer initializer, IOptions<HelperOptions> options)
    : DueIndex(storage, initializer, options, "VerificationSchedule");

/// <summary>The outbound accounts' host-name filter lookups (<c>FilterSchedule</c>), by login.</summary>
public sealed class FilterIndex(StorageClients storage, StorageInitializer initializer, IOptions<HelperOptions> options)
    : DueIndex(storage, initializer, options, "FilterSchedule");
