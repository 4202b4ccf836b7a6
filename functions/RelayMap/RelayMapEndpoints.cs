using Azure.Data.Tables;
using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary><c>GET /api/admin/relay-map</c>: the current generation and what each relay last reported applying.</summary>
public static class RelayMapEndpoints
{
    public sealed record RelayReport(string Relay, long? Generation, DateTimeOffset? AppliedAt, string? Error);

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
                relays.Add(new RelayReport(e.RowKey, e.GetInt64("Generation"), e.GetDateTimeOffset("AppliedAt"), e.GetString("Error")));
            }
            return TypedResults.Ok(new RelayMapStatus(current?.Generation, current?.PublishedAt, current?.Domains, relays));
        }).WithName("RelayMapStatus");
    }
}
