using Microsoft.AspNetCore.Http.HttpResults;

namespace RelayFunctions.RelayMap;

/// <summary><c>GET /api/admin/relay-map</c>: the current generation and what each relay last reported applying.</summary>
public static class RelayMapEndpoints
{
    /// <summary>
    /// The current generation, the latest snapshot (a relay that is behind it, or starts fresh, applies it), how many
    /// changes wait for the next publication, and the relays' reports.
    /// </summary>
    public sealed record RelayMapStatus(
        long? Generation, DateTimeOffset? PublishedAt, int? Domains, long? Snapshot, DateTimeOffset? SnapshotAt, int PendingChanges, IReadOnlyList<RelayReport> Relays);

    public static void MapRelayMapEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/relay-map", async Task<Ok<RelayMapStatus>> (RelayMapPublisher publisher, MapChanges changes, RelayReportStore relays, CancellationToken ct) =>
        {
            var current = await publisher.CurrentAsync(ct);
            var reports = await relays.ReportsAsync(ct);
            var pending = (await changes.PendingAsync(ct)).Count;
            return TypedResults.Ok(new RelayMapStatus(current?.Generation, current?.PublishedAt, current?.Domains, current?.Snapshot, current?.SnapshotAt, pending, reports));
        }).WithName("RelayMapStatus").WithTags("Operators").WithSummary("The current relay map generation and each relay's report.");

        admin.MapPost("/relay-map/rebuild", async Task<Accepted> (MapChanges changes, CancellationToken ct) =>
        {
            await changes.RequestRebuildAsync(ct);
            return TypedResults.Accepted("/api/admin/relay-map");
        }).WithName("RebuildRelayMap").WithTags("Operators")
            .WithSummary("Publishes a snapshot read from the Domains table (a repair: the relays then hold exactly what the table says).");
    }
}
