using Microsoft.Extensions.Options;
using RelayFunctions.Storage;

namespace RelayFunctions.Hosting.Timers;

/// <summary>Standalone only: one <see cref="TimerListener"/> per timer function.</summary>
public sealed class TimerRunner(
    FunctionCatalog catalog, StorageClients storage, IOptions<TimerRunnerOptions> options,
    TimeProvider time, ILoggerFactory loggers) : BackgroundService
{
    /// <summary>The container the host keeps its locks and timer status in.</summary>
    public const string HostsContainer = StorageNames.HostsContainer;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var container = storage.Container(HostsContainer);
        var monitor = new ScheduleMonitor(container, o.HostId);
        var logger = loggers.CreateLogger<TimerListener>();
        var listeners = catalog.Timers.Select(function =>
        {
            var listener = new TimerListener(
                function, TimerSchedule.Parse(function.Schedule),
                new SingletonLock(container, o.HostId, function.Name, o.LockLease),
                monitor, o, time, logger);
            return BackgroundLoop.RunAsync(function.Name, listener.RunAsync, logger, time, stoppingToken);
        });
        return Task.WhenAll(listeners);
    }
}
