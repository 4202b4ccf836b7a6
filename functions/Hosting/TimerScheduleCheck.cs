using System.Text.Json;

namespace RelayFunctions.Hosting;

/// <summary>
/// Under the Functions host, a timer runs on the literal schedule of its function.json, whatever the app's settings say
/// (a <c>%setting%</c> there would leave the timer unindexed when the setting is missing). A schedule setting that
/// differs only drives the standalone runner, so it is reported at start instead of being silently ignored.
/// </summary>
public sealed partial class TimerScheduleCheck(FunctionCatalog catalog, ILogger<TimerScheduleCheck> logger) : IHostedService
{
    /// <summary>The schedule the host runs a timer on: its function.json next to the app; null without one.</summary>
    public static string? HostSchedule(string functionName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, functionName, "function.json");
        if (!File.Exists(path))
        {
            return null;
        }
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return document.RootElement.GetProperty("bindings").EnumerateArray()
            .Where(b => b.GetProperty("type").GetString() == "timerTrigger")
            .Select(b => b.GetProperty("schedule").GetString())
            .FirstOrDefault();
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        foreach (var timer in catalog.Timers)
        {
            if (HostSchedule(timer.Name) is { } host && host != timer.Schedule)
            {
                Log.ScheduleIgnored(logger, timer.Name, host, timer.Schedule);
            }
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning,
            Message = "{Function} runs on '{HostSchedule}' under the Functions host (its function.json); the configured schedule '{Configured}' applies only standalone")]
        public static partial void ScheduleIgnored(ILogger logger, string function, string hostSchedule, string configured);
    }
}
