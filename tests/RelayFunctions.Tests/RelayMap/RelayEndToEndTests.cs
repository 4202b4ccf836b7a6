using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using MailKit.Net.Smtp;
using MimeKit;
using RelayAgent;
using RelayFunctions.Tests.Alerts;
using RelayFunctions.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RelayFunctions.Tests.RelayMap;

/// <summary>
/// Real mail end to end on loopback: the app standalone (Azurite, Knot), the relay agent applying the published map
/// to a real Postfix, and the customer's server (an SMTP sink). A held domain's mail is accepted and kept; when its
/// helper's name gets an address the mail arrives, byte for byte; when the address goes, new mail is held again.
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed class RelayEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task HeldMailIsAcceptedKeptAndDeliveredWhenTheDestinationAppearsThenHeldAgain()
    {
        await using var sink = await SmtpSink.StartAsync();
        await using var app = new HelperApp(
        [
            new("RelayMap:Schedule", "* * * * * *"),
            new("Destinations:AllowedRanges:0", "127.0.0.0/8"),
            // Retry an invalid name every second instead of every hour, so the test sees the next tick react.
            new("Helpers:InvalidRetry", "00:00:01"),
        ]);
        var routers = Relay.RoutingProcesses();
        await using var agent = await StartAgentAsync(app.Prefix);

        var client = await app.NewAccountAsync("e2e");
        var domain = $"e2e-{Guid.NewGuid().ToString("N")[..8]}.example";
        (await client.PostAsJsonAsync("/api/domains", new { name = domain, mode = "hold", recipients = new[] { $"alice@{domain}" } })).EnsureSuccessStatusCode();
        await app.VerifyAsync("e2e", domain);
        var host = Knot.NewName("e2e");
        await HelperApp.AttachAsync(client, domain, host, sink.Port);
        await HeldByRelayAsync(domain, routers, agent.Logs);

        // 1. Held: accepted with 250 and kept in the queue.
        var message = Message(domain, "first");
        await SendAsync(message);
        var sent = Bytes(message);
        await Task.Delay(3000);
        Assert.Empty(sink.Received());
        Assert.Contains($"alice@{domain}", await Relay.QueueAsync());

        // 4. Unknown recipients and oversized mail are refused at the door.
        Assert.StartsWith("550", await RawSmtpAsync($"MAIL FROM:<s@sender.example>", $"RCPT TO:<bob@{domain}>"));
        Assert.StartsWith("552", await RawSmtpAsync($"MAIL FROM:<s@sender.example> SIZE={11 * 1024 * 1024}"));

        // 2. The name gets an address: the held message arrives, byte for byte.
        var watch = Stopwatch.StartNew();
        await Knot.SetAsync(host, 2, "127.0.0.1");
        var delivered = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count == 1, TimeSpan.FromSeconds(90), "delivery");
        output.WriteLine($"DNS change to delivery: {watch.Elapsed.TotalSeconds:F1} s");
        var received = File.ReadAllBytes(Directory.GetFiles(sink.Folder, "*.eml").Single());
        Assert.True(EndsWith(Crlf(received), Crlf(sent)), "the delivered message is not the message that was sent (after the relay's Received header)");
        Assert.Equal($"alice@{domain}", delivered[0].Envelope.GetProperty("to")[0].GetString());

        // 3. The address is withdrawn: new mail is accepted and held again. The qmgr that delivered remembers where
        // alice's mail went, and its trivial-rewrite has the old transport open, until the agent's reload replaces them.
        routers = Relay.RoutingProcesses();
        await Knot.DeleteAsync(host);
        await HelperApp.RoutingAsync(client, domain, "hold", seconds: 120);
        await HeldByRelayAsync(domain, routers, agent.Logs);
        await SendAsync(Message(domain, "second"));
        await Task.Delay(3000);
        Assert.Single(sink.Received());
        Assert.Contains($"alice@{domain}", await Relay.QueueAsync());
    }

    /// <summary>
    /// Waits until the relay holds the domain: the agent has applied a generation that holds it (the agent records that
    /// after "postfix reload"), and the qmgr and trivial-rewrite processes that routed mail before (<paramref name="before"/>)
    /// are gone, so queued mail is routed with the new transport. The transport file alone appears before the reload.
    /// An agent that never gets there leaves its log in the test output.
    /// </summary>
    private async Task HeldByRelayAsync(string domain, IReadOnlySet<int> before, CapturingLogs agentLogs)
    {
        try
        {
            await Eventually.WaitAsync(() => Task.FromResult(AgentHeld()), held => held.Split(' ').Contains(domain), TimeSpan.FromSeconds(60),
                "the agent to apply a generation that holds the domain");
        }
        catch (Xunit.Sdk.XunitException)
        {
            output.WriteLine(string.Join('\n', agentLogs.Lines));
            throw;
        }
        Assert.Contains($"{domain} hold:", ReadMap("transport"));
        await Eventually.WaitAsync(() => Task.FromResult(string.Join(' ', Relay.RoutingProcesses().Intersect(before))), left => left.Length == 0,
            TimeSpan.FromSeconds(30), "Postfix to replace the qmgr and trivial-rewrite processes that routed before the reload");
    }

    /// <summary>The domains the relay's live transport table holds.</summary>
    private static string AgentHeld() => string.Join(' ', TestAgent.Held(Relay.MapDirectory));

    /// <summary>The live lmdb table as "key value" lines (deltas change it in place; its source file is the last snapshot's).</summary>
    private static string ReadMap(string table)
    {
        var path = Path.Combine(Relay.MapDirectory, table);
        return File.Exists(path + ".lmdb") ? string.Join('\n', LmdbTable.Entries(path).Select(e => $"{e.Key} {e.Value}")) : "";
    }

    private static async Task<AsyncAgent> StartAgentAsync(string prefix)
    {
        File.Delete(Path.Combine(Relay.MapDirectory, "applied.json"));
        var logs = new CapturingLogs();
        var (worker, _) = TestAgent.Create(new AgentOptions
        {
            RelayId = "e2e-relay",
            Prefix = prefix,
            MapDirectory = Relay.MapDirectory,
            PostfixConfigDirectory = Relay.ConfigDirectory,
            PollInterval = TimeSpan.FromSeconds(1),
        }, logs: logs);
        await worker.StartAsync(default);
        return new AsyncAgent(worker, logs);
    }

    private sealed class AsyncAgent(AgentWorker worker, CapturingLogs logs) : IAsyncDisposable
    {
        public CapturingLogs Logs => logs;

        public async ValueTask DisposeAsync() => await worker.StopAsync(default);
    }

    internal static MimeMessage Message(string domain, string text)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("sender@outside.example"));
        message.To.Add(MailboxAddress.Parse($"alice@{domain}"));
        message.Subject = $"Held {text}";
        message.MessageId = $"{Guid.NewGuid():N}@outside.example";
        message.Date = DateTimeOffset.UtcNow;
        message.Body = new TextPart("plain") { Text = $"Hello Alice, this is the {text} message.\nÜmlauts and a long line {new string('x', 120)}\n" };
        return message;
    }

    /// <summary>
    /// Sends over port 25. A Postfix smtpd process notices a changed table only after the session it is serving, so a
    /// domain the agent has just added may still be refused once ("Relay access denied"); that alone is retried.
    /// </summary>
    internal static async Task SendAsync(MimeMessage message)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var smtp = new SmtpClient();
            await smtp.ConnectAsync("127.0.0.1", Relay.Port, MailKit.Security.SecureSocketOptions.None);
            try
            {
                await smtp.SendAsync(message);
                await smtp.DisconnectAsync(true);
                return;
            }
            catch (SmtpCommandException e) when (attempt < 10 && e.Message.Contains("Relay access denied", StringComparison.Ordinal))
            {
                await Task.Delay(500);
            }
        }
    }

    private static byte[] Bytes(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(new FormatOptions { NewLineFormat = NewLineFormat.Dos }, stream);
        return stream.ToArray();
    }

    /// <summary>Sends commands after EHLO and returns the reply to the last one.</summary>
    private static async Task<string> RawSmtpAsync(params string[] commands)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", Relay.Port);
        using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        async Task<string> ReplyAsync()
        {
            string line;
            do
            {
                line = (await reader.ReadLineAsync())!;
            }
            while (line.Length > 3 && line[3] == '-');
            return line;
        }
        await ReplyAsync();
        await writer.WriteLineAsync("EHLO tester.example");
        await ReplyAsync();
        var last = "";
        foreach (var command in commands)
        {
            await writer.WriteLineAsync(command);
            last = await ReplyAsync();
        }
        await writer.WriteLineAsync("QUIT");
        return last;
    }

    private static byte[] Crlf(byte[] bytes) => Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(bytes).Replace("\r\n", "\n").Replace("\n", "\r\n"));

    private static bool EndsWith(byte[] whole, byte[] tail) => whole.Length >= tail.Length && whole.AsSpan(whole.Length - tail.Length).SequenceEqual(tail);
}
