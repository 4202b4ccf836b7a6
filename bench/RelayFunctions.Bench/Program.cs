using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RelayFunctions.Bench;
using RelayFunctions.Hosting;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.IpHelpers;
using RelayFunctions.Scheduling;
using RelayFunctions.Storage;

// The IP helper benchmark: see docs/benchmarks.md. Expects Azurite and a Knot serving h0..h{max-1}.{zone}
// (scripts/bench.sh starts both and generates the zone).
var storageConnection = Environment.GetEnvironmentVariable("BENCH_STORAGE") ?? throw new InvalidOperationException("BENCH_STORAGE is not set; run scripts/bench.sh");
var dns = IPEndPoint.Parse(Environment.GetEnvironmentVariable("BENCH_DNS") ?? throw new InvalidOperationException("BENCH_DNS is not set"));
var zone = Environment.GetEnvironmentVariable("BENCH_ZONE") ?? "bench.test";
var sizes = (Environment.GetEnvironmentVariable("BENCH_SIZES") ?? "10000,100000").Split(',').Select(int.Parse).ToArray();
var due = int.Parse(Environment.GetEnvironmentVariable("BENCH_DUE") ?? "1000");
var mapSizes = (Environment.GetEnvironmentVariable("BENCH_MAP_SIZES") ?? "100000,1000000").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
var parts = (Environment.GetEnvironmentVariable("BENCH_PARTS") ?? "helpers,map").Split(',');

var prefix = "bench" + DateTime.UtcNow.ToString("HHmmss");
var builder = WebApplication.CreateBuilder(["--environment", "Bench"]);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["AzureWebJobsStorage"] = storageConnection,
    ["Storage:Prefix"] = prefix,
    ["Dns:Servers:0"] = dns.ToString(),
    ["Dns:Timeout"] = "00:00:03",
    ["Helpers:Schedule"] = "0 0 0 1 1 *",
    ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "1", // no runners of its own: the bench drives the tick and the queue
});
builder.Services.AddSingleton<StorageRequestCounter>();
builder.AddRelayFunctions();
// The app's clock, moved by hand: helpers checked once come due again an hour later (the zone's TTL) without waiting.
var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
builder.Services.AddSingleton<TimeProvider>(clock);
await using var app = builder.Build();
var services = app.Services;
var storage = services.GetRequiredService<StorageClients>();
var counter = services.GetRequiredService<StorageRequestCounter>();
var scheduler = services.GetRequiredService<CheckScheduler>();
var queueOptions = services.GetRequiredService<IOptions<QueueRunnerOptions>>().Value;
var concurrency = queueOptions.BatchSize + queueOptions.EffectiveNewBatchThreshold;
await services.GetRequiredService<StorageInitializer>().EnsureCreatedAsync();
var seeder = new Seeder(storage, services.GetRequiredService<ScheduleIndex>(), zone);
var drain = new Drain(storage, services.GetServices<IQueueFunction>().Single(f => f.Name == CheckHelpersFunction.FunctionName), queueOptions);

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB; queue concurrency {concurrency} (batch {queueOptions.BatchSize} + threshold {queueOptions.EffectiveNewBatchThreshold})");
var rows = new List<string>();
var seeded = 0;
var helperService = services.GetRequiredService<HelperService>();

// One tick plus draining the queue it filled; returns the row to print.
async Task<string> MeasureAsync(string label, int size, TimeSpan advance)
{
    clock.Advance(advance);
    counter.Reset();
    var tickWatch = Stopwatch.StartNew();
    var tick = await scheduler.TickAsync(default);
    var tickTime = tickWatch.Elapsed;
    var (tickOps, tableOps, queueOps) = (counter.Total, counter.Tables, counter.Queues);

    counter.Reset();
    var (drainTime, done, failed) = await drain.RunAsync(tick.Enqueued, TimeSpan.FromMinutes(10));
    var drainOps = counter.Total;
    var rate = done / (tickTime + drainTime).TotalSeconds;
    var row = $"N={size,7} {label,-9}: tick {tickTime.TotalMilliseconds,6:F0} ms for {tick.Due} due ({tickOps} storage ops: {tableOps} table, {queueOps} queue); "
        + $"drain {done} checks in {drainTime.TotalSeconds:F2} s ({failed} failed, {drainOps / Math.Max(done, 1.0):F1} storage ops/check, {done / drainTime.TotalSeconds:F0}/s); end to end {rate:F0} checks/s";
    Console.WriteLine(row);
    return row;
}

foreach (var size in parts.Contains("helpers") ? sizes : [])
{
    var seedWatch = Stopwatch.StartNew();
    await seeder.SeedAsync(seeded, size, due, clock.GetUtcNow());
    seeded = size;
    Console.WriteLine($"seeded {size} helpers in {seedWatch.Elapsed.TotalSeconds:F1} s ({due} of the newest due now)");
    // First checks, without state: every due helper switches its domain from hold to redirect (domain write, history, map mark).
    rows.Add(await MeasureAsync("switching", size, TimeSpan.FromMinutes(1)));

    // The same helpers again via "check now" (an API write, so again without state): nothing changes.
    var first = size - due;
    await Parallel.ForEachAsync(Enumerable.Range(first, due), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        await helperService.RequestCheckAsync($"bench{i / Seeder.DomainsPerAccount:D4}", $"d{i}.bench-customers.example", ct));
    rows.Add(await MeasureAsync("check-now", size, TimeSpan.FromMinutes(1)));

    // The steady state: an hour later (the records' TTL) they are due by themselves, each entry carrying its state.
    rows.Add(await MeasureAsync("steady", size, TimeSpan.FromMinutes(62)));
}

if (parts.Contains("helpers"))
{
    var dnsFloor = await Floors.DnsLookupsPerSecondAsync(dns, zone, seeded, 20_000, concurrency);
    var tableFloor = await Floors.TableUpsertsPerSecondAsync(storage.Table("BenchFloor"), 5_000, concurrency);
    rows.Add($"floor: raw DnsClient lookups {dnsFloor:F0}/s, raw Table upserts {tableFloor:F0}/s (concurrency {concurrency})");
    rows.Add($"goal: end to end >= half the slower floor = {Math.Min(dnsFloor, tableFloor) / 2:F0} checks/s");
}

if (parts.Contains("map"))
{
    // The helper rows above live in other tables; the map counts every domain, so it starts after the helpers' domains.
    var mapBench = new MapBench(storage, services, storageConnection, prefix);
    var mapSeeded = 0;
    foreach (var size in mapSizes)
    {
        foreach (var row in await mapBench.RunAsync(mapSeeded, size))
        {
            rows.Add(row);
            Console.WriteLine(row);
        }
        mapSeeded = size;
    }
}

if (parts.Contains("submission"))
{
    var relayDir = Environment.GetEnvironmentVariable("BENCH_RELAY_DIR") ?? throw new InvalidOperationException("BENCH_RELAY_DIR is not set; run scripts/bench.sh");
    var submissions = int.Parse(Environment.GetEnvironmentVariable("BENCH_SUBMISSIONS") ?? "100");
    foreach (var row in await new SubmissionBench(relayDir, storageConnection, prefix, submissions).RunAsync())
    {
        rows.Add(row);
        Console.WriteLine(row);
    }
}

Console.WriteLine();
Console.WriteLine("results");
rows.ForEach(Console.WriteLine);
