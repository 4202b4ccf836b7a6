using System.Net.Http.Json;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RelayAgent;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// The agent against a real published map in Azurite: an idle relay costs one request a poll and reports healthy, a
/// corrupt generation is refused whole and reported.
/// </summary>
public sealed class RelayAgentTests : IDisposable
{
    private readonly string _maps = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "relay-agent-" + Guid.NewGuid().ToString("N")[..8])).FullName;

    public void Dispose()
    {
        if (Directory.Exists(_maps))
        {
            Directory.Delete(_maps, recursive: true);
        }
    }

    [Fact]
    public async Task AMapRecreatedWithLowerGenerationNumbersIsAppliedAllTheSame()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var client = await app.NewAccountAsync("recreated");
        (await client.PostAsJsonAsync("/api/domains", new { name = "fresh.recreated.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("recreated", "fresh.recreated.example");
        var published = await app.Services.GetRequiredService<RelayMapPublisher>().PublishAsync("v", default);

        // This relay had applied generation 50 of a map that no longer exists.
        var config = await EmptyPostfixConfigAsync();
        await File.WriteAllTextAsync(Path.Combine(_maps, "applied.json"), """{"Generation":50}""");
        var (worker, applier) = TestAgent.Create(new AgentOptions
        {
            RelayId = "recreated",
            Prefix = app.Prefix,
            MapDirectory = _maps,
            PostfixConfigDirectory = config,
            Postfix = "/bin/true",
            Postqueue = "/bin/true",
        });

        var result = await worker.PollOnceAsync(default);
        Assert.Equal(published.Generation, result!.Generation);
        Assert.Equal(published.Generation, applier.AppliedGeneration);
        Assert.Contains("fresh.recreated.example hold:", await File.ReadAllTextAsync(Path.Combine(_maps, "transport")));
        Assert.True(File.Exists(Path.Combine(_maps, "transport.lmdb")));
    }

    [Fact]
    public async Task AnIdleRelayCostsOneRequestAPollReportsHealthyAndWritesAHeartbeat()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var client = await app.NewAccountAsync("idle");
        (await client.PostAsJsonAsync("/api/domains", new { name = "quiet.idle.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("idle", "quiet.idle.example");
        var published = await app.Services.GetRequiredService<RelayMapPublisher>().PublishAsync("v", default);
        var requests = new StorageRequests();
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var logs = new CapturingLogs();
        var (worker, _) = TestAgent.Create(new AgentOptions
        {
            RelayId = "idle",
            Prefix = app.Prefix,
            MapDirectory = _maps,
            PostfixConfigDirectory = await EmptyPostfixConfigAsync(),
            Postfix = "/bin/true",
            Postqueue = "/bin/true",
            HeartbeatInterval = TimeSpan.FromMinutes(1),
        }, requests, time, logs);
        var reports = TestAgent.Reports(app.Prefix);

        Assert.Equal(published.Generation, (await worker.PollOnceAsync(default))?.Generation);
        var applied = (await reports.GetEntityAsync<TableEntity>("relay", "idle")).Value;
        Assert.Equal(published.Generation, applied.GetInt64("Generation"));
        Assert.Equal(time.GetUtcNow(), applied.GetDateTimeOffset("AppliedAt"));
        Assert.Equal(time.GetUtcNow(), applied.GetDateTimeOffset("LastSeen"));

        // Unchanged polls between heartbeats: the conditional GET's 304, and nothing else.
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            requests.Clear();
            Assert.Null(await worker.PollOnceAsync(default));
            Assert.Equal(["GET current.json 304"], requests.Seen);
        }
        var idle = (await reports.GetEntityAsync<TableEntity>("relay", "idle")).Value;
        Assert.Null(idle.GetString("Error"));
        Assert.Equal(applied.GetDateTimeOffset("LastSeen"), idle.GetDateTimeOffset("LastSeen"));

        // A heartbeat is due: the same 304, and the report is rewritten to say this relay is alive.
        time.Advance(TimeSpan.FromMinutes(1));
        requests.Clear();
        Assert.Null(await worker.PollOnceAsync(default));
        Assert.Equal(2, requests.Seen.Count);
        Assert.Equal("GET current.json 304", requests.Seen[0]);
        Assert.Matches(@"^PUT \w+RelayReports\(PartitionKey='relay',RowKey='idle'\) 204$", requests.Seen[1]);
        var heartbeat = (await reports.GetEntityAsync<TableEntity>("relay", "idle")).Value;
        Assert.Null(heartbeat.GetString("Error"));
        Assert.Equal(published.Generation, heartbeat.GetInt64("Generation"));
        Assert.Equal(applied.GetDateTimeOffset("AppliedAt"), heartbeat.GetDateTimeOffset("AppliedAt"));
        Assert.Equal(time.GetUtcNow(), heartbeat.GetDateTimeOffset("LastSeen"));
        Assert.DoesNotContain(logs.Lines, l => l.StartsWith("Error", StringComparison.Ordinal) || l.StartsWith("Warning", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACorruptGenerationChangesNothingOnTheRelayAndIsReported()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        var client = await app.NewAccountAsync("agent");
        (await client.PostAsJsonAsync("/api/domains", new { name = "corrupt.agent.example", mode = "hold" })).EnsureSuccessStatusCode();
        await app.VerifyAsync("agent", "corrupt.agent.example");
        var published = await app.Services.GetRequiredService<RelayMapPublisher>().PublishAsync("v", default);

        // Someone (or a broken upload) changed a file after the manifest was written.
        var container = new BlobContainerClient(Azurite.ConnectionString, $"{app.Prefix}-relay-map");
        await container.GetBlobClient($"generations/{published.Generation:D12}/transport")
            .UploadAsync(BinaryData.FromString("corrupt.agent.example smtp:[203.0.113.66]:25\n"), overwrite: true);

        Directory.CreateDirectory(_maps);
        await File.WriteAllTextAsync(Path.Combine(_maps, "transport"), "before\n");
        var (worker, _) = TestAgent.Create(new AgentOptions { RelayId = "agent-test", Prefix = app.Prefix, MapDirectory = _maps, Postmap = "/bin/false" });
        var reports = TestAgent.Reports(app.Prefix);

        Assert.Null(await worker.PollOnceAsync(default));
        Assert.Equal("before\n", await File.ReadAllTextAsync(Path.Combine(_maps, "transport")));
        Assert.False(File.Exists(Path.Combine(_maps, "applied.json")));
        var report = (await reports.GetEntityAsync<TableEntity>("relay", "agent-test")).Value;
        Assert.Contains("does not match its manifest", report.GetString("Error"));
        Assert.Equal(0, report.GetInt64("Generation"));

        // The operator sees it.
        var status = await (await app.Operator().GetAsync("/api/admin/relay-map")).ReadViewAsync<RelayMapEndpoints.RelayMapStatus>();
        var relay = System.Linq.Enumerable.Single(status.Relays);
        Assert.Equal("agent-test", relay.Relay);
        Assert.Contains("does not match", relay.Error);
    }

    /// <summary>A Postfix configuration directory for postmap alone (defaults for everything).</summary>
    private async Task<string> EmptyPostfixConfigAsync()
    {
        var config = Directory.CreateDirectory(Path.Combine(_maps, "config")).FullName;
        await File.WriteAllTextAsync(Path.Combine(config, "main.cf"), "");
        return config;
    }
}
