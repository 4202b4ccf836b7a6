using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using RelayFunctions.Hosting;
using RelayFunctions.Hosting.Timers;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hosting;

/// <summary>The standalone timer runner against Azurite: a singleton across instances, and past-due runs on start.</summary>
public sealed class TimerRunnerTests
{
    private readonly StorageClients _storage = Azurite.NewStorageClients();

    private sealed record Tick(string Instance, TimerInfo Info, DateTimeOffset At);

    private sealed class RecordingTimer(string instance, ConcurrentQueue<Tick> ticks, string schedule = "* * * * * *") : ITimerFunction
    {
        public string Name => "TestTimer";
        public string Schedule => schedule;

        public Task RunAsync(TimerInfo timer, CancellationToken cancellationToken)
        {
            ticks.Enqueue(new Tick(instance, timer, DateTimeOffset.UtcNow));
            return Task.CompletedTask;
        }
    }

    private TimerListener Instance(string name, ConcurrentQueue<Tick> ticks, TimerRunnerOptions options)
    {
        var container = _storage.Container(TimerRunner.HostsContainer);
        var function = new RecordingTimer(name, ticks);
        return new TimerListener(
            function, TimerSchedule.Parse(function.Schedule),
            new SingletonLock(container, options.HostId, function.Name, options.LockLease),
            new ScheduleMonitor(container, options.HostId), options, TimeProvider.System, NullLogger.Instance);
    }

    private static TimerRunnerOptions Options1s() => new()
    {
        HostId = "tests",
        LockLease = TimeSpan.FromSeconds(15),
        LockRecoveryInterval = TimeSpan.FromSeconds(1),
    };

    [Fact]
    public async Task TwoInstancesNeverBothRunATick()
    {
        var ticks = new ConcurrentQueue<Tick>();
        var options = Options1s();
        using var stop = new CancellationTokenSource();
        var a = Task.Run(() => Instance("a", ticks, options).RunAsync(stop.Token));
        var b = Task.Run(() => Instance("b", ticks, options).RunAsync(stop.Token));

        await Task.Delay(TimeSpan.FromSeconds(6));
        await stop.CancelAsync();
        await Task.WhenAll(a, b);

        Assert.True(ticks.Count >= 3, $"expected ticks every second, got {ticks.Count}");
        Assert.Single(ticks.Select(t => t.Instance).Distinct());
        var occurrences = ticks.Select(t => t.Info.Next).ToList();
        Assert.Equal(occurrences.Count, occurrences.Distinct().Count());
    }

    [Fact]
    public async Task WhenTheHolderStopsTheOtherInstanceTakesOver()
    {
        var ticks = new ConcurrentQueue<Tick>();
        var options = Options1s();
        using var stopFirst = new CancellationTokenSource();
        using var stopSecond = new CancellationTokenSource();
        var first = Task.Run(() => Instance("first", ticks, options).RunAsync(stopFirst.Token));
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var second = Task.Run(() => Instance("second", ticks, options).RunAsync(stopSecond.Token));
        await Task.Delay(TimeSpan.FromSeconds(2));

        await stopFirst.CancelAsync();
        await first;
        var handover = DateTimeOffset.UtcNow;
        await Task.Delay(TimeSpan.FromSeconds(4));
        await stopSecond.CancelAsync();
        await second;

        Assert.All(ticks.Where(t => t.At < handover), t => Assert.Equal("first", t.Instance));
        Assert.Contains(ticks, t => t.Instance == "second" && t.At > handover);
    }

    [Fact]
    public async Task AMissedOccurrenceRunsAtOnceOnStartAsPastDue()
    {
        var options = Options1s();
        var container = _storage.Container(TimerRunner.HostsContainer);
        await container.CreateIfNotExistsAsync();
        var monitor = new ScheduleMonitor(container, options.HostId);
        var missed = DateTimeOffset.UtcNow.AddHours(-1);
        await monitor.WriteAsync("TestTimer", new ScheduleMonitor.Status(missed.AddHours(-1), missed, missed.AddHours(-1)), default);

        var ticks = new ConcurrentQueue<Tick>();
        var function = new RecordingTimer("only", ticks, "0 0 0 1 1 *");
        var listener = new TimerListener(
            function, TimerSchedule.Parse(function.Schedule),
            new SingletonLock(container, options.HostId, function.Name, options.LockLease), monitor, options, TimeProvider.System, NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => listener.RunAsync(stop.Token));
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ticks.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        await stop.CancelAsync();
        await run;

        var tick = Assert.Single(ticks);
        Assert.True(tick.Info.IsPastDue);
        Assert.Equal(missed, tick.Info.Next);
        var status = await monitor.ReadAsync("TestTimer", default);
        Assert.Equal(missed, status!.Last);
        Assert.True(status.Next > DateTimeOffset.UtcNow);
    }
}
