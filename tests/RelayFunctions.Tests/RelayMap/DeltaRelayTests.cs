using System.Runtime.Versioning;
using MailKit.Security;
using RelayFunctions.Tests.Alerts;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.Outbound;
using Xunit.Abstractions;
using static RelayFunctions.Tests.Infrastructure.EndToEndRelay;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// Deltas applied in place to the real Postfix's lmdb tables: a new domain is accepted and routed without a reload,
/// a route change releases the mail deferred at the old destination (with a reload, which clears qmgr's last route),
/// and a deleted domain is refused. Blobs written by hand on Azurite; the agent in-process, the same code as on a relay.
/// </summary>
[Collection(PostfixRelay.Collection)]
[SupportedOSPlatform("linux")]
public sealed class DeltaRelayTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("relay-delta-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task ADeltaChangesThePostfixTablesInPlaceAndReloadsOnlyToReleaseMail()
    {
        await using var sink = await SmtpSink.StartAsync();
        var id = Guid.NewGuid().ToString("N")[..8];
        string added = $"new-{id}.delta.example", moved = $"moved-{id}.delta.example", gone = $"gone-{id}.delta.example", held = $"held-{id}.delta.example";
        var dead = Azurite.FreePort(); // nothing listens there
        var prefix = $"d{id}";
        var map = new HandMap(prefix);
        var snapshot = await map.SnapshotAsync(1, new Dictionary<string, string>
        {
            ["transport"] = $"{moved} smtp:[127.0.0.1]:{dead}\n{gone} smtp:[127.0.0.1]:{sink.Port}\n",
            ["relay_domains"] = $"{moved} OK\n{gone} OK\n",
            ["relay_recipients"] = $"@{moved} OK\n@{gone} OK\n",
        });
        await map.PointAsync(1, snapshot, 1, snapshot);
        // postfix through a stand-in that logs its arguments: a reload shows there.
        var calls = Path.Combine(_folder, "postfix-calls");
        var postfix = await AgentProcess.ScriptAsync(Path.Combine(_folder, "postfix"), $"echo \"$*\" >> '{calls}'\nexec /usr/sbin/postfix \"$@\"");
        var (worker, applier) = Agent("delta", prefix, postfix: postfix);
        Assert.Equal(1, (await worker.PollOnceAsync(default))?.Generation);

        // Mail for the moved domain is tried at the dead port and deferred; an hour from now only a release retries it.
        await RelayEndToEndTests.SendAsync(RelayEndToEndTests.Message(moved, "deferred"));
        foreach (var file in await AgentCrashTests.DeferredQueueFilesAsync([moved]))
        {
            File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddHours(1));
        }

        // A new domain (and a held one): in place, no reload, and Postfix accepts and routes the new one at once.
        File.Delete(calls);
        await map.PointAsync(2, await map.DeltaAsync(2, 1, $"""
            + transport {added} smtp:[127.0.0.1]:{sink.Port}
            + transport {held} hold:[127.0.0.1]:9
            + relay_recipients @{added} OK
            + relay_recipients @{held} OK
            + relay_domains {added} OK
            + relay_domains {held} OK

            """), 1, snapshot);
        var routing = Relay.RoutingProcesses();
        var second = await worker.PollOnceAsync(default);
        Assert.Equal(2, second?.Generation);
        Assert.Empty(second!.Released);
        Assert.False(File.Exists(calls), "no postfix command (no reload) for a delta that releases nothing");
        Assert.Contains(held, TestAgent.Held(Relay.MapDirectory));
        await using (var client = await Submission.ConnectAsync(Relay.Port, SecureSocketOptions.None))
        {
            Assert.StartsWith("250 ", await client.SendAsync("sender@outside.example", $"alice@{added}"));
        }
        var received = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count == 1, TimeSpan.FromSeconds(30), "the new domain's mail at its route");
        Assert.Equal($"alice@{added}", To(received[0]));
        output.WriteLine($"routing processes before the delta: {string.Join(',', routing)}; after: {string.Join(',', Relay.RoutingProcesses())}");

        // The moved domain's route changes and the gone domain is deleted: the deferred mail is released (a reload first).
        await map.PointAsync(3, await map.DeltaAsync(3, 2, $"""
            + transport {moved} smtp:[127.0.0.1]:{sink.Port}
            - relay_domains {gone}
            - relay_recipients @{gone}
            - transport {gone}

            """), 1, snapshot);
        var third = await worker.PollOnceAsync(default);
        Assert.Equal(3, third?.Generation);
        Assert.Equal([moved], third!.Released);
        Assert.Contains(await File.ReadAllLinesAsync(calls), l => l.EndsWith(" reload", StringComparison.Ordinal));
        received = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count == 2, TimeSpan.FromSeconds(30), "the deferred mail at the new route");
        Assert.Contains(received, m => To(m) == $"alice@{moved}");
        await using (var client = await Submission.ConnectAsync(Relay.Port, SecureSocketOptions.None))
        {
            Assert.Contains("Relay access denied", await client.SendAsync("sender@outside.example", $"alice@{gone}"));
        }
        Assert.Equal(3, applier.AppliedGeneration);
        Assert.False(File.Exists(Path.Combine(Relay.MapDirectory, "release.json")));
    }
}
