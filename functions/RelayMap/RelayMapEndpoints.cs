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

    public sealed record RelayMapStatus(long? Generation, DateTimeOffset? PublishedAt, int? Domains, IReadOnlyList<RelayReport> Relays);

    public static void MapRelayMapEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/relay-map", async (RelayMapPublisher publisher, StorageClients storage, StorageInitializer initializer, CancellationToken ct) =>
        {
            await initializer.EnsureCreatedAsync();
            var current = await publisher.CurrentAsync(ct);
            var relays = new List<RelayReport>();
            await foreach (var e in storage.Table("RelayReports").QueryAsync<TableEntity>(cancellationToken: ct))
            {
                relays.Add(new RelayReport(e.RowKey, e.GetInt64("Generation"), e.GetDateTimeOffset("AppliedAt"), e.GetString("Error"), e.GetDateTimeOffset("LastSeen")));
            }
            return TypedResults.Ok(new RelayMapStatus(current?.Generation, current?.PublishedAt, current?.Domains, relays));
        }).WithName("RelayMapStatus").WithTags("Operators").WithSummary("The current relay map generation and each relay's report.");
    }
}
