using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using RelayAgent;
using RelayAgent.Submission;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// Temporary blocks on the real relay: the agent's AuthGuard follows the test Postfix's mail log, and a client that fails
/// AUTH too often is no longer offered AUTH (main.cf: <c>smtpd_sasl_exceptions_networks = cdb:MAPS/blocked</c>), its
/// mail is deferred, and operators see the block, until it ends. With limit 3, window 1 minute, block 5 seconds.
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed class AuthBlockTests(OutboundRelay relay, ITestOutputHelper output) : IClassFixture<OutboundRelay>
{
    private const string Guesser = "127.0.0.41";
    private const string Refused = "535 5.7.8 Error: authentication failed: (reason unavailable)";

    [Fact]
    public async Task ThreeFailedAuthsBlockTheAddressUntilTheBlockEndsThenItsRightPasswordWorksAgain()
    {
        await using var app = AppFactory.UnderFunctionsHost();
        // The block lasts 5 s: the app's tables are created before it starts.
        Assert.Empty((await (await app.Operator().GetAsync("/api/admin/relay-blocks")).ReadJsonAsync()).EnumerateArray());
        var options = new AgentOptions
        {
            RelayId = "blocks-test",
            Prefix = app.Prefix,
            ConnectionString = Azurite.ConnectionString,
            MapDirectory = Relay.MapDirectory,
            PostfixConfigDirectory = Relay.ConfigDirectory,
            MailLog = Relay.MailLog,
            AuthFailureLimit = 3,
            AuthFailureWindow = TimeSpan.FromMinutes(1),
            BlockDuration = TimeSpan.FromSeconds(5),
        };
        var rows = new TableClient(Azurite.ConnectionString, app.Prefix + "RelayBlocks");
        var logs = new CapturingLogs();
        var guard = new AuthGuard(options, new BlockedMap(options, new Commands(options)), new BlockReports(rows, options, logs.CreateLogger<BlockReports>()),
            TimeProvider.System, logs.CreateLogger<AuthGuard>());
        await guard.StartAsync(default);
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(logs.Lines), l => l.Any(x => x.Contains("Following", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "the guard to follow the mail log");

            await using (var guessing = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, Guesser))
            {
                Assert.True(guessing.AdvertisesAuth);
                for (var i = 0; i < 3; i++)
                {
                    Assert.Equal(Refused, await guessing.AuthenticateAsync(relay.Alice, "not the password"));
                }
                Show(guessing);
            }
            var row = await Eventually.WaitAsync(() => RowAsync(rows, options.RelayId), r => r is not null, TimeSpan.FromSeconds(10), "the block's RelayBlocks row");
            var blockedAt = Stopwatch.StartNew();

            // The checks below take well under a second of the block's 5.
            await using (var blocked = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, Guesser))
            {
                Assert.False(blocked.AdvertisesAuth, $"AUTH offered {blockedAt.Elapsed} after the block was reported");
                Show(blocked);
            }
            Assert.Contains($"{Guesser} {BlockedMap.Reply}\n", await File.ReadAllTextAsync(Path.Combine(Relay.MapDirectory, BlockedMap.Name)));
            var listed = (await (await app.Operator().GetAsync("/api/admin/relay-blocks")).ReadJsonAsync()).EnumerateArray().Single();
            output.WriteLine(listed.ToString());
            await using (var mx = await Submission.ConnectAsync(Relay.Port, SecureSocketOptions.None, Guesser))
            {
                Assert.Equal($"450 4.7.1 <unknown[{Guesser}]>: Client host rejected: Temporarily blocked after repeated authentication failures",
                    await mx.SendAsync("someone@outside.example", $"alice@{relay.Inbound}"));
                Show(mx);
            }
            output.WriteLine($"Checked {blockedAt.Elapsed} after the block was reported.");
            await using (var elsewhere = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.42"))
            {
                Assert.True(elsewhere.AdvertisesAuth);
            }
            Assert.Equal("blocks-test", listed.GetProperty("relay").GetString());
            Assert.Equal(Guesser, listed.GetProperty("address").GetString());
            Assert.Equal(3, listed.GetProperty("failures").GetInt32());
            Assert.Equal(1, listed.GetProperty("level").GetInt32());
            Assert.Equal("3 failed authentications within 00:01:00", listed.GetProperty("reason").GetString());
            Assert.Equal(row!.GetDateTimeOffset("Until"), listed.GetProperty("until").GetDateTimeOffset());
            Assert.InRange(row.GetDateTimeOffset("Until")!.Value - row.Timestamp!.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));

            await Eventually.WaitAsync(() => RowAsync(rows, options.RelayId), r => r is null, TimeSpan.FromSeconds(15), "the block to end");
            Assert.DoesNotContain(Guesser, await File.ReadAllTextAsync(Path.Combine(Relay.MapDirectory, BlockedMap.Name)));
            await using (var after = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, Guesser))
            {
                Assert.True(after.AdvertisesAuth);
                // Only the AUTH reply: what happens to mail after it is the policy service's (not built yet).
                Assert.Equal("235 2.7.0 Authentication successful", await after.AuthenticateAsync(relay.Alice, OutboundRelay.Password(relay.Alice)));
                Show(after);
            }
            Assert.Empty((await (await app.Operator().GetAsync("/api/admin/relay-blocks")).ReadJsonAsync()).EnumerateArray());
        }
        finally
        {
            await guard.StopAsync(default);
            // Whatever happened, the shared test relay blocks nobody afterwards.
            await new BlockedMap(options, new Commands(options)).WriteAsync([], default);
            output.WriteLine(string.Join('\n', logs.Lines));
        }
    }

    private static async Task<TableEntity?> RowAsync(TableClient rows, string relayId)
    {
        try
        {
            return (await rows.GetEntityAsync<TableEntity>(relayId, BlockReports.RowKey(Guesser))).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private void Show(Submission client) => output.WriteLine(client.Transcript);
}
