using Azure.Data.Tables;
using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary>
/// <c>GET /api/admin/relay-blocks</c>: the client addresses the relays block after repeated failed SMTP AUTHs, as each
/// relay's agent writes them to the <c>RelayBlocks</c> table (partition the relay, row key the address with ':' as '-').
/// </summary>
public static class RelayBlockEndpoints
{
    /// <summary>
    /// One block: the relay and the client address, when it ends, the failures that started it, its level (1 the first
    /// block, 2 a repeat within a day, each level twice as long, at most a day) and why. An agent deletes the row when the
    /// block ends, so an <c>until</c> in the past means that relay's agent is not running (its Postfix still blocks).
    /// </summary>
    public sealed record RelayBlock(string Relay, string Address, DateTimeOffset? Until, int? Failures, int? Level, string? Reason);

    public static void MapRelayBlockEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/relay-blocks", async (StorageClients storage, CancellationToken ct) =>
        {
            var blocks = new List<RelayBlock>();
            await foreach (var e in storage.Table(StorageNames.RelayBlocks).QueryAsync<TableEntity>(cancellationToken: ct))
            {
                blocks.Add(new RelayBlock(e.PartitionKey, e.RowKey.Replace('-', ':'), e.GetDateTimeOffset("Until"), e.GetInt32("Failures"), e.GetInt32("Level"), e.GetString("Reason")));
            }
            return TypedResults.Ok(blocks);
        }).WithName("RelayBlocks").WithTags("Operators").WithSummary("The client addresses the relays block after repeated failed authentications.")
            .Produces<List<RelayBlock>>();
    }
}
