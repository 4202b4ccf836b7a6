namespace RelayFunctions.Hosting.Timers;

/// <summary>
/// Drives one timer function standalone: waits for the singleton lock, runs a missed occurrence at once
/// (<c>IsPastDue</c>), then runs each occurrence of the schedule while it keeps the lock. A failed run is
/// logged and not retried, as under the Functions host.
/// </summary>
public sealed partial class TimerListener(
    ITimerFunction function, TimerSchedule schedule, SingletonLock singleton, ScheduleMonitor monitor,
    TimerRunnerOptions options, TimeProvider time, ILogger logger)
{
    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                bool acquired;
                try
                {
                    acquired = await singleton.TryAcquireAsync(stopping);
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    // Storage is unavailable or hangs: keep the app up and try again, as the host's listener does.
                    Log.StorageFailed(logger, e, function.Name);
                    acquired = false;
                }
                if (!acquired)
                {
                    await Task.Delay(options.LockRecoveryInterval, time, stopping);
                    continue;
                }

                Log.LockAcquired(logger, function.Name);
                using var lost = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                var renewal = KeepLockAsync(lost);
                try
                {
                    await RunScheduleAsync(lost.Token);
                }
                catch (OperationCanceledException) when (lost.IsCancellationRequested)
                {
                }
                catch (Exception e) when (!stopping.IsCancellationRequested)
                {
                    Log.StorageFailed(logger, e, function.Name);
                }
                finally
                {
                    await lost.CancelAsync();
                    await renewal;
                }
                if (stopping.IsCancellationRequested)
                {
                    await singleton.ReleaseAsync();
                }
                else
                {
                    Log.LockLost(logger, function.Name);
                    await singleton.ReleaseAsync();
                    await Task.Delay(options.LockRecoveryInterval, time, stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task RunScheduleAsync(CancellationToken token)
    {
        var status = await monitor.ReadAsync(function.Name, token);
        var now = time.GetUtcNow();
        if (status is not null && status.Next < now)
        {
            await InvokeAsync(new TimerInfo(true, status.Last, status.Next), status.Next, token);
        }

        var last = status?.Last ?? DateTimeOffset.MinValue;
        while (true)
        {
            // A delay may end a moment early: never take the same occurrence twice.
            now = time.GetUtcNow();
            var due = schedule.NextAfter(now > last ? now : last);
            await Task.Delay(due - now, time, token);
            await InvokeAsync(new TimerInfo(false, status?.Last, due), due, token);
            last = due;
            status = await monitor.ReadAsync(function.Name, token);
        }
    }

    private async Task InvokeAsync(TimerInfo info, DateTimeOffset occurrence, CancellationToken token)
    {
        try
        {
            await function.RunAsync(info, token);
        }
        catch (Exception e) when (!token.IsCancellationRequested)
        {
            Log.RunFailed(logger, e, function.Name, occurrence);
        }
        var now = time.GetUtcNow();
        await monitor.WriteAsync(function.Name, new ScheduleMonitor.Status(occurrence, schedule.NextAfter(now), now), token);
    }

    private async Task KeepLockAsync(CancellationTokenSource lost)
    {
        try
        {
            while (true)
            {
                await Task.Delay(singleton.Duration / 2, time, lost.Token);
                if (!await singleton.TryRenewAsync(lost.Token))
                {
                    await lost.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (lost.IsCancellationRequested)
        {
        }
        catch (Exception)
        {
            // Whatever failed, the lock is not vouched for any more: the schedule stops until it is taken again.
            await lost.CancelAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "This instance holds the timer lock of {FunctionName}")]
        public static partial void LockAcquired(ILogger logger, string functionName);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Lost the timer lock of {FunctionName}; trying to take it back")]
        public static partial void LockLost(ILogger logger, string functionName);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Storage failed for the timer of {FunctionName}; retrying")]
        public static partial void StorageFailed(ILogger logger, Exception exception, string functionName);

        [LoggerMessage(Level = LogLevel.Error, Message = "{FunctionName} failed for its occurrence at {Occurrence}")]
        public static partial void RunFailed(ILogger logger, Exception exception, string functionName, DateTimeOffset occurrence);
    }
}
