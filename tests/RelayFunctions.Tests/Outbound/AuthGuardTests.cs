using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using RelayAgent;
using RelayAgent.Submission;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// The guard on a mail log the test writes, with real postmap and Azurite: a block survives a restart of the agent and
/// still ends on time, and text a client controls never blocks anybody.
/// </summary>
public sealed class AuthGuardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("auth-guard-").FullName;
    private readonly string _prefix = "ag" + Guid.NewGuid().ToString("N")[..8];

    private string MailLog => Path.Combine(_dir, "postfix.log");

    private string Blocked => Path.Combine(_dir, "maps", BlockedMap.Name);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task ABlockOutlivesARestartOfTheAgentAndStillEndsOnTime()
    {
        var options = await OptionsAsync();
        var rows = new TableClient(Azurite.ConnectionString, _prefix + "RelayBlocks");
        var (first, firstLogs) = Guard(options, rows);
        await first.StartAsync(default);
        await FollowingAsync(firstLogs);
        await File.AppendAllTextAsync(MailLog, string.Concat(Enumerable.Repeat(Failure("2001:db8::7"), 3)) + Failure("192.0.2.8"));
        await Eventually.WaitAsync(() => RowKeysAsync(rows), keys => keys.Count > 0, TimeSpan.FromSeconds(10), "the block's row");
        await first.StopAsync(default);
        Assert.Equal(["2001-db8--7"], await RowKeysAsync(rows));
        Assert.Equal($"2001:db8::7 {BlockedMap.Reply}\n", await File.ReadAllTextAsync(Blocked));
        Assert.True(File.Exists(Blocked + ".cdb"));

        var (second, secondLogs) = Guard(options, rows);
        await second.StartAsync(default);
        try
        {
            Assert.Contains(await FollowingAsync(secondLogs), l => l.Contains("; 1 blocks in force", StringComparison.Ordinal));
            Assert.Equal($"2001:db8::7 {BlockedMap.Reply}\n", await File.ReadAllTextAsync(Blocked));
            await Eventually.WaitAsync(() => RowKeysAsync(rows), keys => keys.Count == 0, TimeSpan.FromSeconds(15), "the block to end");
            await Eventually.WaitAsync(() => File.ReadAllTextAsync(Blocked), text => text.Length == 0, TimeSpan.FromSeconds(5), "the Postfix table to be empty");
        }
        finally
        {
            await second.StopAsync(default);
        }
    }

    [Fact]
    public async Task AFailedAuthQuotedInAnotherLineBlocksNobody()
    {
        var options = await OptionsAsync();
        var rows = new TableClient(Azurite.ConnectionString, _prefix + "RelayBlocks");
        var (guard, logs) = Guard(options, rows);
        await guard.StartAsync(default);
        try
        {
            await FollowingAsync(logs);
            var quoted = $"Dec  2 17:44:13 relay postfix/cleanup[7]: 4dTqzK: message-id=<{Failure("192.0.2.9").TrimEnd('\n')}>\n";
            await File.AppendAllTextAsync(MailLog, quoted + quoted + quoted + Failure("192.0.2.10"));
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            Assert.Empty(await RowKeysAsync(rows));
            Assert.Equal("", await File.ReadAllTextAsync(Blocked));
        }
        finally
        {
            await guard.StopAsync(default);
        }
    }

    private static string Failure(string address) =>
        $"Dec  2 17:44:13 relay postfix/submission/smtpd[4242]: warning: unknown[{address}]: SASL LOGIN authentication failed: UGFzc3dvcmQ6\n";

    /// <summary>Limit 3, block 5 s; postmap with Postfix's defaults (an empty main.cf).</summary>
    private async Task<AgentOptions> OptionsAsync()
    {
        var config = Directory.CreateDirectory(Path.Combine(_dir, "config")).FullName;
        await File.WriteAllTextAsync(Path.Combine(config, "main.cf"), "");
        await File.WriteAllTextAsync(MailLog, Failure("192.0.2.1") + Failure("192.0.2.1") + Failure("192.0.2.1"));
        return new AgentOptions
        {
            RelayId = "guard-test",
            Prefix = _prefix,
            ConnectionString = Azurite.ConnectionString,
            MapDirectory = Path.Combine(_dir, "maps"),
            PostfixConfigDirectory = config,
            MailLog = MailLog,
            AuthFailureLimit = 3,
            BlockDuration = TimeSpan.FromSeconds(5),
        };
    }

    private static (AuthGuard, CapturingLogs) Guard(AgentOptions options, TableClient rows)
    {
        var logs = new CapturingLogs();
        var guard = new AuthGuard(options, new BlockedMap(options, new Commands(options)), new BlockReports(rows, options, logs.CreateLogger<BlockReports>()),
            TimeProvider.System, logs.CreateLogger<AuthGuard>());
        return (guard, logs);
    }

    private static Task<IReadOnlyList<string>> FollowingAsync(CapturingLogs logs) =>
        Eventually.WaitAsync(() => Task.FromResult(logs.Lines), l => l.Any(x => x.Contains("Following", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the guard to follow the mail log");

    private static async Task<List<string>> RowKeysAsync(TableClient rows)
    {
        await rows.CreateIfNotExistsAsync();
        var keys = new List<string>();
        await foreach (var e in rows.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"guard-test"}")))
        {
            keys.Add(e.RowKey);
        }
        return keys;
    }
}
