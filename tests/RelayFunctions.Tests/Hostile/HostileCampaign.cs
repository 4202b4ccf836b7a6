using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using RelayFunctions.Hosting;
using RelayFunctions.IpHelpers;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.Hostile;

/// <summary>
/// The hostile run, once for the whole class: the app under the Functions host (with its custom-handler routes) and
/// standalone (with its own timer and queue runners), on one storage prefix, a victim set up and settled, then
/// <see cref="Count"/> generated requests over every route of both, eight at a time, then a read of everything stored.
/// <c>RELAY_HOSTILE_SEED</c> and <c>RELAY_HOSTILE_REQUESTS</c> change the run; <c>RELAY_HOSTILE_REPLAY=12,345</c> sends only
/// those requests of the seed (after the same setup), to look at one failure again.
/// </summary>
public sealed class HostileCampaign : IAsyncLifetime
{
    public const int DefaultSeed = 20250808;

    private AppFactory? _functions;
    private AppFactory? _standalone;

    public int Seed { get; } = int.TryParse(Environment.GetEnvironmentVariable("RELAY_HOSTILE_SEED"), out var s) ? s : DefaultSeed;

    public int Count { get; } = int.TryParse(Environment.GetEnvironmentVariable("RELAY_HOSTILE_REQUESTS"), out var n) ? n : 20_000;

    internal IReadOnlyList<int>? Replay { get; } = Environment.GetEnvironmentVariable("RELAY_HOSTILE_REPLAY")?.Split(',').Select(i => int.Parse(i, CultureInfo.InvariantCulture)).ToList();

    internal RequestLog Log { get; } = new();
    internal IReadOnlyList<Route> Routes { get; private set; } = [];
    internal ConcurrentBag<Answer> Answers { get; } = [];
    internal int Sent { get; private set; }
    internal StorageAudit.Result Audit { get; private set; } = new(0, 0, [], new Dictionary<string, int>());
    internal IReadOnlyList<string> VictimChanges { get; private set; } = [];
    internal int VictimMessagesSeen => _victimMessages;

    /// <summary>How many invocations carried a message that was really on the queue, rather than one made up.</summary>
    internal int QueuedMessagesReplayed => _replayed;
    internal Dictionary<string, TimeSpan> Phases { get; } = [];

    private int _victimMessages;
    private int _replayed;
    private readonly ConcurrentDictionary<string, (DateTime At, IReadOnlyList<string> Messages)> _peeked = new();

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        var prefix = Azurite.NewPrefix();
        // On the host's literal queue names, as deployed: the run replays what it finds on them.
        _functions = new AppFactory([new("FUNCTIONS_CUSTOMHANDLER_PORT", "7999"), .. Settings(prefix)], Services) { HostQueueNames = true };
        var functionsHost = _functions.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var storage = _functions.Services.GetRequiredService<StorageClients>();
        var catalog = _functions.Services.GetRequiredService<FunctionCatalog>();

        var victim = await VictimTenant.SetUpAsync(_functions, () => SettleAsync(functionsHost, storage, catalog));
        var mallory = _functions.ClientFor(Cast.Attackers[0]);
        foreach (var (name, mode) in Cast.SweepDomains.Zip(["redirect", "hold"]))
        {
            var created = await mallory.PostAsync("/api/domains", new StringContent(
                $$"""{"name":"{{name}}","mode":"{{mode}}","destinationHost":"192.0.32.10","destinationPort":25}""", System.Text.Encoding.UTF8, "application/json"));
            Assert.True(created.IsSuccessStatusCode, $"creating {name}: {(int)created.StatusCode}");
        }
        var before = await VictimTenant.SnapshotAsync(storage);
        Phases["setup"] = clock.Elapsed;

        _standalone = new AppFactory([.. Settings(prefix), new("Hosting:HostId", "hostile-" + prefix), new("Helpers:Schedule", "*/5 * * * * *"),
            new("AzureFunctionsJobHost:extensions:queues:maxPollingInterval", "00:00:01")], Services);
        var standalone = _standalone.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        var openApi = JsonDocument.Parse(await functionsHost.GetStringAsync("/api/openapi.json")).RootElement.Clone();
        Routes = [.. RouteCatalog.Read(RequestGenerator.Functions, _functions.Services, openApi), .. RouteCatalog.Read(RequestGenerator.Standalone, _standalone.Services, openApi)];

        var generator = new RequestGenerator(Seed, Routes, [.. catalog.Timers.Select(t => t.Name)], [.. catalog.Queues.Select(q => q.Name)]);
        var sender = new HostileSender(
            new Dictionary<string, HttpClient> { [RequestGenerator.Functions] = functionsHost, [RequestGenerator.Standalone] = standalone },
            victim, f => PeekAsync(storage, catalog, f), catalog.Timers.Select(t => t.Name).ToHashSet(StringComparer.OrdinalIgnoreCase));
        var started = clock.Elapsed;
        await Parallel.ForEachAsync(Replay ?? Enumerable.Range(0, Count), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (index, _) =>
            Answers.Add(await sender.SendAsync(generator.Create(index))));
        Sent = sender.Sent;
        Phases["requests"] = clock.Elapsed - started;

        // The standalone runners finish what is in their queues and stop, so what is stored is at rest.
        started = clock.Elapsed;
        await DrainAsync(storage, catalog);
        await _standalone.DisposeAsync();
        _standalone = null;
        Audit = await StorageAudit.RunAsync(storage);
        VictimChanges = Differences(before, await VictimTenant.SnapshotAsync(storage));
        Phases["audit"] = clock.Elapsed - started;
        Phases["total"] = clock.Elapsed;
    }

    public async Task DisposeAsync()
    {
        foreach (var app in new[] { _standalone, _functions })
        {
            if (app is not null)
            {
                await app.DisposeAsync();
            }
        }
    }

    private static IEnumerable<KeyValuePair<string, string?>> Settings(string prefix) =>
    [
        new("Storage:Prefix", prefix),
        // Every retry an hour away: what the victim's first checks settled stays settled for the run.
        new("Helpers:MinimumInterval", "01:00:00"), new("Helpers:FailedRetry", "01:00:00"), new("Helpers:InvalidRetry", "01:00:00"),
        new("Verification:FirstRetry", "01:00:00"), new("Verification:MaximumRetry", "01:00:00"), new("Verification:FailedRetry", "01:00:00"),
        new("Verification:RelayHosts:0", FakeResolver.RelayHost),
        new("Logging:LogLevel:Default", "Warning"), new("Logging:Console:LogLevel:Default", "None"),
        new("Logging:Debug:LogLevel:Default", "None"), new("Logging:EventSource:LogLevel:Default", "None"),
    ];

    private void Services(IServiceCollection services)
    {
        services.AddSingleton<IHostResolver, FakeResolver>();
        services.AddSingleton<ILoggerProvider>(Log);
        services.AddSingleton<IStartupFilter, RequestLog.Filter>();
    }

    /// <summary>Runs the timer that schedules checks, then every check it enqueued, through the invocation routes, until none is left.</summary>
    private static async Task SettleAsync(HttpClient host, StorageClients storage, FunctionCatalog catalog)
    {
        for (var round = 0; round < 5; round++)
        {
            await InvokeAsync(host, "ScheduleChecks", """{"Data":{"timer":{"IsPastDue":false}},"Metadata":{}}""");
            var handled = 0;
            foreach (var function in catalog.Queues)
            {
                var queue = storage.Queue(function.QueueName);
                if (!await queue.ExistsAsync())
                {
                    continue;
                }
                while ((await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(10))).Value is { Length: > 0 } messages)
                {
                    foreach (var m in messages)
                    {
                        await InvokeAsync(host, function.Name, Json.Object(("Data", Json.Object(("message", Json.Of(m.Body.ToString()))))).ToText());
                        await queue.DeleteMessageAsync(m.MessageId, m.PopReceipt);
                        handled++;
                    }
                }
            }
            if (handled == 0)
            {
                return;
            }
        }
    }

    private static async Task InvokeAsync(HttpClient host, string function, string body)
    {
        var response = await host.PostAsync("/" + function, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"settling the victim: {function} answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Messages waiting on the function's queue (any queue for an unknown function), never the victim's.</summary>
    private async Task<IReadOnlyList<string>> PeekAsync(StorageClients storage, FunctionCatalog catalog, string? function)
    {
        var queue = catalog.FindQueue(function ?? "")?.QueueName ?? catalog.Queues.First().QueueName;
        if (_peeked.TryGetValue(queue, out var cached) && DateTime.UtcNow - cached.At < TimeSpan.FromMilliseconds(250))
        {
            return cached.Messages;
        }
        var client = storage.Queue(queue);
        var messages = await client.ExistsAsync() ? (await client.PeekMessagesAsync(32)).Value.Select(m => m.Body.ToString()).ToList() : [];
        Interlocked.Add(ref _victimMessages, messages.RemoveAll(m => m.Contains($"\"a\":\"{Cast.Victim}\"", StringComparison.Ordinal)));
        _peeked[queue] = (DateTime.UtcNow, messages);
        if (messages.Count > 0)
        {
            Interlocked.Increment(ref _replayed);
        }
        return messages;
    }

    /// <summary>Waits (up to ten seconds) until the standalone runners have taken every message.</summary>
    private static async Task DrainAsync(StorageClients storage, FunctionCatalog catalog)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var waiting = 0;
            foreach (var function in catalog.Queues)
            {
                var queue = storage.Queue(function.QueueName);
                waiting += await queue.ExistsAsync() ? (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0;
            }
            if (waiting == 0)
            {
                break;
            }
            await Task.Delay(250);
        }
        await Task.Delay(500);
    }

    private static List<string> Differences(SortedDictionary<string, string> before, SortedDictionary<string, string> after) =>
    [
        .. before.Where(b => !after.ContainsKey(b.Key)).Select(b => $"gone: {b.Key}"),
        .. after.Where(a => !before.ContainsKey(a.Key)).Select(a => $"new: {a.Key} = {a.Value}"),
        .. before.Where(b => after.TryGetValue(b.Key, out var a) && a != b.Value).Select(b => $"changed: {b.Key}\n      before {b.Value}\n      after  {after[b.Key]}"),
    ];
}
