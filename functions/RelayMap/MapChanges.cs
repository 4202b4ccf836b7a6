using Azure;
using Azure.Data.Tables;
using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary>
/// Marks the relay map dirty: every change that affects routing rewrites one marker row, whose ETag then differs
/// from the one the last publication recorded. ETags, unlike clocks, need no agreement between instances.
/// </summary>
public sealed class MapChanges(StorageClients storage, StorageInitializer initializer, TimeProvider time)
{
    private const string Partition = "map";
    private const string Row = "dirty";

    private TableClient Table => storage.Table("RelayMapState");

    public async Task MarkDirtyAsync(string reason, CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        await Table.UpsertEntityAsync(
            new TableEntity(Partition, Row) { ["ChangedAt"] = time.GetUtcNow(), ["Reason"] = reason },
            TableUpdateMode.Merge, cancellationToken);
    }

    /// <summary>The marker's current version; null when nothing was ever marked.</summary>
    public async Task<ETag?> VersionAsync(CancellationToken cancellationToken)
    {
        await initializer.EnsureCreatedAsync();
        var e = await Table.GetEntityIfExistsAsync<TableEntity>(Partition, Row, select: ["ChangedAt"], cancellationToken: cancellationToken);
        return e.HasValue ? e.Value!.ETag : null;
    }
}
