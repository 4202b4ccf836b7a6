using System.Diagnostics;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using RelayAgent;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Alerts;
using RelayFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// The agent killed (SIGKILL) at each point of an apply in which two held domains leave hold, then started again:
/// the held mail of both reaches the customer's server through the real Postfix, exactly once. The kill comes from
/// a stand-in for the Postfix tool the agent runs at that point, which kills its parent the first time.
/// </summary>
[Collection(PostfixRelay.Collection)]
[SupportedOSPlatform("linux")]
public sealed class AgentCrashTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-agent-crash-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("postmap", 6, "after")] // every table built in staging, none renamed into place
    [InlineData("postfix", 1, "before")] // every table renamed into place, Postfix not reloaded
    [InlineData("postqueue", 1, "before")] // reloaded, right before the first postqueue -s
    [InlineData("postqueue", 1, "after")] // between the two domains' flushes
    [InlineData("postqueue", 2, "after")] // every flush done, the state file not yet written
    public async Task HeldMailIsReleasedByTheNextStartWhereverTheAgentWasKilled(string tool, int call, string when)
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var app = AppFactory.UnderFunctionsHost(new KeyValuePair<string, string?>("Destinations:AllowedRanges:0", "127.0.0.0/8"));
        var client = await app.NewAccountAsync("crash");
        var id = Guid.NewGuid().ToString("N")[..8];
        string[] domains = [$"a-{id}.crash.example", $"b-{id}.crash.example"];
        foreach (var domain in domains)
        {
            (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold", recipients = new[] { $"alice@{domain}" } })).EnsureSuccessStatusCode();
            await app.VerifyAsync("crash", domain);
        }
        var publisher = app.Services.GetRequiredService<RelayMapPublisher>();
        await publisher.PublishAsync("v", default);

        // The relay holds both (applied here in-process, by the same code), and their mail waits in the queue.
        File.Delete(Path.Combine(Relay.MapDirectory, "applied.json"));
        var (worker, _) = TestAgent.Create(new AgentOptions { RelayId = "crash", Prefix = app.Prefix, MapDirectory = Relay.MapDirectory, PostfixConfigDirectory = Relay.ConfigDirectory });
        Assert.NotNull(await worker.PollOnceAsync(default));
        foreach (var domain in domains)
        {
            await RelayEndToEndTests.SendAsync(RelayEndToEndTests.Message(domain, "held"));
        }
        // The test Postfix retries deferred mail every few seconds; production waits 15 minutes to 2 hours. Postfix
        // does not retry a deferred message before its queue file's time, so an hour from now only a release
        // (postqueue -s) can deliver it while the test looks.
        foreach (var file in await DeferredQueueFilesAsync(domains))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(1));
        }

        // Both leave hold for the customer's server.
        foreach (var domain in domains)
        {
            var patch = await client.SendAsync(HttpMethod.Patch, $"/api/domains/{domain}", new { mode = "redirect", destinationHost = "127.0.0.1", destinationPort = sink.Port });
            Assert.True(patch.IsSuccessStatusCode, await patch.Content.ReadAsStringAsync());
        }
        var generation = (await publisher.PublishAsync("v", default)).Generation;

        var settings = AgentProcess.Settings(app.Prefix, "crash", Relay.MapDirectory, [("Agent__PostfixConfigDirectory", Relay.ConfigDirectory), .. await ToolsAsync(tool, call, when)]);
        await using (var killed = AgentProcess.Start(settings))
        {
            var code = await killed.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.True(code == 128 + 9, $"expected the agent to be killed at {tool} #{call} ({when}), it exited {code}:\n{string.Join('\n', killed.Output)}");
        }
        var deliveredBefore = sink.Received().Count;

        var watch = Stopwatch.StartNew();
        await using var restarted = AgentProcess.Start(settings);
        await Eventually.WaitAsync(() => Task.FromResult(AppliedGeneration()), g => g == generation, TimeSpan.FromSeconds(30), "the restarted agent to apply the generation");
        var delivered = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count >= 2, TimeSpan.FromSeconds(30), "the held mail to arrive");
        output.WriteLine($"killed at {tool} #{call} ({when}): {deliveredBefore} delivered before the restart, all by {watch.Elapsed.TotalSeconds:F1} s after it");

        restarted.Signal("TERM");
        Assert.Equal(0, await restarted.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(domains, delivered.Select(m => m.Envelope.GetProperty("to")[0].GetString()!.Split('@')[1]).Order(StringComparer.Ordinal));
        // The restarted agent released both: what it releases does not depend on how far the killed one got.
        var calls = await File.ReadAllLinesAsync(Path.Combine(_folder, "calls"));
        Assert.All(domains, d => Assert.Contains($"{restarted.Id} postqueue -c {Relay.ConfigDirectory} -s {d}", calls));
        Assert.DoesNotContain(restarted.Output, line => line.StartsWith("fail:", StringComparison.Ordinal) || line.StartsWith("crit:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("postmap", 3, "after")] // the new route put into the live transport table in place, nothing released
    [InlineData("postfix", 1, "before")] // the delta applied, Postfix not reloaded
    [InlineData("postqueue", 1, "before")] // reloaded, right before the postqueue -s
    public async Task HeldMailIsReleasedByTheNextStartWhereverTheAgentWasKilledInADelta(string tool, int call, string when)
    {
        await using var sink = await SmtpSink.StartAsync();
        var id = Guid.NewGuid().ToString("N")[..8];
        var domain = $"delta-{id}.crash.example";
        var prefix = $"c{id}";
        var map = new HandMap(prefix);
        var snapshot = await map.SnapshotAsync(1, new Dictionary<string, string>
        {
            ["transport"] = $"{domain} hold:[127.0.0.1]:9\n.{domain} hold:[127.0.0.1]:9\n",
            ["relay_domains"] = $"{domain} OK\n",
            ["relay_recipients"] = $"@{domain} OK\n",
        });
        await map.PointAsync(1, snapshot, 1, snapshot);
        File.Delete(Path.Combine(Relay.MapDirectory, "applied.json"));
        var (worker, _) = TestAgent.Create(new AgentOptions { RelayId = "crash-delta", Prefix = prefix, MapDirectory = Relay.MapDirectory, PostfixConfigDirectory = Relay.ConfigDirectory });
        Assert.Equal(1, (await worker.PollOnceAsync(default))?.Generation);
        await RelayEndToEndTests.SendAsync(RelayEndToEndTests.Message(domain, "held"));
        foreach (var file in await DeferredQueueFilesAsync([domain]))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(1));
        }
        // Postmap's calls in this delta: 1 and 2 ask the transport and relay_domains tables, 3 puts the new route.
        await map.PointAsync(2, await map.DeltaAsync(2, 1, $"+ transport {domain} smtp:[127.0.0.1]:{sink.Port}\n+ transport .{domain} smtp:[127.0.0.1]:{sink.Port}\n"), 1, snapshot);

        var settings = AgentProcess.Settings(prefix, "crash-delta", Relay.MapDirectory, [("Agent__PostfixConfigDirectory", Relay.ConfigDirectory), .. await ToolsAsync(tool, call, when)]);
        await using (var killed = AgentProcess.Start(settings))
        {
            var code = await killed.WaitForExitAsync(TimeSpan.FromSeconds(60));
            Assert.True(code == 128 + 9, $"expected the agent to be killed at {tool} #{call} ({when}), it exited {code}:\n{string.Join('\n', killed.Output)}");
        }

        await using var restarted = AgentProcess.Start(settings);
        await Eventually.WaitAsync(() => Task.FromResult(AppliedGeneration()), g => g == 2, TimeSpan.FromSeconds(30), "the restarted agent to apply the delta");
        var delivered = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count >= 1, TimeSpan.FromSeconds(30), "the held mail to arrive");
        restarted.Signal("TERM");
        Assert.Equal(0, await restarted.WaitForExitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal($"alice@{domain}", Assert.Single(delivered).Envelope.GetProperty("to")[0].GetString());
        // The restarted agent released it, although the live table already had the new route (release.json said so).
        Assert.Contains($"{restarted.Id} postqueue -c {Relay.ConfigDirectory} -s {domain}", await File.ReadAllLinesAsync(Path.Combine(_folder, "calls")));
        Assert.False(File.Exists(Path.Combine(Relay.MapDirectory, "release.json")));
    }

    /// <summary>
    /// Agent__Postmap, __Postfix and __Postqueue pointing at stand-ins that log each call with the caller's pid and
    /// run the real tool; the one for <paramref name="tool"/> SIGKILLs the agent at its <paramref name="call"/>th
    /// call, before or after running the real tool, the first time only.
    /// </summary>
    private async Task<(string, string)[]> ToolsAsync(string tool, int call, string when)
    {
        var calls = Path.Combine(_folder, "calls");
        var settings = new List<(string, string)>();
        foreach (var name in new[] { "postmap", "postfix", "postqueue" })
        {
            var real = new[] { "/usr/sbin", "/usr/bin" }.Select(d => Path.Combine(d, name)).First(File.Exists);
            var kill = name != tool ? "" : $"""
                n=$(( $(cat '{_folder}/count' 2>/dev/null || echo 0) + 1 )); echo $n > '{_folder}/count'
                if [ $n -eq {call} ] && [ ! -e '{_folder}/killed' ]; then
                  touch '{_folder}/killed'
                  {(when == "after" ? $"'{real}' \"$@\"" : ":")}
                  kill -KILL $PPID; exit 1
                fi
                """;
            var script = await AgentProcess.ScriptAsync(Path.Combine(_folder, name), $"""
                echo "$PPID {name} $*" >> '{calls}'
                {kill}
                exec '{real}' "$@"
                """);
            settings.Add(($"Agent__{char.ToUpperInvariant(name[0])}{name[1..]}", script));
        }
        return [.. settings];
    }

    private static long AppliedGeneration()
    {
        var state = Path.Combine(Relay.MapDirectory, "applied.json");
        return File.Exists(state) ? JsonDocument.Parse(File.ReadAllText(state)).RootElement.GetProperty("Generation").GetInt64() : 0;
    }

    /// <summary>Waits until the mail of each domain is deferred (held), and returns its queue files.</summary>
    internal static async Task<string[]> DeferredQueueFilesAsync(string[] domains)
    {
        var ids = await Eventually.WaitAsync(async () =>
            {
                var start = new ProcessStartInfo("postqueue", ["-c", Relay.ConfigDirectory, "-j"]) { RedirectStandardOutput = true };
                using var process = Process.Start(start)!;
                var lines = (await process.StandardOutput.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
                await process.WaitForExitAsync();
                return lines.Select(l => JsonDocument.Parse(l).RootElement)
                    .Where(m => m.GetProperty("queue_name").GetString() == "deferred")
                    .Where(m => m.GetProperty("recipients").EnumerateArray().Any(r => domains.Any(d => r.GetProperty("address").GetString()!.EndsWith("@" + d, StringComparison.Ordinal))))
                    .Select(m => m.GetProperty("queue_id").GetString()!)
                    .ToArray();
            }, found => found.Length == domains.Length, TimeSpan.FromSeconds(30), "the held mail to be deferred");
        return [.. ids.Select(queueId => Directory.GetFiles(Path.Combine(Relay.ConfigDirectory, "queue", "deferred"), queueId, SearchOption.AllDirectories).Single())];
    }
}
