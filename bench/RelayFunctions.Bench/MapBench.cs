using System.Diagnostics;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RelayAgent;
using RelayFunctions.Api;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.RelayMap;
using RelayFunctions.Storage;
using RelayShared;

namespace RelayFunctions.Bench;

/// <summary>
/// The relay-map benchmark, for each N: N domains in Azurite (a third each redirect, hold with a recipient list,
/// backup-mx) and their snapshot; a relay agent applies it (lmdb tables, no running Postfix) beside the floor (<c>postmap</c>
/// of the transport table alone); then one routing change at a time, made through the domain store as the API makes it,
/// published as a delta and applied by the agent in place (median of several); then a snapshot streamed from the
/// previous one (time, peak memory).
/// </summary>
/// <remarks>
/// The first snapshot is written by the bench from the domains it seeds, in the publisher's own format
/// (<see cref="RelayMapBuilder.Entries"/>, <see cref="MapTextWriter"/>), as the seeder writes table rows: the publisher's
/// own first snapshot reads the whole Domains table, and Azurite's paged query makes that quadratic (719 s at 1M, all
/// of it in Azurite). <c>BENCH_MAP_REBUILD=1</c> measures that rebuild instead.
/// </remarks>
public sealed class MapBench(StorageClients storage, IServiceProvider services, string connection, string prefix)
{
    private const int Changes = 5;
    private readonly string _maps = Path.Combine(Path.GetTempPath(), $"bench-maps-{Guid.NewGuid():N}");
    private readonly Dictionary<int, TimeSpan> _oneChange = [];

    public async Task<IReadOnlyList<string>> RunAsync(int from, int to)
    {
        var rows = new List<string>();
        var publisher = services.GetRequiredService<RelayMapPublisher>();
        await SeedDomainsAsync(from, to);
        var watch = Stopwatch.StartNew();
        if (Environment.GetEnvironmentVariable("BENCH_MAP_REBUILD") == "1")
        {
            var (rebuilt, time, peak) = await MeasureAsync(() => publisher.PublishAsync("bench", default, rebuild: true));
            rows.Add($"map N={to,8}: snapshot rebuilt from the Domains table {time.TotalSeconds,6:F1} s, peak +{peak >> 20} MiB ({rebuilt.Domains} domains)");
        }
        else
        {
            await SeedSnapshotAsync(to);
        }

        // A relay that starts fresh: the snapshot, applied whole.
        var (worker, config) = Agent();
        watch.Restart();
        var applied = await worker.PollOnceAsync(default) ?? throw new InvalidOperationException("The agent applied nothing.");
        var snapshotApply = watch.Elapsed;
        var floor = await PostmapAsync(config, ["lmdb:" + Copy("transport")]);
        rows.Add($"map N={to,8}: agent applies the snapshot (generation {applied.Generation}) in {snapshotApply.TotalSeconds:F2} s; floor postmap lmdb transport {floor.TotalSeconds:F2} s");

        // One routing change at a time: the API's write, the publication, the agent's apply.
        var store = services.GetRequiredService<DomainStore>();
        var publish = new List<TimeSpan>();
        var apply = new List<TimeSpan>();
        for (var c = 0; c < Changes; c++)
        {
            var i = from + (c * 3 % Math.Max(to - from - 3, 1));
            var (account, name) = Domain(i - (i % 3));
            var port = 3000 + c;
            var outcome = await store.UpdateAsync(account, DomainName.Parse(name), null, d => new Outcome<DomainSettings>.Ok(
                d.Settings with { Destination = new Destination($"11.0.0.{c + 1}", port) }), default);
            if (outcome is not Outcome<MailDomain>.Ok)
            {
                throw new InvalidOperationException($"Changing {name}: {outcome}");
            }
            watch.Restart();
            var published = await publisher.PublishAsync("bench", default);
            publish.Add(watch.Elapsed);
            watch.Restart();
            var result = await worker.PollOnceAsync(default) ?? throw new InvalidOperationException("The agent applied nothing.");
            apply.Add(watch.Elapsed);
            if (result.Generation != published.Generation)
            {
                throw new InvalidOperationException($"The agent applied {result.Generation}, not {published.Generation}.");
            }
        }
        var postmapFloor = await PostmapOneAsync(config);
        var medianPublish = Median(publish);
        var medianApply = Median(apply);
        _oneChange[to] = medianPublish + medianApply;
        rows.Add($"map N={to,8}: one change (median of {Changes}): publish {medianPublish.TotalMilliseconds:F0} ms + agent apply {medianApply.TotalMilliseconds:F0} ms = "
            + $"{(medianPublish + medianApply).TotalMilliseconds:F0} ms; floor postmap -r -i lmdb one entry {postmapFloor.TotalMilliseconds:F0} ms");

        // A snapshot from the previous one and the deltas since.
        var (compacted, compactTime, compactPeak) = await MeasureAsync(() => publisher.PublishAsync("bench", default, snapshot: true));
        rows.Add($"map N={to,8}: snapshot streamed from the previous one {compactTime.TotalSeconds,6:F1} s, peak +{compactPeak >> 20} MiB ({compacted.Domains} domains)");
        if (_oneChange.Count > 1)
        {
            var (small, large) = (_oneChange.MinBy(p => p.Key), _oneChange.MaxBy(p => p.Key));
            rows.Add($"map: one change at {large.Key} : at {small.Key} = {large.Value.TotalMilliseconds / small.Value.TotalMilliseconds:F2}");
        }
        Directory.Delete(Path.Combine(_maps, "floor"), recursive: true);
        return rows;
    }

    private static TimeSpan Median(List<TimeSpan> values) => values.Order().ElementAt(values.Count / 2);

    private static (string Account, string Name) Domain(int i) => ($"mapacct{i / 100:D6}", $"m{i}.bench-map.example");

    private static DomainSettings Settings(int i) => (i % 3) switch
    {
        0 => new DomainSettings(DomainMode.Redirect, new Destination($"11.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}", 2525), [], DomainSettings.DefaultMessageSizeLimit),
        1 => new DomainSettings(DomainMode.Hold, null, [$"user@m{i}.bench-map.example"], DomainSettings.DefaultMessageSizeLimit),
        _ => new DomainSettings(DomainMode.BackupMx, null, [], DomainSettings.DefaultMessageSizeLimit),
    };

    private async Task SeedDomainsAsync(int from, int to)
    {
        var table = storage.Table("Domains");
        await table.CreateIfNotExistsAsync();
        var now = DateTimeOffset.UtcNow;
        // Verified on an operator's word: published, and no verification check is scheduled for them.
        var verified = VerificationRules.ByOperator(DomainVerification.New(now), now);
        var batches = Enumerable.Range(from, to - from)
            .GroupBy(i => i / 100)
            .Select(g => g.Select(i => DomainStore.ToEntity(Domain(i).Account, DomainName.Parse(Domain(i).Name), Settings(i), verified, now)).ToList());
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, ct) =>
            await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct));
    }

    /// <summary>The snapshot of domains 0..<paramref name="to"/> as the current generation, in the publisher's format.</summary>
    private async Task SeedSnapshotAsync(int to)
    {
        var builder = services.GetRequiredService<RelayMapBuilder>();
        var container = storage.Container(RelayMapBlobs.Container);
        await container.CreateIfNotExistsAsync();
        var counter = storage.Table("RelayMapState");
        await counter.CreateIfNotExistsAsync();
        var current = await counter.GetEntityIfExistsAsync<TableEntity>("map", "generation");
        var generation = (current.HasValue ? current.Value!.GetInt64("Value") ?? 0 : 0) + 1;
        await counter.UpsertEntityAsync(new TableEntity("map", "generation") { ["Value"] = generation });
        var folder = $"generations/{generation:D12}";
        var now = DateTimeOffset.UtcNow;
        var verified = VerificationRules.ByOperator(DomainVerification.New(now), now);
        var files = new List<ManifestFile>();
        foreach (var table in MapTables.DomainTables)
        {
            await using var writer = await MapTextWriter.OpenAsync(container.GetBlockBlobClient($"{folder}/{table}"), table, default);
            for (var i = 0; i < to; i++)
            {
                var (account, name) = Domain(i);
                var domain = new MailDomain(account, DomainName.Parse(name), Settings(i), verified, now, now, default);
                foreach (var entry in builder.Entries(domain).Where(e => e.Table == table))
                {
                    await writer.WriteLineAsync(entry.Key, entry.Value);
                }
            }
            files.Add(await writer.CompleteAsync(default));
        }
        foreach (var name in new[] { MapTables.SenderLoginsPcre, MapTables.SenderLogins, MapTables.SaslAccess, MapTables.OutboundAccounts, MapTables.Passwd })
        {
            var path = $"{folder}/{name}";
            await container.GetBlobClient(path).UploadAsync(BinaryData.FromString(""), overwrite: true);
            files.Add(new ManifestFile(name, path, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData([])), 0));
        }
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var manifest = $"{folder}/manifest.json";
        await container.GetBlobClient(manifest).UploadAsync(BinaryData.FromObjectAsJson(new Manifest(generation, now, to, files), json), overwrite: true);
        await container.GetBlobClient(RelayMapBlobs.Pointer).UploadAsync(
            BinaryData.FromObjectAsJson(new MapPointer(generation, manifest, now, to, "bench", generation, manifest, now), json), overwrite: true);
    }

    /// <summary>The agent as on a relay, without a running Postfix: reload and flush are no-ops, postmap is real.</summary>
    private (AgentWorker Worker, string Config) Agent()
    {
        var config = Path.Combine(_maps, "config");
        Directory.CreateDirectory(config);
        File.WriteAllText(Path.Combine(config, "main.cf"), "");
        var options = new AgentOptions
        {
            RelayId = "bench",
            MapDirectory = _maps,
            PostfixConfigDirectory = config,
            Postfix = "/bin/true",
            Postqueue = "/bin/true",
            Prefix = prefix,
            ConnectionString = connection,
        };
        var telemetry = new AgentTelemetry(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var applier = new MapApplier(options, new Commands(options), telemetry, TimeProvider.System, NullLogger<MapApplier>.Instance);
        var reporter = new RelayReporter(new TableClient(connection, prefix + "RelayReports"), options, TimeProvider.System, NullLogger<RelayReporter>.Instance);
        var source = new MapSource(new BlobContainerClient(connection, $"{prefix}-relay-map"));
        return (new AgentWorker(source, applier, reporter, telemetry, options, TimeProvider.System, NullLogger<AgentWorker>.Instance), config);
    }

    private string Copy(string table)
    {
        var floor = Path.Combine(_maps, "floor");
        Directory.CreateDirectory(floor);
        File.Copy(Path.Combine(_maps, table), Path.Combine(floor, table), overwrite: true);
        return Path.Combine(floor, table);
    }

    private static async Task<TimeSpan> PostmapAsync(string config, string[] args, string? input = null)
    {
        var watch = Stopwatch.StartNew();
        var start = new ProcessStartInfo("postmap", ["-c", config, .. args]) { RedirectStandardInput = input is not null };
        using var postmap = Process.Start(start)!;
        if (input is not null)
        {
            await postmap.StandardInput.WriteAsync(input);
            postmap.StandardInput.Close();
        }
        await postmap.WaitForExitAsync();
        return watch.Elapsed;
    }

    /// <summary>The floor of one change in place: <c>postmap -r -i</c> of one transport entry into the live table's copy.</summary>
    private async Task<TimeSpan> PostmapOneAsync(string config)
    {
        var table = Path.Combine(_maps, "floor", "transport");
        return await PostmapAsync(config, ["-r", "-i", $"lmdb:{table}"], "m0.bench-map.example smtp:[11.9.9.9]:2526\n");
    }

    private static async Task<(T Result, TimeSpan Time, long Peak)> MeasureAsync<T>(Func<Task<T>> action)
    {
        GC.Collect();
        var baseline = Process.GetCurrentProcess().WorkingSet64;
        using var sampler = new PeakSampler();
        var watch = Stopwatch.StartNew();
        var result = await action();
        return (result, watch.Elapsed, Math.Max(sampler.Peak - baseline, 0));
    }

    /// <summary>Samples the process's working set every 50 ms: the publisher's peak memory.</summary>
    private sealed class PeakSampler : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private long _peak;

        public PeakSampler() => _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var now = Process.GetCurrentProcess().WorkingSet64;
                if (now > Interlocked.Read(ref _peak))
                {
                    Interlocked.Exchange(ref _peak, now);
                }
                await Task.Delay(50);
            }
        });

        public long Peak => Interlocked.Read(ref _peak);

        public void Dispose()
        {
            _stop.Cancel();
            _loop.Wait();
        }
    }
}
