using System.Collections.Concurrent;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using RelayShared;

namespace RelayAgent.Submission;

/// <summary>
/// What each login submitted through this relay today (UTC): one row per account, day, login and relay in the control
/// plane's <c>OutboundUsage</c> table (<c>account|yyyyMMdd</c> / <c>login|relay</c>), rewritten by this relay alone, so
/// relays never contend. The counts live here and are written every few seconds (<see cref="FlushAsync"/>); a restart
/// continues from the row. The daily quota adds the other relays' rows, read at most every few seconds.
/// </summary>
public sealed class UsageCounter(TableClient table, string relayId, TimeProvider time)
{
    private static readonly TimeSpan OthersFresh = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<(string Partition, string Row), Counts> _rows = new();
    private readonly ConcurrentDictionary<string, (DateTimeOffset At, long Counted)> _others = new();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _created;

    private sealed class Counts
    {
        public long Messages, Recipients, Bytes, Copies, CopyBytes, Refused;
        public bool Dirty;
    }

    /// <summary>A submission accepted: one message of <paramref name="size"/> bytes to <paramref name="recipients"/>, and <paramref name="copies"/> copies of it.</summary>
    public async Task AddAsync(SubmissionAccount account, long size, long recipients, int copies, CancellationToken ct)
    {
        var counts = await RowAsync(account, ct);
        lock (counts)
        {
            counts.Messages++;
            counts.Recipients += recipients;
            counts.Bytes += size;
            counts.Copies += copies;
            counts.CopyBytes += copies * size;
            counts.Dirty = true;
        }
    }

    public async Task RefusedAsync(SubmissionAccount account, CancellationToken ct)
    {
        var counts = await RowAsync(account, ct);
        lock (counts)
        {
            counts.Refused++;
            counts.Dirty = true;
        }
    }

    /// <summary>Messages plus copies the account submitted today, through every relay.</summary>
    public async Task<long> CountedTodayAsync(SubmissionAccount account, CancellationToken ct)
    {
        var partition = Partition(account);
        var mine = _rows.Where(r => r.Key.Partition == partition).Sum(r => { lock (r.Value) { return r.Value.Messages + r.Value.Copies; } });
        var now = time.GetUtcNow();
        if (!_others.TryGetValue(partition, out var others) || now - others.At > OthersFresh)
        {
            long sum = 0;
            await EnsureTableAsync(ct);
            await foreach (var e in table.QueryAsync<TableEntity>(e => e.PartitionKey == partition, cancellationToken: ct))
            {
                if (!e.RowKey.EndsWith("|" + relayId, StringComparison.Ordinal))
                {
                    sum += (e.GetInt64("Messages") ?? 0) + (e.GetInt64("Copies") ?? 0);
                }
            }
            others = (now, sum);
            _others[partition] = others;
        }
        return mine + others.Counted;
    }

    /// <summary>Writes the rows that changed since the last flush; rows of earlier days are dropped once written.</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        var today = Day();
        foreach (var ((partition, row), counts) in _rows)
        {
            TableEntity entity;
            lock (counts)
            {
                if (!counts.Dirty)
                {
                    if (!partition.EndsWith(today, StringComparison.Ordinal))
                    {
                        _rows.TryRemove((partition, row), out _);
                    }
                    continue;
                }
                counts.Dirty = false;
                entity = new TableEntity(partition, row)
                {
                    ["Messages"] = counts.Messages,
                    ["Recipients"] = counts.Recipients,
                    ["Bytes"] = counts.Bytes,
                    ["Copies"] = counts.Copies,
                    ["CopyBytes"] = counts.CopyBytes,
                    ["Refused"] = counts.Refused,
                };
            }
            try
            {
                await table.UpsertEntityAsync(entity, TableUpdateMode.Replace, ct);
            }
            catch (RequestFailedException)
            {
                lock (counts)
                {
                    counts.Dirty = true;
                }
                throw;
            }
        }
    }

    private async Task<Counts> RowAsync(SubmissionAccount account, CancellationToken ct)
    {
        var key = (Partition(account), $"{account.Login}|{relayId}");
        if (_rows.TryGetValue(key, out var counts))
        {
            return counts;
        }
        await _gate.WaitAsync(ct);
        try
        {
            if (_rows.TryGetValue(key, out counts))
            {
                return counts;
            }
            await EnsureTableAsync(ct);
            var existing = await table.GetEntityIfExistsAsync<TableEntity>(key.Item1, key.Item2, cancellationToken: ct);
            counts = new Counts();
            if (existing.HasValue)
            {
                var e = existing.Value!;
                (counts.Messages, counts.Recipients, counts.Bytes) = (e.GetInt64("Messages") ?? 0, e.GetInt64("Recipients") ?? 0, e.GetInt64("Bytes") ?? 0);
                (counts.Copies, counts.CopyBytes, counts.Refused) = (e.GetInt64("Copies") ?? 0, e.GetInt64("CopyBytes") ?? 0, e.GetInt64("Refused") ?? 0);
            }
            _rows[key] = counts;
            return counts;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task EnsureTableAsync(CancellationToken ct)
    {
        if (!_created)
        {
            await table.CreateIfNotExistsAsync(ct);
            _created = true;
        }
    }

    private string Partition(SubmissionAccount account) => $"{account.Account}|{Day()}";

    private string Day() => time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
}
