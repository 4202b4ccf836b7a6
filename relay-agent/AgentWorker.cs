using System.Diagnostics;
using RelayShared;

namespace RelayAgent;

/// <summary>
/// The agent's loop: poll the pointer, and when a newer generation is there, download and verify what leads to it
/// (deltas, or a snapshot and the deltas after it), apply it, and
/// report what this relay applied (or why it could not) to the <c>RelayReports</c> table the operators read.
/// A failed download or apply changes nothing on the relay and is tried again at the next poll.
/// </summary>
public sealed partial class AgentWorker(
    MapSource source, MapApplier applier, RelayReporter reporter, AgentTelemetry telemetry, AgentOptions options, TimeProvider time,
    ILogger<AgentWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        telemetry.Current(applier.AppliedGeneration);
        try
        {
            while (true)
            {
                await PollOnceAsync(stoppingToken);
                await Task.Delay(options.PollInterval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping is not a failure: a download in flight is dropped, and an apply cut short is applied again,
            // releases included, at the next start (MapApplier is crash-safe).
            Log.Stopped(logger);
        }
    }

    public async Task<ApplyResult?> PollOnceAsync(CancellationToken ct)
    {
        using var activity = AgentTelemetry.Source.StartActivity("relay_map.poll");
        MapPointer? pointer = null;
        try
        {
            pointer = await source.PollAsync(ct);
            // The pointer never moves backwards, so any other generation than ours is newer, or a recreated map.
            if (pointer is null || pointer.Generation == applier.AppliedGeneration)
            {
                await reporter.ReportAsync(applier.AppliedGeneration, applier.AppliedAt, null, ct);
                return null;
            }
            activity?.SetTag("relay_map.generation", pointer.Generation);
            var update = await source.DownloadAsync(pointer, applier.AppliedGeneration, ct);
            telemetry.Update(update);
            if (update.Snapshot is { } snapshot)
            {
                Log.Snapshot(logger, snapshot.Generation, update.Deltas.Count, pointer.Generation, update.FallbackReason);
            }
            else
            {
                Log.Deltas(logger, update.Deltas.Count, update.Deltas[0].Base, pointer.Generation);
            }
            var result = await applier.ApplyAsync(update, ct);
            await reporter.ReportAsync(result.Generation, applier.AppliedAt, null, ct);
            return result;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Log.Failed(logger, e, pointer?.Generation);
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            telemetry.PollFailed();
            source.Reset();
            await reporter.ReportAsync(applier.AppliedGeneration, applier.AppliedAt, e.Message, ct);
            return null;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Error, Message = "Applying relay map generation {Generation} failed; will retry")]
        public static partial void Failed(ILogger logger, Exception exception, long? generation);

        [LoggerMessage(Level = LogLevel.Information, Message = "Applying snapshot {Snapshot} and {Deltas} deltas up to generation {Generation} ({Reason})")]
        public static partial void Snapshot(ILogger logger, long snapshot, int deltas, long generation, string? reason);

        [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Deltas} deltas from generation {Applied} to {Generation}")]
        public static partial void Deltas(ILogger logger, int deltas, long applied, long generation);

        [LoggerMessage(Level = LogLevel.Information, Message = "Relay agent stopped")]
        public static partial void Stopped(ILogger logger);
    }
}
