using Azure.Data.Tables;
using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary>
/// Marks the relay map dirty: every change that affects routing bumps a change counter, which the publisher
/// compares with the generation it last wrote. Cheap and idempotent enough to call on every routing change.
/// </summary>
public sealed class MapChanges(StorageClients storage, StorageInitializer initializer, TimeProvider time)
{
    private const string Partition = "map";
    private const string Row = "dirty";

    private TableClient Table => storage.Table("RelayMapState");

    public async Task MarkDirtyAsync(string reason, CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        // A merge of the time keeps concurrent markers from conflicting; the publisher needs "changed since", not a count.
        await Table.UpsertEntityAsync(
            new TableEntity(Partition, Row) { ["ChangedAt"] = time.GetUtcNow(), ["Reason"] = reason },
            TableUpdateMode.Merge, cancellationToken);
    }

    public async Task<DateTimeOffset?> LastChangeAsync(CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        var e = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, Row, cancellationToken: cancellationToken);
        return e.HasValue ? e.Value!.GetDateTimeOffset("ChangedAt") : null;
    }
}
