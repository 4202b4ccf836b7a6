using RelayFunctions.Storage;

namespace RelayFunctions.RelayMap;

/// <summary>
/// One relay's report: the generation it applied and when, why its last poll failed (null when healthy), and when
/// its agent last wrote the report (at least every heartbeat, a minute by default: an old one means the agent is down).
/// </summary>
public sealed record RelayReport(string Relay, long? Generation, DateTimeOffset? AppliedAt, string? Error, DateTimeOffset? LastSeen);

/// <summary>
/// One block: the relay and the client address, when it ends, the failures that started it, its level (1 the first
/// block, 2 a repeat within a day, each level twice as long, at most a day) and why. An agent deletes the row when the
/// block ends, so an <c>until</c> in the past means that relay's agent is not running (its Postfix still blocks).
/// </summary>
public sealed record RelayBlock(string Relay, string Address, DateTimeOffset? Until, int? Failures, int? Level, string? Reason);

/// <summary>
/// What the relays' agents write about themselves, read for the operators: their reports (<c>RelayReports</c>:
/// "relay" / relay id) and the client addresses they block (<c>RelayBlocks</c>: relay id / the address with ':' as '-').
/// The agents write the rows; this side only reads them.
/// </summary>
public sealed class RelayReportStore(StorageClients storage)
{
    public async Task<IReadOnlyList<RelayReport>> ReportsAsync(CancellationToken cancellationToken)
    {
        var reports = new List<RelayReport>();
        await foreach (var e in storage.Table(StorageNames.RelayReports).QueryAsync<ReportEntity>(cancellationToken: cancellationToken))
        {
            reports.Add(new RelayReport(e.RowKey, e.Generation, e.AppliedAt, e.Error, e.LastSeen));
        }
        return reports;
    }

    public async Task<IReadOnlyList<RelayBlock>> BlocksAsync(CancellationToken cancellationToken)
    {
        var blocks = new List<RelayBlock>();
        await foreach (var e in storage.Table(StorageNames.RelayBlocks).QueryAsync<BlockEntity>(cancellationToken: cancellationToken))
        {
            blocks.Add(new RelayBlock(e.PartitionKey, e.RowKey.Replace('-', ':'), e.Until, e.Failures, e.Level, e.Reason));
        }
        return blocks;
    }

    /// <summary>A row of <c>RelayReports</c>, as relay-agent's RelayReporter writes it.</summary>
    private sealed class ReportEntity : StoredEntity
    {
        public long? Generation { get; set; }
        public DateTimeOffset? AppliedAt { get; set; }
        public string? Error { get; set; }
        public DateTimeOffset? LastSeen { get; set; }
    }

    /// <summary>A row of <c>RelayBlocks</c>, as relay-agent's BlockReports writes it.</summary>
    private sealed class BlockEntity : StoredEntity
    {
        public DateTimeOffset? Until { get; set; }
        public int? Failures { get; set; }
        public int? Level { get; set; }
        public string? Reason { get; set; }
    }
}
