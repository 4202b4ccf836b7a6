using System.Diagnostics;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RelayAgent;
using RelayFunctions.Domains;
using RelayFunctions.Domains.Verification;
using RelayFunctions.RelayMap;
using RelayFunctions.Storage;

namespace RelayFunctions.Bench;

/// <summary>
/// The relay-map benchmark: N domains in Azurite (a mix of modes), one publication (time, peak memory), the agent's
/// download, verification and apply into cdb tables (time), and the floor: <c>postmap</c> alone on the same transport table.
/// </summary>
public sealed class MapBench(StorageClients storage, RelayMapPublisher publisher, string connection, string prefix)
{
    public async Task<string> RunAsync(int from, int to)
    {
        await SeedDomainsAsync(from, to);
        GC.Collect();
        var baseline = Process.GetCurrentProcess().WorkingSet64;
        using var sampler = new PeakSampler();
        var watch = Stopwatch.StartNew();
        var published = await publisher.PublishAsync("bench", default);
        var publishTime = watch.Elapsed;
        var peak = sampler.Peak - baseline;

        var maps = Path.Combine(Path.GetTempPath(), $"bench-maps-{Guid.NewGuid():N}");
        // postmap reads a main.cf; an empty one gives it the defaults. No Postfix runs: reload and flush are no-ops.
        var config = Path.Combine(maps, "config");
        Directory.CreateDirectory(config);
        await File.WriteAllTextAsync(Path.Combine(config, "main.cf"), "");
        var options = new AgentOptions { MapDirectory = maps, PostfixConfigDirectory = config, Postfix = "/bin/true", Postqueue = "/bin/true", Prefix = prefix };
        var source = new MapSource(new BlobContainerClient(connection, $"{prefix}-relay-map"));
        watch.Restart();
        var pointer = await source.PollAsync(default) ?? throw new InvalidOperationException("No pointer.");
        var generation = await source.DownloadAsync(pointer, default);
        var download = watch.Elapsed;
        watch.Restart();
        var telemetry = new AgentTelemetry(new ServiceCollection().AddMetrics().BuildServiceProvider().GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        await new MapApplier(options, new Commands(options), telemetry, TimeProvider.System, NullLogger<MapApplier>.Instance).ApplyAsync(generation, default);
        var apply = watch.Elapsed;

        // The floor: postmap alone, on the same transport table, in the same run.
        var floorDir = Path.Combine(maps, "floor");
        Directory.CreateDirectory(floorDir);
        File.Copy(Path.Combine(maps, "transport"), Path.Combine(floorDir, "transport"));
        watch.Restart();
        using (var postmap = Process.Start("postmap", ["-c", config, $"cdb:{Path.Combine(floorDir, "transport")}"])!)
        {
            await postmap.WaitForExitAsync();
        }
        var floor = watch.Elapsed;
        var transportBytes = new FileInfo(Path.Combine(maps, "transport")).Length;
        Directory.Delete(maps, recursive: true);

        return $"map N={published.Domains,8}: publish {publishTime.TotalSeconds,6:F1} s, peak +{peak / (1 << 20)} MiB; agent download+verify {download.TotalSeconds:F1} s, "
            + $"apply (4 tables) {apply.TotalSeconds:F2} s; floor postmap transport ({transportBytes / (1 << 20)} MiB) {floor.TotalSeconds:F2} s";
    }

    private async Task SeedDomainsAsync(int from, int to)
    {
        var table = storage.Table("Domains");
        await table.CreateIfNotExistsAsync();
        var now = DateTimeOffset.UtcNow;
        // Verified on an operator's word: published, and no verification check is scheduled for them.
        var verified = VerificationRules.ByOperator(DomainVerification.New(now), now);
        var batches = Enumerable.Range(from, to - from)
            .GroupBy(i => i / 100)
            .Select(g => g.Select(i =>
            {
                var settings = (i % 3) switch
                {
                    0 => new DomainSettings(DomainMode.Redirect, new Destination($"11.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}", 2525), [], DomainSettings.DefaultMessageSizeLimit),
                    1 => new DomainSettings(DomainMode.Hold, null, [$"user@m{i}.bench-map.example"], DomainSettings.DefaultMessageSizeLimit),
                    _ => new DomainSettings(DomainMode.BackupMx, null, [], DomainSettings.DefaultMessageSizeLimit),
                };
                return DomainStore.ToEntity($"mapacct{i / 100:D6}", DomainName.Parse($"m{i}.bench-map.example"), settings, verified, now);
            }).ToList());
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (batch, ct) =>
            await table.SubmitTransactionAsync(batch.Select(e => new TableTransactionAction(TableTransactionActionType.UpsertReplace, e)), ct));
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
