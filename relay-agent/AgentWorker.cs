using Azure.Data.Tables;
using Microsoft.Extensions.Options;

namespace RelayAgent;

/// <summary>
/// The agent's loop: poll the pointer, and when a newer generation is there, download and verify it, apply it, and
/// report what this relay applied (or why it could not) to the <c>RelayReports</c> table the operators read.
/// A failed download or apply changes nothing on the relay and is tried again at the next poll.
/// </summary>
public sealed partial class AgentWorker(
    MapSource source, MapApplier applier, TableClient reports, IOptions<AgentOptions> options, TimeProvider time,
    ILogger<AgentWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            await PollOnceAsync(stoppingToken);
            try
            {
                await Task.Delay(options.Value.PollInterval, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async Task<ApplyResult?> PollOnceAsync(CancellationToken ct)
    {
        MapPointer? pointer = null;
        try
        {
            pointer = await source.PollAsync(ct);
            // The pointer never moves backwards, so any other generation than ours is newer, or a recreated map.
            if (pointer is null || pointer.Generation == applier.AppliedGeneration)
            {
                return null;
            }
            var generation = await source.DownloadAsync(pointer, ct);
            var result = await applier.ApplyAsync(generation, ct);
            await ReportAsync(result.Generation, null, ct);
            return result;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.Failed(logger, e, pointer?.Generation);
            source.Reset();
            await ReportAsync(applier.AppliedGeneration, e.Message, ct);
            return null;
        }
    }

    private async Task ReportAsync(long generation, string? error, CancellationToken ct)
    {
        try
        {
            await reports.CreateIfNotExistsAsync(ct);
            await reports.UpsertEntityAsync(new TableEntity("relay", options.Value.RelayId)
            {
                ["Generation"] = generation,
                ["AppliedAt"] = time.GetUtcNow(),
                ["Error"] = error,
            }, TableUpdateMode.Replace, ct);
        }
        catch (Azure.RequestFailedException e)
        {
            Log.ReportFailed(logger, e);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Applying relay map generation {Generation} failed; will retry")]
        public static partial void Failed(ILogger logger, Exception exception, long? generation);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report to storage")]
        public static partial void ReportFailed(ILogger logger, Exception exception);
    }
}
