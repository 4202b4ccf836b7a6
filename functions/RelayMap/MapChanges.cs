using Azure;
using Azure.Data.Tables;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary>
/// Marks the relay map dirty and asks for a publication. Every change that affects routing rewrites one marker row,
/// whose ETag then differs from the one the last publication recorded (ETags, unlike clocks, need no agreement between
/// instances). The first change after a publication has claimed the marker also sets <c>RequestedAt</c> and sends one
/// message to <see cref="Queue"/>; the changes after it, until a publication claims the request, only rewrite the
/// marker. A publication claims the request before it reads the tables, so every change whose marker write found the
/// request set is in the generation that claims it: a burst costs one message and, mostly, one generation.
/// </summary>
public sealed class MapChanges(StorageClients storage, QueueWriter queues, TimeProvider time)
{
    /// <summary>The queue <see cref="RelayMapChangedFunction"/> listens on.</summary>
    public const string Queue = "relay-map-changes";

    /// <summary>
    /// A request older than this is asked for again by the next change: its message was lost, or poisoned after five
    /// failed publications. (The safety timer also publishes any unpublished change within its period.)
    /// </summary>
    public static readonly TimeSpan RequestLease = TimeSpan.FromMinutes(10);

    private const string Partition = "map";
    private const string Row = "dirty";

    private TableClient Table => storage.Table(StorageNames.RelayMapState);

    /// <summary>
    /// The one place the table's keys come from: the change log's row of <paramref name="key"/> (a domain's name, or
    /// <see cref="OutboundRow"/>); the marker and the generation counter are the two rows of the map's partition.
    /// </summary>
    private static (string PartitionKey, string RowKey) ChangeKeys(string key) => (ChangePartition, key);

    private static readonly (string PartitionKey, string RowKey) MarkerKeys = (Partition, Row);
    private static readonly (string PartitionKey, string RowKey) GenerationKeys = (Partition, "generation");

    /// <summary>The partition of the change log: one row per changed domain (its name), plus <see cref="OutboundRow"/>.</summary>
    public const string ChangePartition = "change";

    /// <summary>The change log's row for "an outbound account or an account's submission settings changed".</summary>
    public const string OutboundRow = "~outbound";

    /// <summary>Stale recipient keys kept per domain before the row only says "unknown: compact" (well under an entity's 1 MiB).</summary>
    private const int MaxStaleChars = 200_000;

    /// <summary>
    /// Records, before a write to a published domain, what the relays may hold for it that the write could take away: the
    /// recipient keys it has now (a domain's other keys follow from its name). Kept as a union until a publication
    /// acknowledges the row, so a delta removes every key any earlier state put there. Written before the domain, so a
    /// writer that dies in between leaves a row the next publication reads (publishing a domain's current state twice
    /// changes nothing).
    /// </summary>
    /// <param name="published">Whether the domain is published before this write (kept from the row's first record: the
    /// state the last acknowledged publication saw), for the generation's domain count.</param>
    public async Task RecordAsync(string accountId, string domain, bool published, IEnumerable<string> recipients, CancellationToken cancellationToken)
    {
        var keys = recipients.ToList();
        while (true)
        {
            var row = await FindAsync<TableEntity>(ChangeKeys(domain), cancellationToken);
            var change = row.HasValue ? MapChange.From(row.Value!) : new MapChange(domain, accountId, [], false, published, default);
            if (change.Consumed)
            {
                // A publication took the row in the meantime, and left what it published: that is what the relays have.
                change = new MapChange(domain, accountId, [], false, change.PublishedNow ?? published, change.ETag);
            }
            var stale = change.Stale.Union(keys, StringComparer.Ordinal).ToList();
            var overflow = change.Overflow || stale.Sum(k => k.Length + 3) > MaxStaleChars;
            var entity = ToEntity(domain, accountId, overflow, change.WasPublished, time.GetUtcNow(), overflow ? [] : stale);
            try
            {
                if (row.HasValue)
                {
                    await Table.UpdateEntityAsync(entity, row.Value!.ETag, TableUpdateMode.Replace, cancellationToken);
                }
                else
                {
                    await Table.AddEntityAsync(entity, cancellationToken);
                }
                return;
            }
            catch (RequestFailedException e) when (Retry.IsConflict(e))
            {
            }
        }
    }

    /// <summary>
    /// After a write to a published domain: records its stale keys again (a publication that read the row before this
    /// write, and so the domain as it was, then fails to acknowledge it, and the next one publishes the domain again
    /// with every key it may have to remove) and asks for a publication. With <paramref name="outbound"/>, the outbound
    /// tables are rebuilt too (the domain joined or left the published set).
    /// </summary>
    public async Task MarkDomainAsync(
        string accountId, string domain, bool published, IEnumerable<string> recipients, bool outbound, string reason, CancellationToken cancellationToken)
    {
        await RecordAsync(accountId, domain, published, recipients, cancellationToken);
        if (outbound)
        {
            await TouchOutboundAsync(cancellationToken);
        }
        await MarkDirtyAsync(reason, cancellationToken);
    }

    /// <summary>An outbound account, or what the relays read of an account, changed: the outbound tables are republished whole.</summary>
    public async Task MarkOutboundAsync(string reason, CancellationToken cancellationToken)
    {
        await TouchOutboundAsync(cancellationToken);
        await MarkDirtyAsync(reason, cancellationToken);
    }

    private Task TouchOutboundAsync(CancellationToken cancellationToken) =>
        Table.UpsertEntityAsync(At(ChangeKeys(OutboundRow), new ChangedEntity { ChangedAt = time.GetUtcNow() }), TableUpdateMode.Replace, cancellationToken);

    /// <summary>The pending rows of the change log (what the next delta holds), with the ETags to acknowledge them by.</summary>
    public async Task<IReadOnlyList<MapChange>> PendingAsync(CancellationToken cancellationToken) =>
        [.. (await ReadLogAsync(cancellationToken)).Where(c => !c.Consumed)];

    /// <summary>Every row of the change log: pending ones, and the marks publications left on the rows they took.</summary>
    public async Task<IReadOnlyList<MapChange>> ReadLogAsync(CancellationToken cancellationToken)
    {
        var changes = new List<MapChange>();
        await foreach (var entity in Table.QueryAsync<TableEntity>(e => e.PartitionKey == ChangePartition, cancellationToken: cancellationToken))
        {
            changes.Add(MapChange.From(entity));
        }
        return changes;
    }

    /// <summary>
    /// Takes the rows a current generation published, each only if nobody wrote it since it was read (a change made
    /// meanwhile stays for the next publication). A domain's row is replaced by a mark saying whether the generation
    /// published the domain, which a write that comes right after finds (<see cref="RecordAsync"/>): the next delta
    /// then counts the domain against what the relays really have. A row written meanwhile gets that word too.
    /// </summary>
    /// <param name="published">Per domain, whether the generation published it; a row without an entry is removed.</param>
    public async Task AcknowledgeAsync(IEnumerable<MapChange> taken, IReadOnlyDictionary<string, bool> published, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await Parallel.ForEachAsync(taken, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (change, ct) =>
        {
            try
            {
                if (change.IsOutbound || !published.TryGetValue(change.Key, out var state))
                {
                    await DeleteAsync(change, ct);
                    return;
                }
                var mark = At(ChangeKeys(change.Key), new MarkEntity { Account = change.Account, Consumed = true, PublishedNow = state, ChangedAt = now });
                try
                {
                    await Table.UpdateEntityAsync(mark, change.ETag, TableUpdateMode.Replace, ct);
                }
                catch (RequestFailedException e) when (e.Status == 412)
                {
                    await CorrectAsync(change.Key, state, ct);
                }
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        });
    }

    /// <summary>A row written again while its publication ran: it stays pending, counted against what was published.</summary>
    private async Task CorrectAsync(string domain, bool published, CancellationToken cancellationToken)
    {
        while (true)
        {
            var row = await FindAsync<TableEntity>(ChangeKeys(domain), cancellationToken);
            if (!row.HasValue || MapChange.From(row.Value!).Consumed)
            {
                return;
            }
            try
            {
                // Merge: only the column this entity has.
                await Table.UpdateEntityAsync(At(ChangeKeys(domain), new WasPublishedEntity { WasPublished = published }), row.Value!.ETag, TableUpdateMode.Merge, cancellationToken);
                return;
            }
            catch (RequestFailedException e) when (Retry.IsConflict(e))
            {
            }
        }
    }

    /// <summary>Removes the marks older than a minute (a write that races a publication comes within moments of it).</summary>
    public async Task CollectAsync(IEnumerable<MapChange> log, CancellationToken cancellationToken)
    {
        var old = time.GetUtcNow() - TimeSpan.FromMinutes(1);
        await Parallel.ForEachAsync(log.Where(c => c.Consumed && c.ChangedAt < old), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, async (mark, ct) =>
        {
            try
            {
                await DeleteAsync(mark, ct);
            }
            catch (RequestFailedException e) when (e.Status is 404 or 412)
            {
            }
        });
    }

    /// <summary>The body of the message that asks for a snapshot read from the <c>Domains</c> table.</summary>
    public const string RebuildRequest = "{\"rebuild\":true}";

    /// <summary>Asks for a snapshot read from the table (an operator's repair: whatever the chain holds, the relays get what the table says).</summary>
    public async Task RequestRebuildAsync(CancellationToken cancellationToken)
    {
        await queues.SendAsync(Queue, RebuildRequest, cancellationToken: cancellationToken);
    }

    /// <summary>Asks for a publication (the change log says what changed).</summary>
    public async Task MarkDirtyAsync(string reason, CancellationToken cancellationToken)
    {
        while (true)
        {
            var now = time.GetUtcNow();
            var marker = await FindAsync<RequestEntity>(MarkerKeys, cancellationToken);
            if (marker.HasValue && marker.Value!.RequestedAt is { } requested && now - requested < RequestLease)
            {
                // A publication is asked for and has not claimed it yet: it will read the tables after this change.
                // Merge, without RequestedAt (the entity has no such column): the request stays as it is.
                await Table.UpsertEntityAsync(At(MarkerKeys, new MarkerEntity { ChangedAt = now, Reason = reason }), TableUpdateMode.Merge, cancellationToken);
                return;
            }
            var change = At(MarkerKeys, new RequestEntity { ChangedAt = now, Reason = reason, RequestedAt = now });
            try
            {
                if (marker.HasValue)
                {
                    await Table.UpdateEntityAsync(change, marker.Value!.ETag, TableUpdateMode.Merge, cancellationToken);
                }
                else
                {
                    await Table.AddEntityAsync(change, cancellationToken);
                }
            }
            catch (RequestFailedException e) when (Retry.IsConflict(e))
            {
                // Another change got there first, and most likely asked for the publication itself: look again.
                continue;
            }
            await queues.SendAsync(Queue, $$"""{"requestedAt":"{{now:O}}"}""", cancellationToken: cancellationToken);
            return;
        }
    }

    /// <summary>
    /// Claims the pending request, if any (later changes ask again), and returns the marker's version after that: the
    /// generation about to be built covers it. Null when nothing was ever marked.
    /// </summary>
    public async Task<string?> ClaimAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var marker = await FindAsync<RequestEntity>(MarkerKeys, cancellationToken);
            if (!marker.HasValue)
            {
                return null;
            }
            var entity = marker.Value!;
            if (entity.RequestedAt is null)
            {
                return entity.ETag.ToString();
            }
            // Replace, not merge: a merge cannot remove a property.
            var claimed = At(MarkerKeys, new MarkerEntity { ChangedAt = entity.ChangedAt, Reason = entity.Reason });
            try
            {
                var response = await Table.UpdateEntityAsync(claimed, entity.ETag, TableUpdateMode.Replace, cancellationToken);
                return response.Headers.ETag?.ToString();
            }
            catch (RequestFailedException e) when (Retry.IsConflict(e))
            {
            }
        }
    }

    /// <summary>
    /// The number of the next generation: a counter row (<c>map</c>/<c>generation</c>) updated with ETags, so two
    /// publications never get the same number. The first is 1.
    /// </summary>
    public async Task<long> NextGenerationAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var row = await FindAsync<GenerationEntity>(GenerationKeys, cancellationToken);
            try
            {
                if (!row.HasValue)
                {
                    await Table.AddEntityAsync(At(GenerationKeys, new GenerationEntity { Value = 1 }), cancellationToken);
                    return 1;
                }
                var next = (row.Value!.Value ?? 0) + 1;
                await Table.UpdateEntityAsync(At(GenerationKeys, new GenerationEntity { Value = next }), row.Value.ETag, TableUpdateMode.Replace, cancellationToken);
                return next;
            }
            catch (RequestFailedException e) when (Retry.IsConflict(e))
            {
            }
        }
    }

    private Task<NullableResponse<T>> FindAsync<T>((string PartitionKey, string RowKey) keys, CancellationToken cancellationToken)
        where T : class, ITableEntity =>
        Table.GetEntityIfExistsAsync<T>(keys.PartitionKey, keys.RowKey, cancellationToken: cancellationToken);

    private Task DeleteAsync(MapChange change, CancellationToken cancellationToken)
    {
        var (partition, row) = ChangeKeys(change.Key);
        return Table.DeleteEntityAsync(partition, row, change.ETag, cancellationToken);
    }

    private static T At<T>((string PartitionKey, string RowKey) keys, T entity)
        where T : StoredEntity
    {
        (entity.PartitionKey, entity.RowKey) = keys;
        return entity;
    }

    /// <summary>A domain's pending row: its stale keys are chunked JSON (<see cref="EntityText"/>), so it stays a <see cref="TableEntity"/>.</summary>
    private static TableEntity ToEntity(string domain, string accountId, bool overflow, bool wasPublished, DateTimeOffset changedAt, IReadOnlyList<string> stale)
    {
        var (partition, row) = ChangeKeys(domain);
        var entity = new TableEntity(partition, row) { ["Account"] = accountId, ["Overflow"] = overflow, ["WasPublished"] = wasPublished, ["ChangedAt"] = changedAt };
        EntityText.Write(entity, "StaleChunks", "Stale", stale);
        return entity;
    }

    // The typed rows. A merge writes every property of its entity (a null one too), so each has only the columns its
    // write means; the column names are those the rows have always had.

    /// <summary>The outbound row of the change log (replaced whole).</summary>
    private class ChangedEntity : StoredEntity
    {
        public DateTimeOffset? ChangedAt { get; set; }
    }

    /// <summary>The mark a publication leaves on a domain's row it took (replaced whole).</summary>
    private sealed class MarkEntity : ChangedEntity
    {
        public string? Account { get; set; }
        public bool Consumed { get; set; }
        public bool PublishedNow { get; set; }
    }

    /// <summary>The one column a correction merges into a domain's row.</summary>
    private sealed class WasPublishedEntity : StoredEntity
    {
        public bool WasPublished { get; set; }
    }

    /// <summary>The marker without its request: merged by a change that finds the request set, or written by a claim.</summary>
    private class MarkerEntity : ChangedEntity
    {
        public string? Reason { get; set; }
    }

    /// <summary>The marker with its request: what is read, and what a change that asks for a publication merges.</summary>
    private sealed class RequestEntity : MarkerEntity
    {
        public DateTimeOffset? RequestedAt { get; set; }
    }

    /// <summary>The generation counter.</summary>
    private sealed class GenerationEntity : StoredEntity
    {
        public long? Value { get; set; }
    }
}

/// <summary>
/// One row of the change log: a domain whose relay entries must be published again (<see cref="Key"/> is its name),
/// with the recipient keys an earlier state may have put on the relays, or the outbound tables (<see cref="IsOutbound"/>).
/// </summary>
/// <remarks>A row a publication took is a mark (<see cref="Consumed"/>) saying whether it published the domain (<see cref="PublishedNow"/>).</remarks>
public sealed record MapChange(
    string Key, string? Account, IReadOnlyList<string> Stale, bool Overflow, bool WasPublished, ETag ETag,
    bool Consumed = false, bool? PublishedNow = null, DateTimeOffset? ChangedAt = null)
{
    public bool IsOutbound => Key == MapChanges.OutboundRow;

    public static MapChange From(TableEntity e) =>
        new(e.RowKey, e.GetString("Account"), EntityText.Read<List<string>>(e, "StaleChunks", "Stale") ?? [], e.GetBoolean("Overflow") ?? false,
            e.GetBoolean("WasPublished") ?? true, e.ETag, e.GetBoolean("Consumed") ?? false, e.GetBoolean("PublishedNow"), e.GetDateTimeOffset("ChangedAt"));
}
