using System.Diagnostics;
using Azure;
using Azure.Data.Tables;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using RelayAgent;
using RelayAgent.Submission;
using RelayFunctions.RelayMap;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// Temporary blocks on the real relay: the agent's AuthGuard follows the test Postfix's mail log, and a client that fails
/// AUTH too often is refused from its first command on (main.cf: <c>check_client_access cdb:MAPS/blocked</c> with
/// <c>smtpd_delay_reject = no</c>), AUTH included, and operators see the block, until it ends. With limit 3, window 1 minute, block 5 seconds.
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
            // Refused at connect (main.cf: smtpd_delay_reject = no): the greeting is the 450, every command after it a 503,
            // AUTH with the right password included.
            var reply = $"450 4.7.1 <unknown[{Guesser}]>: Client host rejected: Temporarily blocked after repeated authentication failures";
            var plain = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"\0{relay.Alice}\0{OutboundRelay.Password(relay.Alice)}"));
            var auth = await RawAsync(Relay.Port, Guesser, "EHLO guesser", $"AUTH PLAIN {plain}");
            output.WriteLine(string.Join('\n', auth));
            Assert.Equal(reply, auth[0]);
            Assert.Equal([$"503 5.7.0 Error: access denied for unknown[{Guesser}]", $"503 5.7.0 Error: access denied for unknown[{Guesser}]"], auth.Skip(1));
            Assert.Contains($"{Guesser} {BlockedMap.Reply}\n", await File.ReadAllTextAsync(Path.Combine(Relay.MapDirectory, BlockedMap.Name)));
            var listed = (await (await app.Operator().GetAsync("/api/admin/relay-blocks")).ReadViewAsync<List<RelayBlock>>()).Single();
            output.WriteLine(listed.ToString());
            var mail = await RawAsync(Relay.SubmissionPort, Guesser, "EHLO guesser", "MAIL FROM:<someone@outside.example>");
            output.WriteLine(string.Join('\n', mail));
            Assert.Equal(reply, mail[0]);
            Assert.Equal([$"503 5.7.0 Error: access denied for unknown[{Guesser}]", $"503 5.7.0 Error: access denied for unknown[{Guesser}]"], mail.Skip(1));
            output.WriteLine($"Checked {blockedAt.Elapsed} after the block was reported.");
            await using (var elsewhere = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.42"))
            {
                Assert.True(elsewhere.AdvertisesAuth);
            }
            Assert.Equal("blocks-test", listed.Relay);
            Assert.Equal(Guesser, listed.Address);
            Assert.Equal(3, listed.Failures);
            Assert.Equal(1, listed.Level);
            Assert.Equal("3 failed authentications within 00:01:00", listed.Reason);
            Assert.Equal(row!.GetDateTimeOffset("Until"), listed.Until);
            Assert.InRange(row.GetDateTimeOffset("Until")!.Value - row.Timestamp!.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(5));

            await Eventually.WaitAsync(() => RowAsync(rows, options.RelayId), r => r is null, TimeSpan.FromSeconds(15), "the block to end");
            Assert.DoesNotContain(Guesser, await File.ReadAllTextAsync(Path.Combine(Relay.MapDirectory, BlockedMap.Name)));
            await using (var after = await Submission.ConnectAsync(Relay.SubmissionPort, SecureSocketOptions.StartTls, Guesser))
            {
                Assert.True(after.AdvertisesAuth);
                // AUTH works again (what happens to the mail after it is SubmissionEndToEndTests' subject).
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

    /// <summary>The greeting, then each command's reply (their last lines), in plain text from <paramref name="from"/>; a closed connection answers "".</summary>
    private static async Task<List<string>> RawAsync(int port, string from, params string[] commands)
    {
        using var client = new System.Net.Sockets.TcpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(from), 0));
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
        using var reader = new StreamReader(client.GetStream());
        var stream = client.GetStream();
        async Task<string> ReplyAsync()
        {
            string line;
            do
            {
                line = await reader.ReadLineAsync() ?? "";
            }
            while (line.Length > 3 && line[3] == '-');
            return line;
        }
        var replies = new List<string> { await ReplyAsync() };
        foreach (var command in commands)
        {
            try
            {
                await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(command + "\r\n"));
                replies.Add(await ReplyAsync());
            }
            catch (IOException)
            {
                break;
            }
        }
        return replies;
    }
}
