using System.Net.Http.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RelayFunctions.Domains;
using RelayFunctions.Hosting;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.IpHelpers;

/// <summary>
/// Batched checks: one message and one index transaction for the helpers of a bucket, each entry carrying the state
/// its next check needs. Driven by hand (no runner of the app's own) on a clock the test moves, against Azurite and Knot,
/// with every storage request counted.
/// </summary>
public sealed class HelperBatchTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private sealed class Engine : IAsyncDisposable
    {
        public readonly FakeTimeProvider Clock = new(DateTimeOffset.UtcNow);
        public readonly AppFactory App;

        public Engine()
        {
            var clock = Clock;
            App = new AppFactory(
                [new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"), .. HelperApp.FastEngine(), new("Helpers:BucketSize", "00:01:00"), new("Helpers:MinimumInterval", "00:01:00")],
                s => s.AddSingleton<TimeProvider>(clock).AddSingleton<StorageRequestCounter>());
        }

        public StorageRequestCounter Counter => App.Services.GetRequiredService<StorageRequestCounter>();

        public HelperStore Helpers => App.Services.GetRequiredService<HelperStore>();

        public TableClient Index => App.Services.GetRequiredService<StorageClients>().Table("HelperSchedule");

        /// <summary>Moves the clock, runs a tick and every message it enqueued; returns the checks run.</summary>
        public async Task<int> TickAndDrainAsync(TimeSpan advance)
        {
            Clock.Advance(advance);
            await App.Services.GetRequiredService<CheckScheduler>().TickAsync(default);
            var function = App.Services.GetServices<IQueueFunction>().Single(f => f.Name == CheckHelpersFunction.FunctionName);
            var queue = App.Services.GetRequiredService<StorageClients>().Queue(StorageNames.HelperChecksQueue);
            var checks = 0;
            while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(10))).Value is { Length: > 0 } messages)
            {
                foreach (var message in messages)
                {
                    var body = message.Body.ToString();
                    checks += CheckBatch.Parse(body).Items.Count;
                    await function.RunAsync(new QueueMessage(message.MessageId, body, message.DequeueCount, message.InsertedOn), default);
                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                }
            }
            return checks;
        }

        /// <summary>The index entries of one helper (there must be exactly one, the one it names).</summary>
        public async Task<List<TableEntity>> EntriesAsync(string account, string domain) =>
            await Index.QueryAsync<TableEntity>(e => e.RowKey.CompareTo($"{account}|{domain}|") > 0 && e.RowKey.CompareTo($"{account}|{domain}|~") < 0).ToListAsync();

        public ValueTask DisposeAsync() => App.DisposeAsync();
    }

    /// <summary>
    /// A tick's worth of helpers whose records have not changed: their checks cost at most two storage operations
    /// each, everything counted (the tick's query and marks, the messages, the index transactions, the helper writes).
    /// </summary>
    [Fact]
    public async Task UnchangedHelpersCostAtMostTwoStorageOperationsPerCheck()
    {
        const int count = 320;
        await using var engine = new Engine();
        var client = await engine.App.NewAccountAsync("batched");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var hosts = Enumerable.Range(0, count).Select(i => Knot.NewName($"b{i}")).ToList();
        await Knot.UpdateAsync(hosts.Select((h, i) => $"update add {h}. 3600 A 82.0.{i / 256}.{i % 256}"));
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
        {
            var domain = $"b{i}-{suffix}.example";
            (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" }, ct)).EnsureSuccessStatusCode();
            await HelperApp.AttachAsync(client, domain, hosts[i], 2525);
        });

        // First checks: read everything, switch every domain to redirect.
        Assert.Equal(count, await engine.TickAndDrainAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(DomainMode.Redirect, (await HelperApp.DomainAsync(client, $"b7-{suffix}.example")).Mode);

        // An hour later (the TTL) they are due again, with nothing changed.
        engine.Counter.Reset();
        Assert.Equal(count, await engine.TickAndDrainAsync(TimeSpan.FromMinutes(62)));
        var perCheck = (double)engine.Counter.Total / count;
        output.WriteLine($"{engine.Counter.Total} storage operations ({engine.Counter.Tables} table, {engine.Counter.Queues} queue) for {count} checks: {perCheck:F2} each");
        Assert.True(perCheck <= 2.0, $"{engine.Counter.Total} storage operations ({engine.Counter.Tables} table, {engine.Counter.Queues} queue) for {count} checks: {perCheck:F2} each");

        // And they were checked: the status moved, the routing held, each helper has exactly the entry it names.
        var helper = (await engine.Helpers.FindAsync("batched", DomainName.Parse($"b7-{suffix}.example"), default))!;
        Assert.Equal(engine.Clock.GetUtcNow(), helper.Status.LastCheck);
        Assert.Equal($"82.0.0.7", (await HelperApp.DomainAsync(client, $"b7-{suffix}.example")).DestinationHost);
        var entries = await engine.EntriesAsync("batched", $"b7-{suffix}.example");
        Assert.Equal(helper.IndexNonce, Assert.Single(entries).RowKey.Split('|')[^1]);
    }

    /// <summary>
    /// The customer edits the domain's routing between two checks: the state the helper's entry carries is then out
    /// of date, and the next check decides from the routing as it is, not as the last check left it.
    /// </summary>
    [Fact]
    public async Task AnEditOfTheDomainsRoutingIsSeenByTheNextCheck()
    {
        await using var engine = new Engine();
        var client = await engine.App.NewAccountAsync("edited");
        var domain = $"edited-{Guid.NewGuid().ToString("N")[..8]}.example";
        var host = Knot.NewName("edited");
        await Knot.SetAsync(host, 3600, "83.0.0.1");
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await HelperApp.AttachAsync(client, domain, host, 2525);
        await engine.TickAndDrainAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(DomainMode.Redirect, (await HelperApp.DomainAsync(client, domain)).Mode);

        // Held by hand; the entry's state still says "redirect to 83.0.0.1", which DNS still gives.
        (await client.PatchAsJsonAsync($"/api/domains/{domain}", new { mode = "hold" })).EnsureSuccessStatusCode();
        Assert.Equal(1, await engine.TickAndDrainAsync(TimeSpan.FromMinutes(62)));
        var after = await HelperApp.DomainAsync(client, domain);
        Assert.Equal(DomainMode.Redirect, after.Mode);
        Assert.Equal("83.0.0.1", after.DestinationHost);
    }

    /// <summary>The same batch delivered three times at once: one check wins, the others replay it; one entry remains.</summary>
    [Fact]
    public async Task ABatchDeliveredThreeTimesAtOnceLeavesOneEntryPerHelper()
    {
        await using var engine = new Engine();
        var client = await engine.App.NewAccountAsync("tripled");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var domains = Enumerable.Range(0, 6).Select(i => $"t{i}-{suffix}.example").ToList();
        foreach (var (domain, i) in domains.Select((d, i) => (d, i)))
        {
            var host = Knot.NewName($"t{i}");
            await Knot.SetAsync(host, 3600, $"84.0.0.{i + 1}");
            (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
            await HelperApp.AttachAsync(client, domain, host, 2525);
        }
        await engine.TickAndDrainAsync(TimeSpan.FromMinutes(2));

        // The next tick's messages, each run three times side by side (with state: the fast path races itself).
        engine.Clock.Advance(TimeSpan.FromMinutes(62));
        await engine.App.Services.GetRequiredService<CheckScheduler>().TickAsync(default);
        var check = engine.App.Services.GetRequiredService<HelperCheck>();
        var queue = engine.App.Services.GetRequiredService<StorageClients>().Queue(StorageNames.HelperChecksQueue);
        var batches = 0;
        while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(10))).Value is { Length: > 0 } messages)
        {
            foreach (var message in messages)
            {
                var batch = CheckBatch.Parse(message.Body.ToString());
                Assert.All(batch.Items, item => Assert.NotNull(HelperState.TryParse(item.State)));
                await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => check.RunAsync(batch, default)));
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                batches++;
            }
        }
        Assert.True(batches > 0);
        foreach (var domain in domains)
        {
            var helper = (await engine.Helpers.FindAsync("tripled", DomainName.Parse(domain), default))!;
            Assert.Equal(engine.Clock.GetUtcNow(), helper.Status.LastCheck);
            var entry = Assert.Single(await engine.EntriesAsync("tripled", domain));
            Assert.Equal($"tripled|{domain}|{helper.IndexNonce}", entry.RowKey);
        }
    }

    /// <summary>
    /// The checks of one account's helpers are recorded in one transaction; the API edits one of them after the tick
    /// (so its entry's state names its old ETag): the transaction fails whole, each helper is recorded on its own, the
    /// edit survives and is checked with its new settings, and every other helper's result is recorded.
    /// </summary>
    [Fact]
    public async Task AnApiEditDuringABatchSurvivesAndTheOtherHelpersAreStillRecorded()
    {
        await using var engine = new Engine();
        var client = await engine.App.NewAccountAsync("raced");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        // Names in one index shard, so that their checks come in one message and are recorded in one transaction.
        var index = engine.App.Services.GetRequiredService<ScheduleIndex>();
        string Shard(string domain) => index.BucketFor(engine.Clock.GetUtcNow(), "raced", domain)[^2..];
        var domains = Enumerable.Range(0, 1000).Select(i => $"r{i}-{suffix}.example").Where(d => Shard(d) == Shard($"r0-{suffix}.example")).Take(8).ToList();
        Assert.Equal(8, domains.Count);
        var hosts = Enumerable.Range(0, 8).Select(i => Knot.NewName($"r{i}")).ToList();
        await Knot.UpdateAsync(hosts.Select((h, i) => $"update add {h}. 3600 A 86.0.0.{i + 1}"));
        foreach (var (domain, i) in domains.Select((d, i) => (d, i)))
        {
            (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
            await HelperApp.AttachAsync(client, domain, hosts[i], 2525);
        }
        Assert.Equal(8, await engine.TickAndDrainAsync(TimeSpan.FromMinutes(2)));

        // Due again with state; the customer moves r3's helper to port 2526 before the messages run.
        engine.Clock.Advance(TimeSpan.FromMinutes(62));
        await engine.App.Services.GetRequiredService<CheckScheduler>().TickAsync(default);
        await HelperApp.AttachAsync(client, domains[3], hosts[3], 2526);
        var check = engine.App.Services.GetRequiredService<HelperCheck>();
        var queue = engine.App.Services.GetRequiredService<StorageClients>().Queue(StorageNames.HelperChecksQueue);
        var batches = 0;
        while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(10))).Value is { Length: > 0 } messages)
        {
            foreach (var message in messages)
            {
                await check.RunAsync(CheckBatch.Parse(message.Body.ToString()), default);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                batches++;
            }
        }
        Assert.Equal(1, batches);

        foreach (var (domain, i) in domains.Select((d, i) => (d, i)))
        {
            var helper = (await engine.Helpers.FindAsync("raced", DomainName.Parse(domain), default))!;
            var entry = Assert.Single(await engine.EntriesAsync("raced", domain));
            Assert.Equal($"raced|{domain}|{helper.IndexNonce}", entry.RowKey);
            if (i == 3)
            {
                Assert.Equal(2526, helper.Settings.Port);
                Assert.True(helper.CheckRequested);
            }
            else
            {
                Assert.Equal(engine.Clock.GetUtcNow(), helper.Status.LastCheck);
            }
        }

        // The edited helper's own check comes next, with its new port.
        Assert.Equal(1, await engine.TickAndDrainAsync(TimeSpan.FromMinutes(1)));
        await HelperApp.RoutingAsync(client, domains[3], "redirect", "86.0.0.4", 2526);
    }

    /// <summary>
    /// Straight at the store: three checks of one account recorded together, one of them over an ETag an edit has
    /// replaced. That one is refused and its row keeps the edit; the other two are recorded, with their new ETags.
    /// </summary>
    [Fact]
    public async Task RecordingChecksTogetherRefusesOnlyTheHelperThatChanged()
    {
        await using var engine = new Engine();
        var client = await engine.App.NewAccountAsync("grouped");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var domains = Enumerable.Range(0, 3).Select(i => $"g{i}-{suffix}.example").ToList();
        foreach (var domain in domains)
        {
            (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
            await HelperApp.AttachAsync(client, domain, Knot.NewName("g"), 2525);
        }
        var read = new List<IpHelper>();
        foreach (var domain in domains)
        {
            read.Add((await engine.Helpers.FindAsync("grouped", DomainName.Parse(domain), default))!);
        }
        await HelperApp.AttachAsync(client, domains[1], read[1].Settings.Host.Value, 2527);

        var at = engine.Clock.GetUtcNow().AddMinutes(5);
        var checks = read.Select(h => (h with { Status = h.Status with { LastCheck = at, Reason = "recorded together" } }, h.ETag)).ToList();
        var etags = await engine.Helpers.TryRecordChecksAsync(checks, default);

        Assert.Null(etags[1]);
        var edited = (await engine.Helpers.FindAsync("grouped", DomainName.Parse(domains[1]), default))!;
        Assert.Equal(2527, edited.Settings.Port);
        Assert.NotEqual(at, edited.Status.LastCheck);
        foreach (var i in new[] { 0, 2 })
        {
            var recorded = (await engine.Helpers.FindAsync("grouped", DomainName.Parse(domains[i]), default))!;
            Assert.Equal(at, recorded.Status.LastCheck);
            Assert.Equal(recorded.ETag, etags[i]);
        }
    }

    /// <summary>A helper that names an entry that is not there (lost by hand) is checked by the next stale message, and gets one again.</summary>
    [Fact]
    public async Task AHelperWhoseEntryWasLostGetsItBackFromAStaleMessage()
    {
        await using var engine = new Engine();
        var client = await engine.App.NewAccountAsync("repaired");
        var domain = $"repaired-{Guid.NewGuid().ToString("N")[..8]}.example";
        var host = Knot.NewName("repaired");
        await Knot.SetAsync(host, 3600, "85.0.0.1");
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold" })).EnsureSuccessStatusCode();
        await HelperApp.AttachAsync(client, domain, host, 2525);
        await engine.TickAndDrainAsync(TimeSpan.FromMinutes(2));

        var helper = (await engine.Helpers.FindAsync("repaired", DomainName.Parse(domain), default))!;
        await engine.Index.DeleteEntityAsync(helper.IndexBucket, $"repaired|{domain}|{helper.IndexNonce}");
        var index = engine.App.Services.GetRequiredService<ScheduleIndex>();
        var stale = index.BucketFor(engine.Clock.GetUtcNow().AddMinutes(-10), "repaired", DomainName.Parse(domain));
        await index.AddAsync(stale, "repaired", DomainName.Parse(domain), "0123456789ab", default);

        Assert.Equal(1, await engine.TickAndDrainAsync(TimeSpan.FromMinutes(1)));
        var after = (await engine.Helpers.FindAsync("repaired", DomainName.Parse(domain), default))!;
        Assert.Equal(engine.Clock.GetUtcNow(), after.Status.LastCheck);
        var entry = Assert.Single(await engine.EntriesAsync("repaired", domain));
        Assert.Equal($"repaired|{domain}|{after.IndexNonce}", entry.RowKey);
    }
}
