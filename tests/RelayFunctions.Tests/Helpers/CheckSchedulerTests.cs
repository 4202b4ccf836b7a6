using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.Domains;
using RelayFunctions.Helpers;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Helpers;

/// <summary>
/// The tick against Azurite, driven by hand (the app runs under the "Functions host" here, so no runner of its
/// own): it reads only the helpers that are due, and re-enqueues any whose check never happened.
/// </summary>
public sealed class CheckSchedulerTests
{
    [Fact]
    public async Task ATickEnqueuesOnlyTheDueHelpersAndRecoversLostMessages()
    {
        await using var app = AppFactory.UnderFunctionsHost(new("Helpers:BucketSize", "00:00:01"), new("Helpers:EnqueueLease", "00:00:03"));
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
                var later = DateTimeOffset.UtcNow.AddHours(1);
                Assert.NotNull(await store.TryReplaceAsync(helper, helper with { NextCheck = later, IndexBucket = index.BucketFor(later, "sched", helper.Domain) }, default));
            }
        }
        await Task.Delay(1100);

        var first = await scheduler.TickAsync(default);
        Assert.Equal(new TickResult(5, 5, 0), first);
        var queue = storage.Queue(CheckHelpersFunction.Queue);
        Assert.Equal(5, (await queue.PeekMessagesAsync(32)).Value.Length);

        // Still in the queue: the next tick leaves them alone.
        Assert.Equal(new TickResult(5, 0, 5), await scheduler.TickAsync(default));

        // The messages are lost; once the lease runs out, the next tick enqueues them again.
        await queue.ClearMessagesAsync();
        await Task.Delay(3100);
        Assert.Equal(new TickResult(5, 5, 0), await scheduler.TickAsync(default));
        Assert.Equal(5, (await queue.PeekMessagesAsync(32)).Value.Length);
    }
}
