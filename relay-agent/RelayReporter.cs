using Azure.Data.Tables;

namespace RelayAgent;

/// <summary>
/// This relay's row in the <c>RelayReports</c> table (partition <c>relay</c>, row key the relay id), which
/// <c>GET /api/admin/relay-map</c> shows: <c>Generation</c> applied, <c>AppliedAt</c> (when it was applied),
/// <c>Error</c> (why the last poll failed; absent when healthy) and <c>LastSeen</c> (when the agent last wrote the
/// row). The row is written when what it says changes, and otherwise once per heartbeat, so an idle relay's poll
/// costs one request and a relay whose <c>LastSeen</c> is older than a few heartbeats is not running.
/// </summary>
public sealed partial class RelayReporter(TableClient reports, AgentOptions options, TimeProvider time, ILogger<RelayReporter> logger)
{
    private bool _tableExists;
    private Report? _written;
    private DateTimeOffset _writtenAt;

    public Task ReportAsync(long generation, DateTimeOffset? appliedAt, string? error, CancellationToken ct)
    {
        var report = new Report(generation, appliedAt, error);
        var now = time.GetUtcNow();
        return report == _written && now - _writtenAt < options.HeartbeatInterval ? Task.CompletedTask : WriteAsync(report, now, ct);
    }

    private async Task WriteAsync(Report report, DateTimeOffset now, CancellationToken ct)
    {
        try
        {
            if (!_tableExists)
            {
                await reports.CreateIfNotExistsAsync(ct);
                _tableExists = true;
            }
            await reports.UpsertEntityAsync(new TableEntity("relay", options.RelayId)
            {
                ["Generation"] = report.Generation,
                ["AppliedAt"] = report.AppliedAt,
                ["Error"] = report.Error,
                ["LastSeen"] = now,
            }, TableUpdateMode.Replace, ct);
            (_written, _writtenAt) = (report, now);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Not written, so the next poll tries again.
            Log.ReportFailed(logger, e);
        }
    }

    private sealed record Report(long Generation, DateTimeOffset? AppliedAt, string? Error);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report to storage")]
        public static partial void ReportFailed(ILogger logger, Exception exception);
    }
}
