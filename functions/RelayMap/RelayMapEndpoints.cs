using Azure.Data.Tables;
using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary><c>GET /api/admin/relay-map</c>: the current generation and what each relay last reported applying.</summary>
public static class RelayMapEndpoints
{
    /// <summary>
    /// One relay's report: the generation it applied and when, why its last poll failed (null when healthy), and when
    /// its agent last wrote the report (at least every heartbeat, a minute by default: an old one means the agent is down).
    /// </summary>
    public sealed record RelayReport(string Relay, long? Generation, DateTimeOffset? AppliedAt, string? Error, DateTimeOffset? LastSeen);

    /// <summary>
    /// The current generation, the latest snapshot (a relay that is behind it, or starts fresh, applies it), how many
    /// changes wait for the next publication, and the relays' reports.
    /// </summary>
    public sealed record RelayMapStatus(
        long? Generation, DateTimeOffset? PublishedAt, int? Domains, long? Snapshot, DateTimeOffset? SnapshotAt, int PendingChanges, IReadOnlyList<RelayReport> Relays);

    public static void MapRelayMapEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/relay-map", async (RelayMapPublisher publisher, MapChanges changes, StorageClients storage, CancellationToken ct) =>
        {
            var current = await publisher.CurrentAsync(ct);
            var relays = new List<RelayReport>();
            await foreach (var e in storage.Table(StorageNames.RelayReports).QueryAsync<TableEntity>(cancellationToken: ct))
            {
                relays.Add(new RelayReport(e.RowKey, e.GetInt64("Generation"), e.GetDateTimeOffset("AppliedAt"), e.GetString("Error"), e.GetDateTimeOffset("LastSeen")));
            }
            var pending = (await changes.PendingAsync(ct)).Count;
            return TypedResults.Ok(new RelayMapStatus(current?.Generation, current?.PublishedAt, current?.Domains, current?.Snapshot, current?.SnapshotAt, pending, relays));
        }).WithName("RelayMapStatus").WithTags("Operators").WithSummary("The current relay map generation and each relay's report.");

        admin.MapPost("/relay-map/rebuild", async (MapChanges changes, CancellationToken ct) =>
        {
            await changes.RequestRebuildAsync(ct);
            return TypedResults.Accepted("/api/admin/relay-map");
        }).WithName("RebuildRelayMap").WithTags("Operators").Produces(StatusCodes.Status202Accepted)
            .WithSummary("Publishes a snapshot read from the Domains table (a repair: the relays then hold exactly what the table says).");
    }
}
