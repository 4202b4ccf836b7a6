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

/// <summary>
/// Publishing what changed (Azurite): a change becomes a delta of its domain's entries alone, with the keys an earlier
/// state left to delete; a change made while a publication runs is in the next one; and a snapshot streamed from the
/// previous one and the deltas since holds exactly what a snapshot read from the table holds.
/// </summary>
public sealed class RelayMapDeltaTests
{
    /// <summary>A blob of the app's relay-map container, as text.</summary>
    internal static async Task<string> ReadAsync(AppFactory app, string path)
    {
        var container = app.Services.GetRequiredService<StorageClients>().Container(RelayMapBlobs.Container);
        return (await container.GetBlobClient(path).DownloadContentAsync()).Value.Content.ToString();
    }

    /// <summary>The current generation's files, each checked against its manifest's hash and size.</summary>
    private static async Task<(JsonElement Manifest, Dictionary<string, string> Files)> ReadGenerationAsync(AppFactory app, string manifestPath)
    {
        var manifest = JsonDocument.Parse(await ReadAsync(app, manifestPath)).RootElement;
        var files = new Dictionary<string, string>();
        foreach (var file in manifest.GetProperty("files").EnumerateArray())
        {
            var content = await ReadAsync(app, file.GetProperty("path").GetString()!);
            var bytes = Encoding.UTF8.GetBytes(content);
            Assert.Equal(file.GetProperty("sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal(file.GetProperty("size").GetInt64(), bytes.LongLength);
            files[file.GetProperty("name").GetString()!] = content;
        }
        return (manifest, files);
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToArray();

    [Fact]
    public async Task AChangeIsADeltaOfItsDomainsEntriesWithTheKeysItNoLongerHas()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var client = await app.NewAccountAsync("delta");
        foreach (var name in new[] { "a", "b", "c" })
        {
            (await client.PostAsJsonAsync("/api/domains", new { name = $"{name}.delta.example", mode = "hold", recipients = new[] { $"x@{name}.delta.example", $"y@{name}.delta.example" } })).EnsureSuccessStatusCode();
            await app.VerifyAsync("delta", $"{name}.delta.example");
        }
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        var first = await publisher.PublishAsync("v1", default);
        Assert.True(first.Snapshot);

        // b: to a server, one recipient gone, one new (in a subdomain); c: deleted. a is not touched.
        var patch = await client.SendAsync(HttpMethod.Patch, "/api/domains/b.delta.example", new
        {
            mode = "redirect",
            destinationHost = "192.0.32.10",
            destinationPort = 2525,
            recipients = new[] { "x@b.delta.example", "z@sub.b.delta.example" },
        });
        Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
        (await client.DeleteAsync("/api/domains/c.delta.example")).EnsureSuccessStatusCode();
        var second = await publisher.PublishAsync("v2", default);

        Assert.True(second.BecameCurrent);
        Assert.False(second.Snapshot);
        Assert.Equal(2, second.Domains);
        var pointer = (await publisher.CurrentAsync(default))!;
        Assert.Equal((second.Generation, first.Generation), (pointer.Generation, pointer.Snapshot));
        var (manifest, files) = await ReadGenerationAsync(app, pointer.Manifest);
        Assert.Equal("delta", manifest.GetProperty("kind").GetString());
        Assert.Equal(first.Generation, manifest.GetProperty("base").GetInt64());
        Assert.Equal(["delta", "outbound_accounts", "passwd", "sasl_access", "sender_logins", "sender_logins_sub.pcre"], files.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(
            Lines("""
            + transport b.delta.example smtp:[192.0.32.10]:2525
            + transport .b.delta.example smtp:[192.0.32.10]:2525
            + message_size_limits b.delta.example 10485760
            + relay_recipients x@b.delta.example OK
            + relay_recipients z@sub.b.delta.example OK
            + relay_domains b.delta.example OK
            - relay_recipients @b.delta.example
            - relay_recipients y@b.delta.example
            - transport c.delta.example
            - transport .c.delta.example
            - message_size_limits c.delta.example
            - relay_recipients @c.delta.example
            - relay_recipients x@c.delta.example
            - relay_recipients y@c.delta.example
            - relay_domains c.delta.example
            """),
            Lines(files["delta"]));

        // Nothing changed since: the next delta is empty, and carries no outbound tables.
        var third = await publisher.PublishAsync("v3", default);
        var (_, empty) = await ReadGenerationAsync(app, (await publisher.CurrentAsync(default))!.Manifest);
        Assert.Equal(("", 2), (empty["delta"], third.Domains));
        Assert.Equal(["delta"], empty.Keys);
    }

    [Fact]
    public async Task AChangeMadeWhileAPublicationRunsIsInTheNextOne()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var client = await app.NewAccountAsync("during");
        (await client.PostAsJsonAsync("/api/domains", new { name = "d.during.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("during", "d.during.example");
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        await publisher.PublishAsync("v1", default);
        (await client.SendAsync(HttpMethod.Patch, "/api/domains/d.during.example", new { messageSizeLimit = 2097152 })).EnsureSuccessStatusCode();

        // The domain changes again after this publication read the change log and the domain, before its pointer moves.
        var during = await publisher.PublishAsync("v2", default, async _ =>
            (await client.SendAsync(HttpMethod.Patch, "/api/domains/d.during.example", new { messageSizeLimit = 3145728 })).EnsureSuccessStatusCode());
        var (_, files) = await ReadGenerationAsync(app, (await publisher.CurrentAsync(default))!.Manifest);
        Assert.Contains("+ message_size_limits d.during.example 2097152", Lines(files["delta"]));

        await publisher.PublishAsync("v3", default);
        (_, files) = await ReadGenerationAsync(app, (await publisher.CurrentAsync(default))!.Manifest);
        Assert.Contains("+ message_size_limits d.during.example 3145728", Lines(files["delta"]));
        Assert.True(during.BecameCurrent);
    }

    [Fact]
    public async Task ASnapshotFromThePreviousOneAndTheDeltasHoldsWhatTheTableHolds()
    {
        await using var app = AppFactory.UnderFunctionsHost(new KeyValuePair<string, string?>("RelayMap:SnapshotAfter", "4"));
        var client = await app.NewAccountAsync("compact");
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        var builder = app.Services.GetRequiredService<RelayMapBuilder>();
        for (var i = 0; i < 6; i++)
        {
            (await client.PostAsJsonAsync("/api/domains", new { name = $"d{i}.compact.example", mode = "hold", recipients = new[] { $"r@d{i}.compact.example" } })).EnsureSuccessStatusCode();
            await app.VerifyAsync("compact", $"d{i}.compact.example");
        }
        (await client.PostAsJsonAsync("/api/domains", new { name = "pending.compact.example", mode = "hold" })).EnsureSuccessStatusCode();
        // One account holds a domain and a subdomain of it, both listing the same recipient of the subdomain.
        (await client.PostAsJsonAsync("/api/domains", new { name = "nest.compact.example", mode = "hold", recipients = new[] { "x@sub.nest.compact.example", "y@nest.compact.example" } })).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/domains", new { name = "sub.nest.compact.example", mode = "hold", recipients = new[] { "x@sub.nest.compact.example" } })).EnsureSuccessStatusCode();
        await app.VerifyAsync("compact", "nest.compact.example");
        await app.VerifyAsync("compact", "sub.nest.compact.example");
        Assert.True((await publisher.PublishAsync("v0", default)).Snapshot);

        // Four publications of assorted changes: a new domain, recipients moved into a subdomain and back to all,
        // a route, a delete, an outbound account.
        (await client.PostAsJsonAsync("/api/domains", new { name = "new.compact.example", mode = "backup-mx" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("compact", "new.compact.example");
        (await client.SendAsync(HttpMethod.Patch, "/api/domains/d1.compact.example", new { recipients = new[] { "s@deep.d1.compact.example" } })).EnsureSuccessStatusCode();
        Assert.False((await publisher.PublishAsync("v1", default)).Snapshot);
        (await client.SendAsync(HttpMethod.Patch, "/api/domains/d1.compact.example", new { recipients = Array.Empty<string>() })).EnsureSuccessStatusCode();
        (await client.SendAsync(HttpMethod.Patch, "/api/domains/d2.compact.example", new { mode = "redirect", destinationHost = "192.0.32.11", destinationPort = 25 })).EnsureSuccessStatusCode();
        Assert.False((await publisher.PublishAsync("v2", default)).Snapshot);
        (await client.DeleteAsync("/api/domains/d3.compact.example")).EnsureSuccessStatusCode();
        (await client.PostAsJsonAsync("/api/outbound-accounts", new { type = "any-address", domain = "d4.compact.example", password = "secret-compact" })).EnsureSuccessStatusCode();
        Assert.False((await publisher.PublishAsync("v3", default)).Snapshot);
        (await client.SendAsync(HttpMethod.Patch, "/api/domains/d5.compact.example", new { messageSizeLimit = 1048576 })).EnsureSuccessStatusCode();
        (await client.SendAsync(HttpMethod.Patch, "/api/domains/nest.compact.example", new { recipients = new[] { "y@nest.compact.example" } })).EnsureSuccessStatusCode();
        var compacted = await publisher.PublishAsync("v4", default);
        Assert.True(compacted.Snapshot);

        var pointer = (await publisher.CurrentAsync(default))!;
        var (manifest, files) = await ReadGenerationAsync(app, pointer.SnapshotManifest!);
        Assert.Equal("snapshot", manifest.GetProperty("kind").GetString());
        var (truth, domains) = await builder.BuildAsync(default);
        Assert.Equal((8, 8, 8), (compacted.Domains, domains, manifest.GetProperty("domains").GetInt32()));
        foreach (var table in truth)
        {
            // As sets: the table lists a recipient both domains list twice.
            Assert.Equal(Lines(Encoding.UTF8.GetString(table.Content)).Distinct(), Lines(files[table.Name]).Distinct());
        }
        Assert.Contains("d4.compact.example", files["outbound_accounts"]);
        Assert.DoesNotContain("deep.d1.compact.example", files["relay_recipients"]);
        Assert.Contains("x@sub.nest.compact.example OK", Lines(files["relay_recipients"]));
        var lastDelta = (await ReadGenerationAsync(app, pointer.Manifest)).Files["delta"];
        Assert.DoesNotContain("x@sub.nest", lastDelta);

        // And a rebuild from the table says the same.
        var rebuilt = await publisher.PublishAsync("v5", default, rebuild: true);
        var (_, fromTable) = await ReadGenerationAsync(app, (await publisher.CurrentAsync(default))!.SnapshotManifest!);
        Assert.Equal((true, 8), (rebuilt.Snapshot, rebuilt.Domains));
        foreach (var table in truth)
        {
            Assert.Equal(Lines(files[table.Name]).Distinct(), Lines(fromTable[table.Name]).Distinct());
        }
    }

    [Fact]
    public async Task AnOperatorsRebuildPublishesASnapshotReadFromTheTable()
    {
        await using var app = new AppFactory(
        [
            new("RelayMap:Schedule", "0 0 0 1 1 *"),
            new("Hosting:HostId", "rebuild-" + Guid.NewGuid().ToString("N")[..6]),
        ]);
        var client = await app.NewAccountAsync("rebuild");
        (await client.PostAsJsonAsync("/api/domains", new { name = "r.rebuild.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("rebuild", "r.rebuild.example");
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        var first = await Eventually.WaitAsync(() => publisher.CurrentAsync(default), p => p?.Domains == 1, TimeSpan.FromSeconds(10), "the domain published");
        (await client.SendAsync(HttpMethod.Patch, "/api/domains/r.rebuild.example", new { messageSizeLimit = 2097152 })).EnsureSuccessStatusCode();
        var delta = await Eventually.WaitAsync(() => publisher.CurrentAsync(default), p => p!.Generation > first!.Generation, TimeSpan.FromSeconds(10), "the change published");
        Assert.Equal(first!.Snapshot, delta!.Snapshot);

        await (await client.PostAsync("/api/admin/relay-map/rebuild", null)).AssertProblemAsync(System.Net.HttpStatusCode.Forbidden);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await app.Operator().PostAsync("/api/admin/relay-map/rebuild", null)).StatusCode);
        var rebuilt = await Eventually.WaitAsync(() => publisher.CurrentAsync(default), p => p!.Generation > delta.Generation, TimeSpan.FromSeconds(10), "the rebuild published");
        Assert.Equal((rebuilt!.Generation, rebuilt.Manifest), (rebuilt.Snapshot, rebuilt.SnapshotManifest));
        var (manifest, files) = await ReadGenerationAsync(app, rebuilt.Manifest);
        Assert.Equal("snapshot", manifest.GetProperty("kind").GetString());
        Assert.Contains("r.rebuild.example 2097152", Lines(files["message_size_limits"]));
        var status = await (await app.Operator().GetAsync("/api/admin/relay-map")).ReadViewAsync<RelayMapEndpoints.RelayMapStatus>();
        Assert.Equal((rebuilt.Generation, 0), (status.Snapshot!.Value, status.PendingChanges));
    }

    [Fact]
    public async Task AChangeRecordedByAWriterThatStoppedBeforeAskingIsPublishedByTheNextTick()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var client = await app.NewAccountAsync("stopped");
        (await client.PostAsJsonAsync("/api/domains", new { name = "s.stopped.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("stopped", "s.stopped.example");
        var publication = app.Services.GetRequiredService<RelayMapPublication>();
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        await publication.RunAsync(default);
        var before = (await publisher.CurrentAsync(default))!.Generation;
        await publication.RunAsync(default);
        Assert.Equal(before, (await publisher.CurrentAsync(default))!.Generation);

        // The change is recorded, the domain written, and the writer stops before asking for a publication.
        await app.Services.GetRequiredService<MapChanges>().RecordAsync("stopped", "s.stopped.example", true, [], default);
        await publication.RunAsync(default);
        var after = (await publisher.CurrentAsync(default))!;
        Assert.True(after.Generation > before);
        var (_, files) = await ReadGenerationAsync(app, after.Manifest);
        Assert.Contains("+ relay_domains s.stopped.example OK", Lines(files["delta"]));
    }

    [Fact]
    public async Task RecipientListsEditedBeyondWhatTheLogKeepsArePublishedByASnapshotFromTheTable()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var client = await app.NewAccountAsync("overflow");
        string[] List(int round) => [.. Enumerable.Range(0, 1000).Select(i => $"user-{round}-{i:D4}-with-a-rather-long-local-part@o.overflow.example")];
        (await client.PostAsJsonAsync("/api/domains", new { name = "o.overflow.example", mode = "hold", recipients = List(0) })).EnsureSuccessStatusCode();
        await app.VerifyAsync("overflow", "o.overflow.example");
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        Assert.True((await publisher.PublishAsync("v0", default)).Snapshot);

        // Four lists of a thousand, each replacing the last, before one publication: more stale keys than a row keeps.
        for (var round = 1; round <= 4; round++)
        {
            (await client.SendAsync(HttpMethod.Patch, "/api/domains/o.overflow.example", new { recipients = List(round) })).EnsureSuccessStatusCode();
        }
        var result = await publisher.PublishAsync("v1", default);

        Assert.True(result.Snapshot);
        var pointer = (await publisher.CurrentAsync(default))!;
        Assert.Equal((result.Generation, pointer.Manifest), (pointer.Snapshot, pointer.SnapshotManifest));
        var (manifest, files) = await ReadGenerationAsync(app, pointer.Manifest);
        Assert.Equal("snapshot", manifest.GetProperty("kind").GetString());
        Assert.Equal(List(4).Select(r => $"{r} OK").Order(StringComparer.Ordinal), Lines(files["relay_recipients"]));
        Assert.Empty(await app.Services.GetRequiredService<MapChanges>().PendingAsync(default));
    }

    [Fact]
    public async Task AWriteThatLandsAfterASnapshotFromTheTableTookItsRowIsCountedAgainstWhatTheSnapshotHeld()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var client = await app.NewAccountAsync("late");
        (await client.PostAsJsonAsync("/api/domains", new { name = "l.late.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("late", "l.late.example");
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        Assert.Equal((true, 1), ((await publisher.PublishAsync("v1", default)).Snapshot, (await publisher.CurrentAsync(default))!.Domains));

        // The verification's second record of its row comes after the snapshot took the row (it says: not published before).
        await app.Services.GetRequiredService<MapChanges>().RecordAsync("late", "l.late.example", false, [], default);
        (await client.DeleteAsync("/api/domains/l.late.example")).EnsureSuccessStatusCode();
        var result = await publisher.PublishAsync("v2", default);

        Assert.Equal((false, 0), (result.Snapshot, result.Domains));
    }
}
