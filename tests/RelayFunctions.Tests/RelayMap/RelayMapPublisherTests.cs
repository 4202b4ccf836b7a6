using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayFunctions.RelayMap;
using RelayFunctions.Storage;
using RelayFunctions.Tests.Infrastructure;
using RelayShared;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>Publishing the relay map to Blob storage (Azurite): generations, hashes, the forward-only pointer, pruning.</summary>
public sealed class RelayMapPublisherTests
{
    private static AppFactory NoTimers(params KeyValuePair<string, string?>[] extra) => AppFactory.UnderFunctionsHost(extra);

    private static Task<string> ReadAsync(AppFactory app, string path) => RelayMapDeltaTests.ReadAsync(app, path);

    [Fact]
    public async Task AGenerationHoldsPostfixTablesForEveryModeWithVerifiableHashes()
    {
        await using var app = NoTimers();
        var client = await app.NewAccountAsync("mapped");
        await client.PostAsJsonAsync("/api/domains", new { name = "ip.mapped.example", mode = "redirect", destinationHost = "192.0.32.10", destinationPort = 2525 });
        await client.PostAsJsonAsync("/api/domains", new { name = "v6.mapped.example", mode = "redirect", destinationHost = "2606:4700::1", destinationPort = 25 });
        await client.PostAsJsonAsync("/api/domains", new { name = "name.mapped.example", mode = "redirect", destinationHost = "mx.customer.example", destinationPort = 587 });
        await client.PostAsJsonAsync("/api/domains", new { name = "held.mapped.example", mode = "hold", recipients = new[] { "alice@held.mapped.example" }, messageSizeLimit = 2097152 });
        await client.PostAsJsonAsync("/api/domains", new { name = "backup.mapped.example", mode = "backup-mx" });
        await client.PostAsJsonAsync("/api/domains", new { name = "pending.mapped.example", mode = "hold" });
        foreach (var name in new[] { "ip", "v6", "name", "held", "backup" })
        {
            await app.VerifyAsync("mapped", $"{name}.mapped.example");
        }

        var result = await app.Services.GetRequiredService<RelayMapPublisher>().PublishAsync("v1", default);
        Assert.True(result.BecameCurrent);
        Assert.Equal(5, result.Domains);

        var pointer = JsonDocument.Parse(await ReadAsync(app, RelayMapBlobs.Pointer)).RootElement;
        Assert.Equal(result.Generation, pointer.GetProperty("generation").GetInt64());
        var manifest = JsonDocument.Parse(await ReadAsync(app, pointer.GetProperty("manifest").GetString()!)).RootElement;
        Assert.Equal(result.Generation, manifest.GetProperty("generation").GetInt64());
        var files = new Dictionary<string, string>();
        foreach (var file in manifest.GetProperty("files").EnumerateArray())
        {
            var content = await ReadAsync(app, file.GetProperty("path").GetString()!);
            var bytes = Encoding.UTF8.GetBytes(content);
            Assert.Equal(file.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal(file.GetProperty("size").GetInt64(), bytes.LongLength);
            files[file.GetProperty("name").GetString()!] = content;
        }

        var transport = files["transport"].Split('\n');
        Assert.Contains("ip.mapped.example smtp:[192.0.32.10]:2525", transport);
        Assert.Contains(".ip.mapped.example smtp:[192.0.32.10]:2525", transport);
        Assert.Contains("v6.mapped.example smtp:[ipv6:2606:4700::1]:25", transport);
        // A name is never published for Postfix to resolve: held until its IP helper resolves it to a public address.
        Assert.Contains("name.mapped.example hold:[127.0.0.1]:9", transport);
        Assert.DoesNotContain(transport, l => l.Contains("mx.customer.example", StringComparison.Ordinal));
        // A domain whose account has not proven control of it is not there at all.
        Assert.DoesNotContain("pending.mapped.example", string.Join('\n', files.Values));
        Assert.Contains("held.mapped.example hold:[127.0.0.1]:9", transport);
        Assert.Contains("backup.mapped.example relay:", transport);
        Assert.Contains("held.mapped.example OK", files["relay_domains"].Split('\n'));
        var recipients = files["relay_recipients"].Split('\n');
        Assert.Contains("alice@held.mapped.example OK", recipients);
        Assert.DoesNotContain("@held.mapped.example OK", recipients);
        Assert.Contains("@ip.mapped.example OK", recipients);
        Assert.Contains("held.mapped.example 2097152", files["message_size_limits"].Split('\n'));
    }

    [Fact]
    public async Task PublicationsTakeTurns()
    {
        await using var app = NoTimers();
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        await publisher.PublishAsync("first", default);
        var slowHasGeneration = new TaskCompletionSource<long>();
        var slowGoes = new TaskCompletionSource();

        // The slow one stalls before moving the pointer; the second waits for it instead of building on the same generation.
        var slow = publisher.PublishAsync("slow", default, async generation =>
        {
            slowHasGeneration.TrySetResult(generation);
            await slowGoes.Task;
        });
        var slowGeneration = await slowHasGeneration.Task;
        var second = publisher.PublishAsync("second", default);
        await Task.Delay(1500);
        Assert.False(second.IsCompleted);
        slowGoes.SetResult();
        var (slowResult, secondResult) = (await slow, await second);

        Assert.True(slowResult.BecameCurrent && secondResult.BecameCurrent);
        Assert.Equal(slowGeneration, slowResult.Generation);
        Assert.True(secondResult.Generation > slowResult.Generation);
        var current = (await publisher.CurrentAsync(default))!;
        Assert.Equal((secondResult.Generation, "second"), (current.Generation, current.SourceVersion));
        Assert.Equal(slowResult.Generation, JsonDocument.Parse(await ReadAsync(app, current.Manifest)).RootElement.GetProperty("base").GetInt64());
    }

    [Fact]
    public async Task APublicationOvertakenAfterItsLeaseLapsedBuildsAgainOnTopOfTheNewOne()
    {
        await using var app = NoTimers();
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        await publisher.PublishAsync("first", default);
        var container = app.Services.GetRequiredService<StorageClients>().Container(RelayMapBlobs.Container);
        long? fast = null;

        // While the slow one stalls before moving the pointer, its lease is lost (broken here, as a lapse would) and
        // another publication runs to the end.
        var slowResult = await publisher.PublishAsync("slow", default, async generation =>
        {
            if (fast is null)
            {
                await Azure.Storage.Blobs.Specialized.SpecializedBlobExtensions.GetBlobLeaseClient(container.GetBlobClient("publish.lock")).BreakAsync(TimeSpan.Zero);
                fast = (await publisher.PublishAsync("fast", default)).Generation;
            }
        });

        Assert.True(slowResult.BecameCurrent);
        Assert.True(slowResult.Generation > fast);
        var current = (await publisher.CurrentAsync(default))!;
        Assert.Equal((slowResult.Generation, "slow"), (current.Generation, current.SourceVersion));
        Assert.Equal(fast, JsonDocument.Parse(await ReadAsync(app, current.Manifest)).RootElement.GetProperty("base").GetInt64());
    }

    [Fact]
    public async Task ConcurrentPublishersGetDistinctGenerationsAndFormOneChain()
    {
        await using var app = NoTimers();
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        await publisher.PublishAsync("first", default);
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => publisher.PublishAsync($"v{i}", default)));
        Assert.Equal(6, results.Select(r => r.Generation).Distinct().Count());
        Assert.All(results, r => Assert.True(r.BecameCurrent));
        var current = (await publisher.CurrentAsync(default))!;
        Assert.Equal(results.Max(r => r.Generation), current.Generation);
        // Following the bases from the pointer meets every publication once, then the snapshot.
        var chain = new List<long>();
        for (var path = current.Manifest; ;)
        {
            var manifest = JsonDocument.Parse(await ReadAsync(app, path)).RootElement;
            if (manifest.GetProperty("kind").GetString() != "delta")
            {
                break;
            }
            chain.Add(manifest.GetProperty("generation").GetInt64());
            path = manifest.GetProperty("baseManifest").GetString()!;
        }
        Assert.Equal(results.Select(r => r.Generation).Order(), chain.Order());
    }

    [Fact]
    public async Task GenerationsBeforeTheLatestSnapshotArePruned()
    {
        await using var app = NoTimers(new KeyValuePair<string, string?>("RelayMap:SnapshotAfter", "2"));
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        var results = new List<PublishResult>();
        for (var i = 0; i < 5; i++)
        {
            results.Add(await publisher.PublishAsync($"v{i}", default));
        }
        // The first from the table, then one every two deltas, written beside the delta.
        Assert.Equal([true, false, true, false, true], results.Select(r => r.Snapshot));
        var last = results[^1].Generation;
        var current = (await publisher.CurrentAsync(default))!;
        Assert.Equal((last, last), (current.Generation, current.Snapshot));
        Assert.Equal($"generations/{last:D12}/snapshot/manifest.json", current.SnapshotManifest);
        var container = app.Services.GetRequiredService<StorageClients>().Container(RelayMapBlobs.Container);
        var generations = new HashSet<string>();
        await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "generations/", default))
        {
            generations.Add(blob.Name.Split('/')[1]);
        }
        Assert.Equal([$"{last:D12}"], generations.Order());
    }

    [Fact]
    public async Task ARoutingChangeIsPublishedWithinSecondsAndABurstCoalesces()
    {
        await using var app = new AppFactory(
        [
            new("RelayMap:Schedule", "*/2 * * * * *"),
            new("Hosting:LockRecoveryInterval", "00:00:01"),
            new("Hosting:HostId", "map-" + Guid.NewGuid().ToString("N")[..6]),
        ]);
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        var client = await app.NewAccountAsync("burst");
        var start = await Eventually.WaitAsync(() => publisher.CurrentAsync(default), p => p is not null, TimeSpan.FromSeconds(15), "a first generation");

        await Task.WhenAll(Enumerable.Range(0, 10).Select(async i =>
        {
            (await client.PostAsJsonAsync("/api/domains", new { name = $"b{i}.burst.example", mode = "hold" })).EnsureSuccessStatusCode();
            await app.VerifyAsync("burst", $"b{i}.burst.example");
        }));
        var published = await Eventually.WaitAsync(() => publisher.CurrentAsync(default), p => p!.Domains == 10, TimeSpan.FromSeconds(15), "the burst published");
        // Ten changes: a publication claims every change made before it, so the burst takes fewer generations than changes.
        Assert.True(published!.Generation - start!.Generation < 10, $"{published.Generation - start.Generation} generations for one burst of 10 changes");
        Assert.Equal(HttpStatusCode.OK, (await app.Operator().GetAsync("/api/admin/relay-map")).StatusCode);
        var status = await (await app.Operator().GetAsync("/api/admin/relay-map")).ReadViewAsync<RelayMapEndpoints.RelayMapStatus>();
        Assert.True(status.Generation >= published.Generation);
        await (await client.GetAsync("/api/admin/relay-map")).AssertProblemAsync(HttpStatusCode.Forbidden);
    }
}
