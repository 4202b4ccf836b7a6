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
public sealed class MapChanges(StorageClients storage, StorageInitializer initializer, QueueWriter queues, TimeProvider time)
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
    private const string RequestedAt = "RequestedAt";

    private TableClient Table => storage.Table("RelayMapState");

    public async Task MarkDirtyAsync(string reason, CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        while (true)
        {
            var now = time.GetUtcNow();
            var marker = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, Row, cancellationToken: cancellationToken);
            var change = new TableEntity(Partition, Row) { ["ChangedAt"] = now, ["Reason"] = reason };
            if (marker.HasValue && marker.Value!.GetDateTimeOffset(RequestedAt) is { } requested && now - requested < RequestLease)
            {
                // A publication is asked for and has not claimed it yet: it will read the tables after this change.
                await Table.UpsertEntityAsync(change, TableUpdateMode.Merge, cancellationToken);
                return;
            }
            change[RequestedAt] = now;
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
        await initializer.EnsureCreatedAsync();
        while (true)
        {
            var marker = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, Row, cancellationToken: cancellationToken);
            if (!marker.HasValue)
            {
                return null;
            }
            var entity = marker.Value!;
            if (entity.GetDateTimeOffset(RequestedAt) is null)
            {
                return entity.ETag.ToString();
            }
            // Replace, not merge: a merge cannot remove a property.
            var claimed = new TableEntity(Partition, Row) { ["ChangedAt"] = entity["ChangedAt"], ["Reason"] = entity["Reason"] };
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
}
