using Microsoft.AspNetCore.Http.HttpResults;

namespace RelayFunctions.RelayMap;

/// <summary>
/// <c>GET /api/admin/relay-blocks</c>: the client addresses the relays block after repeated failed SMTP AUTHs, as each
/// relay's agent writes them (<see cref="RelayReportStore"/>).
/// </summary>
public static class RelayBlockEndpoints
{
    public static void MapRelayBlockEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/relay-blocks", async Task<Ok<IReadOnlyList<RelayBlock>>> (RelayReportStore relays, CancellationToken ct) =>
            TypedResults.Ok(await relays.BlocksAsync(ct)))
            .WithName("RelayBlocks").WithTags("Operators").WithSummary("The client addresses the relays block after repeated failed authentications.");
    }
}
