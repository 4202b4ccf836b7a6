using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RelayFunctions.Domains;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>
/// The tick against Azurite, driven by hand (the app runs under the "Functions host" here, so no runner of its
/// own) on a clock the test moves: it reads only the helpers that are due, and re-enqueues any whose check never
/// happened once the lease has run out, never before.
/// </summary>
public sealed class CheckSchedulerTests
{
    [Fact]
    public async Task ATickEnqueuesOnlyTheDueHelpersAndRecoversLostMessages()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = new AppFactory(
            [new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"), new("Helpers:BucketSize", "00:00:01"), new("Helpers:EnqueueLease", "00:00:03")],
            s => s.AddSingleton<TimeProvider>(clock));
        var store = app.Services.GetRequiredService<HelperStore>();
        var index = app.Services.GetRequiredService<ScheduleIndex>();
        var scheduler = app.Services.GetRequiredService<CheckScheduler>();
        var storage = app.Services.GetRequiredService<StorageClients>();
        var settings = new HelperSettings(DomainName.Parse("home.example.net"), 25, false, false);

        // 5 helpers due now, 40 due in an hour.
        for (var i = 0; i < 45; i++)
        {
            var helper = (await store.AddAsync("sched", DomainName.Parse($"d{i}.example"), settings, default))!;
            if (i >= 5)
            {
                var later = clock.GetUtcNow().AddHours(1);
                Assert.NotNull(await store.TryReplaceAsync(helper, helper with { NextCheck = later, IndexBucket = index.BucketFor(later, "sched", helper.Domain) }, default));
            }
        }
        string[] due = ["d0.example", "d1.example", "d2.example", "d3.example", "d4.example"];
        var queue = storage.Queue(StorageNames.HelperChecksQueue);
        async Task<IEnumerable<string>> QueuedAsync() =>
            (await queue.PeekMessagesAsync(32)).Value.SelectMany(m => CheckBatch.Parse(m.Body.ToString()).Items).Select(i => i.Subject).Order();
        clock.Advance(TimeSpan.FromMilliseconds(1100));

        Assert.Equal(new TickResult(5, 5, 0), await scheduler.TickAsync(default));
        Assert.Equal(due, await QueuedAsync());

        // Still in the queue, and the lease not yet over: the next tick leaves them alone.
        clock.Advance(TimeSpan.FromMilliseconds(2900));
        Assert.Equal(new TickResult(5, 0, 5), await scheduler.TickAsync(default));
        Assert.Equal(due, await QueuedAsync());

        // The messages are lost; once the lease runs out, the next tick enqueues them again.
        await queue.ClearMessagesAsync();
        clock.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(new TickResult(5, 5, 0), await scheduler.TickAsync(default));
        Assert.Equal(due, await QueuedAsync());
    }
}
