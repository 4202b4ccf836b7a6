using Azure;
using Azure.Data.Tables;

namespace RelayAgent.Submission;

/// <summary>
/// This relay's blocks in the <c>RelayBlocks</c> table, which <c>GET /api/admin/relay-blocks</c> shows operators:
/// partition the relay id, row key the address (':' written '-', which no address holds), <c>Until</c>,
/// <c>Failures</c>, <c>Level</c> and <c>Reason</c>. A row is written when its block starts and deleted when it ends.
/// Storage being down never stops a block: what could not be written is written at the next <see cref="SyncAsync"/>.
/// </summary>
public sealed partial class BlockReports(TableClient table, AgentOptions options, ILogger<BlockReports> logger)
{
    private readonly Dictionary<string, AuthBlock> _written = new(StringComparer.Ordinal);
    private bool _tableExists;

    /// <summary>The blocks this relay wrote before it restarted; none when storage cannot say.</summary>
    public async Task<IReadOnlyList<AuthBlock>> ReadAsync(CancellationToken ct)
    {
        var blocks = new List<AuthBlock>();
        try
        {
            await EnsureTableAsync(ct);
            await foreach (var e in table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {options.RelayId}"), cancellationToken: ct))
            {
                var block = new AuthBlock(Address(e.RowKey), e.GetDateTimeOffset("Until") ?? default, e.GetInt32("Failures") ?? 0, e.GetInt32("Level") ?? 1, e.GetString("Reason") ?? "");
                blocks.Add(block);
                _written[block.Address] = block;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.ReadFailed(logger, e);
        }
        return blocks;
    }

    /// <summary>Makes the table say <paramref name="active"/>: rows written for new blocks, deleted for ended ones. False when some write failed.</summary>
    public async Task<bool> SyncAsync(IReadOnlyCollection<AuthBlock> active, CancellationToken ct)
    {
        try
        {
            await EnsureTableAsync(ct);
            foreach (var block in active.Where(b => !_written.TryGetValue(b.Address, out var written) || written != b))
            {
                await table.UpsertEntityAsync(new TableEntity(options.RelayId, RowKey(block.Address))
                {
                    ["Until"] = block.Until,
                    ["Failures"] = block.Failures,
                    ["Level"] = block.Level,
                    ["Reason"] = block.Reason,
                }, TableUpdateMode.Replace, ct);
                _written[block.Address] = block;
            }
            var current = active.Select(b => b.Address).ToHashSet(StringComparer.Ordinal);
            foreach (var address in _written.Keys.Where(a => !current.Contains(a)).ToList())
            {
                try
                {
                    await table.DeleteEntityAsync(options.RelayId, RowKey(address), ETag.All, ct);
                }
                catch (RequestFailedException e) when (e.Status == 404)
                {
                    // Already gone (an operator cleaned up): nothing to lift.
                }
                _written.Remove(address);
            }
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.WriteFailed(logger, e);
            return false;
        }
    }

    public static string RowKey(string address) => address.Replace(':', '-');

    public static string Address(string rowKey) => rowKey.Replace('-', ':');

    private async Task EnsureTableAsync(CancellationToken ct)
    {
        if (!_tableExists)
        {
            await table.CreateIfNotExistsAsync(ct);
            _tableExists = true;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read this relay's blocks from storage; blocks from before the restart are lifted")]
        public static partial void ReadFailed(ILogger logger, Exception exception);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not write this relay's blocks to storage; will retry")]
        public static partial void WriteFailed(ILogger logger, Exception exception);
    }
}
