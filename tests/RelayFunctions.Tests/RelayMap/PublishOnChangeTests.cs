using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.RelayMap;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// Publishing is triggered by the change itself: the first change after a publication sends one queue message, the rest
/// of a burst ride on it, and the timer is only a safety net. Against Azurite.
/// </summary>
public sealed class PublishOnChangeTests(ITestOutputHelper output)
{
    private sealed record Parts(StorageClients Storage, MapChanges Changes, FakeTimeProvider Time);

    private static async Task<Parts> NewPartsAsync()
    {
        var storage = Azurite.NewStorageClients();
        await new StorageInitializer(storage).EnsureCreatedAsync();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        return new Parts(storage, new MapChanges(storage, new QueueWriter(storage, new QueueSignals()), time), time);
    }

    private static async Task<int> MessagesAsync(Parts parts) =>
        (await parts.Storage.Queue(MapChanges.Queue).PeekMessagesAsync(32)).Value.Length;

    [Fact]
    public async Task ABurstOfChangesSendsOneMessageUntilAPublicationClaimsIt()
    {
        var parts = await NewPartsAsync();
        await Task.WhenAll(Enumerable.Range(0, 20).Select(i => parts.Changes.MarkDirtyAsync($"change {i}", default)));
        Assert.Equal(1, await MessagesAsync(parts));

        // The publication claims the request before it reads the tables; the next change asks again.
        var claimed = await parts.Changes.ClaimAsync(default);
        Assert.NotNull(claimed);
        Assert.Equal(claimed, await parts.Changes.ClaimAsync(default));
        await parts.Changes.MarkDirtyAsync("after the claim", default);
        Assert.Equal(2, await MessagesAsync(parts));
        Assert.NotEqual(claimed, await parts.Changes.ClaimAsync(default));
    }

    [Fact]
    public async Task ARequestWhoseMessageWasLostIsAskedForAgainAfterTheLease()
    {
        var parts = await NewPartsAsync();
        await parts.Changes.MarkDirtyAsync("first", default);
        await parts.Storage.Queue(MapChanges.Queue).ClearMessagesAsync();

        parts.Time.Advance(MapChanges.RequestLease - TimeSpan.FromSeconds(1));
        await parts.Changes.MarkDirtyAsync("within the lease", default);
        Assert.Equal(0, await MessagesAsync(parts));

        parts.Time.Advance(TimeSpan.FromSeconds(2));
        await parts.Changes.MarkDirtyAsync("after the lease", default);
        Assert.Equal(1, await MessagesAsync(parts));
    }

    [Fact]
    public async Task AChangeIsPublishedWithinMomentsWithoutATimerTick()
    {
        // The safety timer would first run next New Year: only the change's own message can publish.
        await using var app = new AppFactory(
        [
            new("RelayMap:Schedule", "0 0 0 1 1 *"),
            new("Hosting:HostId", "onchange-" + Guid.NewGuid().ToString("N")[..6]),
        ]);
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        var client = await app.NewAccountAsync("onchange");
        Assert.Null(await publisher.CurrentAsync(default));

        var latencies = new List<TimeSpan>();
        for (var i = 1; i <= 5; i++)
        {
            var clock = Stopwatch.StartNew();
            var created = await client.PostAsJsonAsync("/api/domains", new { name = $"d{i}.onchange.example", mode = "hold" });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            // Only a domain whose control is proven is published: the operator's verification is the routing change.
            await app.VerifyAsync("onchange", $"d{i}.onchange.example");
            var expected = i;
            await Eventually.WaitAsync(() => publisher.CurrentAsync(default), p => p?.Domains == expected, TimeSpan.FromSeconds(10), $"domain {i} published");
            latencies.Add(clock.Elapsed);
        }
        output.WriteLine($"change → generation: {string.Join(", ", latencies.Select(l => $"{l.TotalMilliseconds:F0} ms"))}");
        Assert.All(latencies, l => Assert.True(l < TimeSpan.FromSeconds(5), $"{l} from change to generation"));

        // A burst of changes (ten domains, each created and verified) becomes fewer generations than it has domains:
        // the changes that land while one publication builds ride on a single request for the next.
        var before = (await publisher.CurrentAsync(default))!.Generation;
        await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            (await client.PostAsJsonAsync("/api/domains", new { name = $"b{i}.onchange.example", mode = "hold" })).EnsureSuccessStatusCode();
            await app.VerifyAsync("onchange", $"b{i}.onchange.example");
        }));
        var after = await Eventually.WaitAsync(() => publisher.CurrentAsync(default), p => p!.Domains == 15, TimeSpan.FromSeconds(10), "the burst published");
        output.WriteLine($"a burst of 10 domains created and verified: {after!.Generation - before} generations");
        Assert.InRange(after.Generation - before, 1, 9);
    }

    [Fact]
    public async Task UnderTheHostTheQueueInvocationPublishesAndARepeatIsANoOp()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        var client = await app.NewAccountAsync("hosted");
        (await client.PostAsJsonAsync("/api/domains", new { name = "hosted.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("hosted", "hosted.example");

        async Task<HttpStatusCode> InvokeAsync(string function, string data)
        {
            var body = $$$"""{"Data":{{{data}}},"Metadata":{"DequeueCount":"1","Id":"\"m\""}}""";
            return (await app.CreateClient().PostAsync("/" + function, new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode;
        }
        const string Message = """{"message":"{\"requestedAt\":\"2026-01-01T00:00:00Z\"}"}""";
        Assert.Equal(HttpStatusCode.OK, await InvokeAsync(RelayMapChangedFunction.FunctionName, Message));
        var first = (await publisher.CurrentAsync(default))!;
        Assert.Equal(1, first.Domains);

        // A duplicate message, or the safety timer, finds nothing new: no generation.
        Assert.Equal(HttpStatusCode.OK, await InvokeAsync(RelayMapChangedFunction.FunctionName, Message));
        Assert.Equal(HttpStatusCode.OK, await InvokeAsync(PublishRelayMapFunction.FunctionName, """{"timer":{"ScheduleStatus":null,"IsPastDue":false}}"""));
        Assert.Equal(first.Generation, (await publisher.CurrentAsync(default))!.Generation);

        // A change whose message never arrives is published by the safety timer.
        (await client.PostAsJsonAsync("/api/domains", new { name = "lost.hosted.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("hosted", "lost.hosted.example");
        Assert.Equal(HttpStatusCode.OK, await InvokeAsync(PublishRelayMapFunction.FunctionName, """{"timer":{"ScheduleStatus":null,"IsPastDue":false}}"""));
        Assert.Equal(2, (await publisher.CurrentAsync(default))!.Domains);
    }
}
