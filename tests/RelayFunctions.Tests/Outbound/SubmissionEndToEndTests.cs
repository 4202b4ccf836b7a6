using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using MailKit.Security;
using Microsoft.Extensions.Logging.Abstractions;
using RelayAgent;
using RelayAgent.Submission;
using RelayFunctions.Outbound;
using RelayFunctions.Tests.Alerts;
using RelayFunctions.Tests.Infrastructure;
using RelayFunctions.Tests.RelayMap;
using Xunit.Abstractions;
using static RelayFunctions.Tests.Infrastructure.EndToEndRelay;

namespace RelayFunctions.Tests.Outbound;

/// <summary>
/// What happens to a submitted message, end to end: accounts configured through the API, the map applied by the relay
/// agent to the private Postfix + Dovecot, the agent's submission filter (pipe service) and policy service in the path,
/// mail submitted with MailKit and received by the customer's server (the SMTP sink, which refuses <c>bad@</c> with 550
/// and <c>busy@</c> with 450).
/// </summary>
[Collection(PostfixRelay.Collection)]
public sealed class SubmissionEndToEndTests(ITestOutputHelper output)
{
    [Fact]
    public async Task CopiesRewritesVerificationUsageQuotaAndBlockListsOnTheRealRelay()
    {
        await using var sink = await SmtpSink.StartAsync("--refuse", "bad=550", "--refuse", "busy=450");
        await using var app = App();
        var blockList = Knot.NewName("bl");
        await Relay.Policy.UseAsync(o =>
        {
            o.Prefix = app.Prefix;
            o.DnsBlockLists = [blockList];
            o.DnsServers = [Knot.Endpoint];
        });
        try
        {
            await WithAgentAsync("submission-e2e", app, output, () => RunAsync(app, sink, blockList));
        }
        finally
        {
            await Relay.Policy.UseAsync(null);
        }
    }

    private async Task RunAsync(HelperApp app, SmtpSink sink, string blockList)
    {
        var id = Guid.NewGuid().ToString("N")[..6];
        var cust = $"cust-{id}.example";
        var api = await app.NewAccountAsync("subm", level: "standard");
        Assert.True((await api.PostAsJsonAsync("/api/domains", new { name = cust, mode = "redirect", destinationHost = "127.0.0.1", destinationPort = sink.Port })).IsSuccessStatusCode);
        await app.VerifyAsync("subm", cust);

        // The takeover attempt: another tenant's verified domain as the postmaster address is refused by the API, and an
        // address stored before that check (or at a domain lost since) never reaches the relays: the null sender below is
        // rewritten into the account's own verified domain, postmaster@ the login's domain (the primary address,
        // owner@subm.example, is at no verified domain either).
        var victimDomain = $"victim-{id}.example";
        var victim = await app.NewAccountAsync("subm-victim");
        Assert.True((await victim.PostAsJsonAsync("/api/domains", new { name = victimDomain, mode = "hold" })).IsSuccessStatusCode);
        await app.VerifyAsync("subm-victim", victimDomain);
        await (await api.PatchAsJsonAsync("/api/account", new { postmasterEmail = $"postmaster@{victimDomain}" })).AssertFieldErrorsAsync("postmasterEmail");
        var accountsTable = new TableClient(Azurite.ConnectionString, app.Prefix + "Accounts");
        var row = (await accountsTable.GetEntityAsync<TableEntity>("subm", "account")).Value;
        row["PostmasterEmail"] = $"postmaster@{victimDomain}";
        await accountsTable.UpdateEntityAsync(row, row.ETag, TableUpdateMode.Replace);
        string alice = $"alice@{cust}", gateway = $"gateway@{cust}", friend = $"friend@{cust}", archive = $"archive@{cust}", gone = $"bad@{cust}", sent = $"sent@{cust}";
        var created = await SucceededAsync<OutboundAccountView>(api.PostAsJsonAsync("/api/outbound-accounts", new
        {
            type = "single-address",
            address = alice,
            password = "alice's secret",
            allowIdentities = true,
            bccRecipients = new[] { archive, gone },
            mirrors = new[] { sent },
        }));
        var mirrorHeader = created.MirrorHeader;
        Assert.Equal(SubmissionFilter.MirrorHeader, mirrorHeader.Name);
        var mirrorToken = mirrorHeader.Value;
        await SucceededAsync<OutboundAccountView>(api.PostAsJsonAsync("/api/outbound-accounts", new { type = "mail-server", domain = cust, name = "gateway", password = "gateway's secret", ipv4Filter = "127.0.0.61" }));
        await Eventually.WaitAsync(() => Task.FromResult(Map("outbound_accounts")), m => m.Contains(gateway, StringComparison.Ordinal), TimeSpan.FromSeconds(60), "the accounts on the relay");
        await UntilAuthAsync(gateway, "gateway's secret", Relay.SubmissionPort, SecureSocketOptions.StartTls, "127.0.0.61", fresh: false);

        // 1. A message from alice: itself to its recipient, a copy to each BCC recipient, one to the mirror.
        var latency = Stopwatch.StartNew();
        await using (var client = await LoggedInAsync(alice, "alice's secret"))
        {
            Assert.StartsWith(Queued, await client.SendAsync(alice, friend));
            output.WriteLine(client.Transcript);
        }
        output.WriteLine($"first submission (sender verified by a probe): {latency.ElapsedMilliseconds} ms");
        var received = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count >= 3, TimeSpan.FromSeconds(30), "the message and its copies");
        await Task.Delay(1000);
        received = sink.Received();
        Assert.Equal(3, received.Count);
        var main = received.Single(r => To(r) == friend);
        Assert.Equal(alice, From(main));
        Assert.Null(main.Message.Headers[SubmissionFilter.BccHeader]);
        Assert.Null(main.Message.Headers[SubmissionFilter.MirrorHeader]);
        var bcc = received.Single(r => To(r) == archive);
        Assert.Matches(@"^bcc-bounce\+[a-z2-7]{12}\.[a-z2-7]{8}@relay\.test$", From(bcc));
        Assert.Equal(alice, bcc.Message.Headers[SubmissionFilter.BccHeader]);
        Assert.Equal(main.Message.MessageId, bcc.Message.MessageId);
        var mirror = received.Single(r => To(r) == sent);
        Assert.Equal(alice, From(mirror));
        Assert.Equal(mirrorToken, mirror.Message.Headers[SubmissionFilter.MirrorHeader]);

        // 2. The copy to bad@ bounced: the DSN came back to its bcc-bounce address, the agent handed it on, and the
        // control plane removed the recipient and says why.
        var forwarder = new BounceForwarder(new QueueClient(Azurite.ConnectionString, $"{app.Prefix}-bcc-bounces", new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }),
            new AgentOptions { BounceSpool = Path.Combine(Relay.ConfigDirectory, "bounces") }, TimeProvider.System, NullLogger<BounceForwarder>.Instance);
        var removed = await Eventually.WaitAsync(
            async () =>
            {
                await forwarder.ForwardAsync(default);
                return await SucceededAsync<OutboundAccountView>(api.GetAsync($"/api/outbound-accounts/{alice}"));
            },
            a => a.RemovedBccRecipients.Count == 1,
            TimeSpan.FromSeconds(60),
            "the bouncing BCC recipient to be removed");
        Assert.Equal(gone, removed.RemovedBccRecipients[0].Address);
        output.WriteLine($"removed: {removed.RemovedBccRecipients[0]}");
        Assert.Equal([archive], removed.BccRecipients);
        // The relay applies the change (and reloads) before the next steps, which time their messages.
        await Eventually.WaitAsync(() => Task.FromResult(Map("outbound_accounts")), m => !m.Contains(gone, StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the removal on the relay");
        await Eventually.WaitAsync(() => Task.FromResult(Applied()), a => a.Contains("\"Generation\"", StringComparison.Ordinal) && Map("outbound_accounts").Length > 0 && File.GetLastWriteTimeUtc(Path.Combine(Relay.MapDirectory, "applied.json")) >= File.GetLastWriteTimeUtc(Path.Combine(Relay.MapDirectory, "outbound_accounts")),
            TimeSpan.FromSeconds(30), "the agent to finish applying the removal");

        // 3. The null sender: rewritten into the account's verified domains (postmaster@ the login's domain here), no copies.
        await using (var client = await LoggedInAsync(alice, "alice's secret"))
        {
            Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<>"));
            Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<{friend}>"));
            Assert.StartsWith("354", await client.CommandAsync("DATA"));
            Assert.StartsWith(Queued, await client.CommandAsync($"From: <{alice}>\r\nSubject: null sender\r\n\r\nA notice.\r\n."));
        }
        // 4. A mail server's sender outside the account's domains: rewritten the same way.
        await using (var client = await LoggedInAsync(gateway, "gateway's secret", from: "127.0.0.61"))
        {
            var foreign = await client.SendAsync("someone@elsewhere.example", friend);
            output.WriteLine(foreign);
            Assert.StartsWith(Queued, foreign);
        }
        var rewritten = await Eventually.WaitAsync(() => Task.FromResult(sink.Received()), r => r.Count >= 5, TimeSpan.FromSeconds(60), "the rewritten messages");
        await Task.Delay(1000);
        rewritten = sink.Received();
        Assert.Equal(5, rewritten.Count);
        Assert.Equal([$"postmaster@{cust}", $"postmaster@{cust}"], rewritten.Skip(3).Select(From));
        Assert.DoesNotContain(sink.Received(), r => From(r).EndsWith(victimDomain, StringComparison.OrdinalIgnoreCase));
        Assert.Equal([friend, friend], rewritten.Skip(3).Select(To));

        // 5. Sender verification: an address the sender's server refuses is refused, the second time from the cache.
        var probe = Stopwatch.StartNew();
        string first, second;
        await using (var client = await LoggedInAsync(alice, "alice's secret"))
        {
            first = await client.SendAsync(gone, friend);
            var firstMs = probe.ElapsedMilliseconds;
            probe.Restart();
            second = await client.SendAsync(gone, friend);
            output.WriteLine($"unverifiable sender: first refusal {firstMs} ms (a probe), second {probe.ElapsedMilliseconds} ms (the cache)");
        }
        output.WriteLine(first);
        Assert.StartsWith($"550 5.7.1 <{alice}>: SASL login name rejected: Sender address <{gone}> rejected: undeliverable address: ", first);
        Assert.Contains("No such user", first, StringComparison.Ordinal);
        Assert.Equal(first, second);
        // 6. A temporary refusal (busy@) is 450; with "always 5xx", the same is 550.
        string automatic, always;
        await using (var client = await LoggedInAsync(alice, "alice's secret"))
        {
            automatic = await client.SendAsync($"busy@{cust}", friend);
        }
        Assert.StartsWith($"450 4.7.1 <{alice}>: SASL login name rejected: Sender address <busy@{cust}> rejected: unverified address", automatic);
        var etag = (await api.GetAsync($"/api/outbound-accounts/{alice}")).Headers.ETag!.Tag;
        Assert.True((await api.SendAsync(HttpMethod.Patch, $"/api/outbound-accounts/{alice}", new { submissionErrors = "always-5xx" }, etag)).IsSuccessStatusCode);
        await Eventually.WaitAsync(() => Task.FromResult(Map("outbound_accounts")), m => m.Contains("always-5xx", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "always-5xx on the relay");
        await using (var client = await LoggedInAsync(alice, "alice's secret"))
        {
            always = await client.SendAsync($"busy@{cust}", friend);
        }
        Assert.Equal(automatic.Replace("450 4.7.1", "550 5.7.1", StringComparison.Ordinal), always);
        output.WriteLine(automatic + "\n" + always);

        // 7. The quota counts every relay: another relay counted all but nine of the day's messages (this one counted six:
        // alice's first message and its three copies, her null sender's message, the gateway's first). The relay reads
        // the others' counts at most every 5 s. So three more messages fit, the fourth is refused (4xx, until tomorrow).
        const int quota = 5_000;
        var usage = new TableClient(Azurite.ConnectionString, app.Prefix + "OutboundUsage");
        await usage.UpsertEntityAsync(new TableEntity($"subm|{DateTime.UtcNow:yyyyMMdd}", $"{gateway}|other-relay") { ["Messages"] = (long)(quota - 9) });
        await Task.Delay(TimeSpan.FromSeconds(5.5));
        var replies = new List<string>();
        await using (var client = await LoggedInAsync(gateway, "gateway's secret", from: "127.0.0.61"))
        {
            for (var i = 0; i < 4; i++)
            {
                replies.Add(await client.SendAsync(gateway, friend));
            }
        }
        Assert.All(replies.Take(3), r => Assert.StartsWith(Queued, r));
        Assert.Equal($"450 4.7.1 <{gateway}>: SASL login name rejected: Daily limit of {quota} messages (copies included) reached for this account; try again after 00:00 UTC", replies[3]);

        // 8. Usage, exact: alice 2 messages (the first with 3 copies, the null sender none), the gateway 1 + 3, one refused.
        var day = await Eventually.WaitAsync(
            async () => (await SucceededAsync<UsageView>(api.GetAsync("/api/account/usage?days=1"))).Days[0],
            d => d.Total.Refused == 1 && d.Logins.Count == 2,
            TimeSpan.FromSeconds(30), "the usage to be written");
        output.WriteLine(JsonSerializer.Serialize(day, ApiJson.Options));
        var byLogin = day.Logins.ToDictionary(l => l.Login, l => l.Usage);
        Assert.Equal(2, byLogin[alice].Messages);
        Assert.Equal(2, byLogin[alice].Recipients);
        Assert.Equal(3, byLogin[alice].Copies);
        Assert.Equal(quota - 9 + 1 + 3, byLogin[gateway].Messages);
        Assert.Equal(1, byLogin[gateway].Refused);

        // 9. A client address on the block list is refused.
        await Knot.SetAsync($"62.0.0.127.{blockList}", 60, "127.0.0.2");
        await using (var client = await LoggedInAsync(alice, "alice's secret", from: "127.0.0.62"))
        {
            Assert.Equal($"554 5.7.1 <{alice}>: SASL login name rejected: Service unavailable; client [127.0.0.62] blocked using {blockList}", await client.SendAsync(alice, friend));
        }

        // The relay's own name takes bounces of BCC copies only.
        await using (var client = await Submission.ConnectAsync(Relay.Port, SecureSocketOptions.None))
        {
            Assert.Equal("550 5.1.1 <nobody@relay.test>: Recipient address rejected: User unknown in relay recipient table",
                await client.SendAsync("someone@outside.example", "nobody@relay.test"));
        }

        // Every message is accounted for: 3 + 2 + 3 delivered, nothing else (refusals were at SMTP time).
        await Task.Delay(2000);
        Assert.Equal(8, sink.Received().Count);
    }

}
